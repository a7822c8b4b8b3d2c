/**
 * The one error type of client/crypto. Messages start with the function name and never
 * contain key material or plaintext; `code` is stable for callers to branch on. The parsers of
 * codes a person types (parseInviteCode, parseRecoveryCode) are the exception: their messages
 * are written to be shown as they are ("the recovery code has 30 characters, ...").
 */
export type CryptoErrorCode =
  | "invalid-input" // wrong length, bad base64, forbidden character in a context field, ...
  | "malformed" // a sealed field, envelope, keystore file, key backup or backup document that cannot be parsed
  | "unsupported-version" // a version byte / field we do not know
  | "epoch-mismatch" // sealed field header names another epoch than the key supplied
  | "key-mismatch" // a search cache segment names another cache key than the one supplied
  | "invalid-public-key" // X25519 produced the all-zero secret (RFC 7748 §6.1) or failed
  | "decrypt-failed"; // AES-GCM authentication failed: wrong key, wrong AAD or tampering

export class CryptoError extends Error {
  override readonly name = "CryptoError";
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
