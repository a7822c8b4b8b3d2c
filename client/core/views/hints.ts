// How a view points at a command: each front end words its own commands (the CLI's
// "dialtone verify bob", the UI's "/verify bob"); the sentences around them are shared.
export interface CommandHints {
  /** The command that lists devices. */
  readonly devices: string;
  /** The command that shows the safety number with `user`. */
  verify(user: string): string;
  /** The command that records `user` as verified at the number shown. */
  confirmVerified(user: string): string;
}
