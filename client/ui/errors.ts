// One line for any error a background task can raise, in the UI's words (no "run dialtone ..."
// hints meant for scripts, no stack).
import { ApiError, ConnectionError, isWrongCredentials, SessionError, UsageError } from "../core/index.js";
import { KeystoreError } from "../keystore/index.js";

export function errorText(err: unknown): string {
  if (err instanceof UsageError) return err.candidates.length > 0 ? `${err.message}: ${err.candidates.join(", ")}` : err.message;
  if (err instanceof ConnectionError) return err.message; // worded once in client/core for the CLI and the UI
  if (err instanceof ApiError) {
    if (err.code === "unavailable")
      return err.message === "cannot reach the server" ? "cannot reach the server" : `server unavailable: ${err.message}`;
    if (isWrongCredentials(err)) return err.message;
    if (err.code === "unauthenticated") return `${err.message} (log in again)`;
    if (err.code === "permission-denied") return err.message || "admin only";
    return err.message || err.code;
  }
  if (err instanceof SessionError && err.code === "already-logged-in")
    return "this config dir already has a session on that server: use Login (ctrl+r)";
  if (err instanceof KeystoreError) {
    if (err.code === "wrong-passphrase") return "wrong keystore passphrase";
    if (err.code === "weak-passphrase") return "keystore passphrase must be at least 8 characters";
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
