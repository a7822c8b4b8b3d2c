// Context values set by the request gate (gate.ts) and read by the handlers.
import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Caller } from "../domain/deps.js";

export type AdminToken = "absent" | "valid" | "invalid";

export const kCaller = createContextKey<Caller | undefined>(undefined, { description: "authenticated caller" });
export const kAdminToken = createContextKey<AdminToken>("absent", { description: "X-Admin-Token check" });
export const kPeer = createContextKey<string>("unknown", { description: "client address" });

/** The header the HTTP layer sets from the socket (any client-sent value is overwritten). */
export const PEER_HEADER = "x-dialtone-peer";

export function requireCaller(ctx: HandlerContext): Caller {
  const caller = ctx.values.get(kCaller);
  if (!caller) throw unauthenticatedError(!!ctx.requestHeader.get("authorization"));
  return caller;
}

/** The error for a call without a valid session (`sent`: an Authorization header came). */
export function unauthenticatedError(sent: boolean): ConnectError {
  return new ConnectError(
    sent ? "invalid or expired session" : "missing session: send Authorization: Bearer <token>",
    Code.Unauthenticated,
  );
}

/** An admin: a valid X-Admin-Token, or an admin account's session. */
export function requireAdmin(ctx: HandlerContext): { caller: Caller | undefined } {
  const token = ctx.values.get(kAdminToken);
  if (token === "valid") return { caller: ctx.values.get(kCaller) };
  if (token === "invalid") throw new ConnectError("wrong admin token", Code.PermissionDenied);
  const caller = ctx.values.get(kCaller);
  if (!caller) throw adminRequiredError();
  if (!caller.isAdmin) throw new ConnectError("admin required", Code.PermissionDenied);
  return { caller };
}

/** The error for an admin call that came with neither a session nor an admin token. */
export function adminRequiredError(): ConnectError {
  return new ConnectError("admin required: send X-Admin-Token or an admin's Authorization: Bearer session", Code.Unauthenticated);
}
