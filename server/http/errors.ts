// Maps every error an RPC can raise to a Connect error. Unknown errors become
// `internal` with an id; the log gets the id, the error's name and stack frames,
// never its message (a database error message can hold query parameters).
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { DomainError, type ErrorCode } from "../domain/errors.js";
import { RevokedError, SessionEndedError } from "../events/feed.js";
import { SlowSubscriberError } from "../events/subscriber.js";
import type { Logger } from "../log.js";

export class ShutdownError extends Error {
  override readonly name = "ShutdownError";
  constructor() {
    super("server shutting down; reconnect");
  }
}

const CODES: Record<ErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  permission_denied: Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
  failed_precondition: Code.FailedPrecondition,
  aborted: Code.Aborted,
  resource_exhausted: Code.ResourceExhausted,
};

export function toConnectError(err: unknown, log: Logger, method: string): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof DomainError) return new ConnectError(err.message, CODES[err.code]);
  if (err instanceof SlowSubscriberError) return new ConnectError(err.message, Code.ResourceExhausted);
  if (err instanceof RevokedError) return new ConnectError("device revoked", Code.PermissionDenied);
  if (err instanceof SessionEndedError) return new ConnectError(err.message, Code.Unauthenticated);
  if (err instanceof ShutdownError) return new ConnectError(err.message, Code.Unavailable);
  const id = randomUUID();
  const e = err as { name?: string; stack?: string; code?: unknown; cause?: { code?: unknown } };
  log.error("internal error", {
    error_id: id,
    method,
    name: e?.name ?? typeof err,
    pg_code: String(e?.code ?? e?.cause?.code ?? ""),
    // Only "at ..." lines: a query error's message (with its parameters) spans several lines.
    frames: e?.stack
      ?.split("\n")
      .filter((l) => /^\s+at /.test(l))
      .slice(0, 5)
      .map((l) => l.trim())
      .join(" | "),
  });
  return new ConnectError(`internal error (id ${id})`, Code.Internal);
}
