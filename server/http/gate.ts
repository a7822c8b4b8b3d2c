// Who may have their request body read. connect-node runs this gate after the headers and before
// it reads, decompresses or parses a body (its `requestGate`): a call without a session, with a
// wrong admin token, or over its address's limit for unauthenticated calls is refused for the
// price of a header check, however large the body it sends.
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { Deps } from "../domain/deps.js";
import { secretEquals } from "../domain/tokens.js";
import type { Logger } from "../log.js";
import { finishCall } from "./calls.js";
import { adminRequiredError, kAdminToken, kCaller, kPeer, PEER_HEADER, unauthenticatedError } from "./context.js";
import type { Metrics } from "./metrics.js";
import { authenticate, type SessionCache } from "./sessions.js";

/** The calls made before there is a session. Those that hash a password are also limited per client address (PASSWORD_METHODS below; login-backoff.ts per account); GetRoot is not, it reads one public row. */
export const UNAUTHENTICATED_METHODS: ReadonlySet<string> = new Set([
  "dialtone.v1.AuthService/Register",
  "dialtone.v1.AuthService/Login",
  "dialtone.v1.IdentityService/GetRoot",
]);

/** Calls counted by the per-address limit (DIALTONE_AUTH_RATE_PER_IP): each may hash a password. */
const PASSWORD_METHODS: ReadonlySet<string> = new Set(["dialtone.v1.AuthService/Register", "dialtone.v1.AuthService/Login"]);

/** Services whose calls an admin token may make without a session (context.ts requireAdmin). */
const ADMIN_SERVICES: ReadonlySet<string> = new Set(["dialtone.v1.AdminService", "dialtone.v1.InviteService"]);

/** Services anyone may ask, with or without a session (server reflection: it describes the public schema). */
const OPEN_SERVICES: ReadonlySet<string> = new Set(["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);

/**
 * Largest request body of a call made without a session. A Register or Login request is a few
 * hundred bytes; the 1 MiB limit of other calls is for sessions the server knows.
 */
export const UNAUTHENTICATED_READ_MAX_BYTES = 16 * 1024;

export function requestGate(deps: Deps, sessions: SessionCache, log: Logger, metrics: Metrics): (ctx: HandlerContext) => Promise<void> {
  return async (ctx) => {
    const start = performance.now();
    const method = `${ctx.service.typeName}/${ctx.method.name}`;
    try {
      await admit(deps, sessions, ctx, method);
    } catch (err) {
      // Interceptors never see a call the gate refused: it is logged and counted here.
      const ce = ConnectError.from(err);
      finishCall(log, metrics, method, ce, start);
      throw ce;
    }
  };
}

async function admit(deps: Deps, sessions: SessionCache, ctx: HandlerContext, method: string): Promise<void> {
  const peer = ctx.requestHeader.get(PEER_HEADER) ?? "unknown";
  ctx.values.set(kPeer, peer);
  if (OPEN_SERVICES.has(ctx.service.typeName)) return;
  if (UNAUTHENTICATED_METHODS.has(method)) {
    if (PASSWORD_METHODS.has(method) && !deps.limits.perIp.hit(`ip:${peer}`)) {
      throw new ConnectError("too many login or registration attempts; wait a minute", Code.ResourceExhausted);
    }
    return;
  }
  const admin = ctx.requestHeader.get("x-admin-token");
  if (admin !== null) {
    const valid = secretEquals(admin.trim(), deps.secrets.adminToken);
    if (!valid) throw new ConnectError("wrong admin token", Code.PermissionDenied);
    ctx.values.set(kAdminToken, "valid");
  }
  const authorization = ctx.requestHeader.get("authorization");
  const caller = await authenticate(sessions, authorization);
  ctx.values.set(kCaller, caller);
  if (caller || admin !== null) return;
  throw ADMIN_SERVICES.has(ctx.service.typeName) ? adminRequiredError() : unauthenticatedError(!!authorization);
}
