// Domain errors carry an API error code without depending on Connect; the error
// call interceptor (server/http/calls.ts) turns them into ConnectErrors.
import { Refusal, type RefusalReason } from "../db/refusal.js";

export type ErrorCode =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "permission_denied"
  | "unauthenticated"
  | "failed_precondition"
  | "aborted"
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

export const invalid = (field: string, problem: string) => new DomainError("invalid_argument", `${field}: ${problem}`);
/** `field: what not found`, naming the request field that held the unknown id. */
export const notFound = (what: string, field?: string) =>
  new DomainError("not_found", field ? `${field}: ${what} not found` : `${what} not found`);
export const denied = (why: string) => new DomainError("permission_denied", why);
/** A compare-and-set lost to another writer: the caller reads again and retries. */
export const aborted = (field: string, problem: string) => new DomainError("aborted", `${field}: ${problem}`);

const REFUSALS: Record<RefusalReason, () => DomainError> = {
  username_taken: () => new DomainError("already_exists", "username: already taken"),
  device_key_of_another_account: () =>
    new DomainError("already_exists", "device_public_key: the device of another account; this install needs a device key of its own"),
  device_revoked: () => new DomainError("permission_denied", "device_public_key: this device was revoked"),
  invite_unknown: () => new DomainError("not_found", "invite_token: unknown invite"),
  invite_revoked: () => new DomainError("failed_precondition", "invite_token: invite revoked"),
  invite_expired: () => new DomainError("failed_precondition", "invite_token: invite expired"),
  invite_used: () => new DomainError("failed_precondition", "invite_token: invite already used"),
};

/** Awaits a repository write, saying a refusal of the database (server/db/refusal.ts) as a domain error. */
export async function refusable<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    throw err instanceof Refusal ? REFUSALS[err.reason]() : err;
  }
}
