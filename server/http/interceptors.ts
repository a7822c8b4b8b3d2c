// Auth for connect-node's calls (errors, logging and metrics: calls.ts).
import type { Interceptor } from "@connectrpc/connect";
import type { Deps } from "../domain/deps.js";
import { secretEquals } from "../domain/tokens.js";
import { kAdminToken, kCaller, kPeer, PEER_HEADER } from "./context.js";
import { authenticate, type SessionCache } from "./sessions.js";

const NO_SESSION = new Set(["Register", "Login", "GetRoot"]);

/** Resolves `Authorization: Bearer` and `X-Admin-Token` once per call into context values. */
export function auth(deps: Deps, sessions: SessionCache): Interceptor {
  return (next) => async (req) => {
    req.contextValues.set(kPeer, req.header.get(PEER_HEADER) ?? "unknown");
    const admin = req.header.get("x-admin-token");
    if (admin !== null) req.contextValues.set(kAdminToken, secretEquals(admin.trim(), deps.secrets.adminToken) ? "valid" : "invalid");
    if (!NO_SESSION.has(req.method.name)) req.contextValues.set(kCaller, await authenticate(sessions, req.header.get("authorization")));
    return next(req);
  };
}
