// Domain errors carry an API error code without depending on Connect; the error
// interceptor (server/http/interceptors.ts) turns them into ConnectErrors.
export type ErrorCode =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "permission_denied"
  | "unauthenticated"
  | "failed_precondition"
  | "resource_exhausted";

export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (field: string, problem: string) =>
  new DomainError("invalid_argument", `${field}: ${problem}`);
/** `field: what not found`, naming the request field that held the unknown id. */
export const notFound = (what: string, field?: string) =>
  new DomainError("not_found", field ? `${field}: ${what} not found` : `${what} not found`);
export const denied = (why: string) => new DomainError("permission_denied", why);
