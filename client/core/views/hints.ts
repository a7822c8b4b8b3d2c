// How a view points at a command: each front end words its own commands (the CLI's
// "dialtone verify bob", the UI's "/verify bob"); the sentences around them are shared.
export interface CommandHints {
  /** The command that lists devices. */
  readonly devices: string;
  /** The command that shows the safety number with `user`. */
  verify(user: string): string;
  /** The command that records `user` as verified at the number shown. */
  confirmVerified(user: string): string;
  /** The command that approves a new device of one's own by its fingerprint. */
  approve(fingerprint: string): string;
  /** The command that admits a pending member (admins). */
  admit(user: string): string;
  /** The command that restores the identity from the recovery code on this device. */
  readonly recover: string;
}
