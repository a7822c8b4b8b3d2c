// The typed errors of client/core. Each class maps to one exit code of the CLI and one kind of
// message in the UI: the server said no (ApiError), a key problem (KeyError), the caller asked
// for something that cannot be (UsageError), or there is no usable session (SessionError).
import { Code, ConnectError } from "@connectrpc/connect";

/** Connect codes, kebab-cased. "unavailable" also covers "cannot reach the server". */
export type ApiErrorCode =
  | "canceled"
  | "unknown"
  | "invalid-argument"
  | "deadline-exceeded"
  | "not-found"
  | "already-exists"
  | "permission-denied"
  | "resource-exhausted"
  | "failed-precondition"
  | "aborted"
  | "out-of-range"
  | "unimplemented"
  | "internal"
  | "unavailable"
  | "data-loss"
  | "unauthenticated";

const API_CODES: Record<Code, ApiErrorCode> = {
  [Code.Canceled]: "canceled",
  [Code.Unknown]: "unknown",
  [Code.InvalidArgument]: "invalid-argument",
  [Code.DeadlineExceeded]: "deadline-exceeded",
  [Code.NotFound]: "not-found",
  [Code.AlreadyExists]: "already-exists",
  [Code.PermissionDenied]: "permission-denied",
  [Code.ResourceExhausted]: "resource-exhausted",
  [Code.FailedPrecondition]: "failed-precondition",
  [Code.Aborted]: "aborted",
  [Code.OutOfRange]: "out-of-range",
  [Code.Unimplemented]: "unimplemented",
  [Code.Internal]: "internal",
  [Code.Unavailable]: "unavailable",
  [Code.DataLoss]: "data-loss",
  [Code.Unauthenticated]: "unauthenticated",
};

/** The server refused a call, or could not be reached. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly code: ApiErrorCode;
  constructor(code: ApiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A refused Login (wrong username or password), as opposed to a session that ended: the one
 * `unauthenticated` answer where "log in again" is no advice (the user just tried).
 */
export function isWrongCredentials(err: unknown): boolean {
  return err instanceof ApiError && err.code === "unauthenticated" && err.message === "wrong username or password";
}

/** Any error thrown by a Connect call, as an ApiError (other errors pass through unchanged). */
export function toApiError(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  if (err instanceof ConnectError) {
    const code = API_CODES[err.code] ?? "unknown";
    // rawMessage is the server's text without the "[code]" prefix ConnectError adds.
    const text =
      code === "unavailable" && /ECONNREFUSED|ECONNRESET|socket hang up|fetch failed/i.test(err.rawMessage)
        ? "cannot reach the server"
        : err.rawMessage;
    return new ApiError(code, text, { cause: err });
  }
  return err;
}

export type KeyErrorCode =
  | "missing-key" // no key shared with this device yet
  | "device-key-changed" // the server shows another key for a pinned device: refused
  | "rejected-key" // an envelope did not open, or its key failed confirmation
  | "undecryptable"; // a sealed field did not open with the key we hold

/** A key is missing, refused or rejected: the CLI exits 3 on it. */
export class KeyError extends Error {
  override readonly name = "KeyError";
  readonly code: KeyErrorCode;
  constructor(code: KeyErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export type UsageErrorCode =
  | "invalid-input"
  | "unknown-channel"
  | "ambiguous-channel"
  | "unknown-user"
  | "ambiguous-user"
  | "unknown-device"
  | "ambiguous-device";

/** The request cannot be satisfied as asked (bad argument, ambiguous name): CLI exit 1. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly code: UsageErrorCode;
  /** For ambiguous names: the candidates, as "name (short id)". */
  readonly candidates: readonly string[];
  constructor(code: UsageErrorCode, message: string, candidates: readonly string[] = []) {
    super(message);
    this.code = code;
    this.candidates = candidates;
  }
}

export type SessionErrorCode = "not-logged-in" | "already-logged-in" | "expired" | "keystore-of-another-account" | "wrong-community";

/** No usable session in the keystore: CLI exit 2. */
export class SessionError extends Error {
  override readonly name = "SessionError";
  readonly code: SessionErrorCode;
  constructor(code: SessionErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
