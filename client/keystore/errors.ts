/** Errors of the keystore layer; `code` is stable, messages name files but never secrets. */
export type KeystoreErrorCode =
  | "not-found" // no keystore for this server yet
  | "exists" // create() over an existing keystore
  | "wrong-passphrase" // authentication failed: wrong passphrase or a modified file
  | "corrupted" // decrypted, but the inner document is not a keystore we understand
  | "unsupported-version" // written by a newer dialtone
  | "invalid-origin" // not an http(s) URL
  | "weak-passphrase" // shorter than MIN_PASSPHRASE_LENGTH on create / change
  | "key-conflict" // a different key for a channel/directory epoch we already hold
  | "unsafe-path" // a directory, file or socket another user owns or may write to
  | "invalid-input";

export class KeystoreError extends Error {
  override readonly name = "KeystoreError";
  readonly code: KeystoreErrorCode;

  constructor(code: KeystoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
