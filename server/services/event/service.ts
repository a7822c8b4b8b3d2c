// EventService as connect-node serves it: gRPC, gRPC-Web, and the Connect calls the fast
// path (fast-path.ts) leaves to it. One generator step per item; the same subscription.
import type { ServiceImpl } from "@connectrpc/connect";
import type { EventService } from "../../../gen/dialtone/v1/event_service_pb.js";
import type { Caller, Deps } from "../../domain/deps.js";
import { openSubscription } from "../../domain/subscriptions.js";
import { requireCaller } from "../../http/context.js";
import { heartbeat, hello, type Item } from "./items.js";

export function eventService(deps: Deps): ServiceImpl<typeof EventService> {
  return {
    subscribe(req, ctx) {
      return subscribe(deps, requireCaller(ctx), req.afterSeq, ctx.signal);
    },
  };
}

/** Hello, the replay after `afterSeq`, then live events with heartbeats until the stream ends. */
async function* subscribe(deps: Deps, caller: Caller, afterSeq: bigint | undefined, signal: AbortSignal): AsyncGenerator<Item> {
  const s = openSubscription(deps, caller, afterSeq);
  signal.addEventListener("abort", s.close, { once: true });
  try {
    yield hello(s, deps.heartbeatSeconds, deps.now());
    for await (const ev of s.replay()) yield { item: { case: "event", value: ev } };
    const idleMs = deps.heartbeatSeconds * 1000;
    for (;;) {
      const next = await s.stream.next(idleMs);
      if (next === "closed") return;
      if (next === "idle") yield heartbeat(deps.now());
      else yield { item: { case: "event", value: next } };
    }
  } finally {
    signal.removeEventListener("abort", s.close);
    s.close();
  }
}
