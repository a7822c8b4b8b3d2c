// The end of every RPC, however it was served (connect-node through the interceptor below,
// or the Subscribe fast path, server/services/event/fast-path.ts): errors mapped to Connect
// codes, one log line, the call metrics.
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { Logger } from "../log.js";
import { toConnectError } from "./errors.js";
import type { Metrics } from "./metrics.js";

/** One finished call: its log line and its metrics. `startedAt` is a performance.now() reading. */
export function finishCall(
  log: Logger,
  metrics: Metrics,
  method: string,
  outcome: "ok" | "canceled" | ConnectError,
  startedAt: number,
): void {
  const code = outcome instanceof ConnectError ? codeToString(outcome.code) : outcome;
  const ms = performance.now() - startedAt;
  log.debug("rpc", { method, code, ms: Math.round(ms * 10) / 10 });
  metrics.recordCall(method, code, ms / 1000);
}

/**
 * Outermost interceptor: maps errors (unary and streams), counts the events a stream sends,
 * and finishes each call once (a stream when it ends, however it ends).
 */
export function callInterceptor(log: Logger, metrics: Metrics): Interceptor {
  return (next) => async (req) => {
    const method = `${req.service.typeName}/${req.method.name}`;
    const start = performance.now();
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      const ce = toConnectError(err, log, method);
      finishCall(log, metrics, method, ce, start);
      throw ce;
    }
    if (!res.stream) {
      finishCall(log, metrics, method, "ok", start);
      return res;
    }
    const inner = res.message;
    return {
      ...res,
      message: (async function* () {
        let outcome: "ok" | ConnectError = "ok";
        try {
          for await (const m of inner) {
            const item = (m as { item?: { case?: string; value?: { seq?: bigint } } }).item;
            if (item?.case === "event") metrics.delivered(!!item.value?.seq);
            yield m;
          }
        } catch (err) {
          throw (outcome = toConnectError(err, log, method));
        } finally {
          finishCall(log, metrics, method, outcome, start);
        }
      })(),
    };
  };
}
