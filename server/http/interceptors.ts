// Cross-cutting RPC concerns: error mapping with request logging, and auth.
import type { Interceptor } from "@connectrpc/connect";
import type { Deps } from "../domain/deps.js";
import { secretEquals } from "../domain/tokens.js";
import { kAdminToken, kCaller, kPeer, PEER_HEADER } from "./context.js";
import { toConnectError } from "./errors.js";
import { sessionCache } from "./sessions.js";

const NO_SESSION = new Set(["Register", "Login"]);

/** Outermost: logs each call (method, code, duration) and maps errors, for unary and streams. */
export function errorsAndLogging(deps: Deps): Interceptor {
  return (next) => async (req) => {
    const method = `${req.service.typeName}/${req.method.name}`;
    const start = performance.now();
    const done = (code: string) =>
      deps.log.debug("rpc", { method, code, ms: Math.round((performance.now() - start) * 10) / 10 });
    try {
      const res = await next(req);
      if (!res.stream) {
        done("ok");
        return res;
      }
      const inner = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* inner;
            done("ok");
          } catch (err) {
            const ce = toConnectError(err, deps.log, method);
            done(String(ce.code));
            throw ce;
          }
        })(),
      };
    } catch (err) {
      const ce = toConnectError(err, deps.log, method);
      done(String(ce.code));
      throw ce;
    }
  };
}

/** Resolves `Authorization: Bearer` and `X-Admin-Token` once per call into context values. */
export function auth(deps: Deps): Interceptor {
  const sessions = sessionCache(deps);
  return (next) => async (req) => {
    req.contextValues.set(kPeer, req.header.get(PEER_HEADER) ?? "unknown");
    const admin = req.header.get("x-admin-token");
    if (admin !== null) req.contextValues.set(kAdminToken, secretEquals(admin.trim(), deps.secrets.adminToken) ? "valid" : "invalid");
    if (!NO_SESSION.has(req.method.name)) {
      const m = /^bearer\s+(\S+)$/i.exec(req.header.get("authorization")?.trim() ?? "");
      if (m) req.contextValues.set(kCaller, await sessions.resolve(m[1]!));
    }
    return next(req);
  };
}
