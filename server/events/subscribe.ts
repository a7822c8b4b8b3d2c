// EventService.Subscribe: hello, replay from the log after `after_seq`, then live
// events with heartbeats. Live events are queued from before the replay starts and
// deduplicated by seq, so there is no gap and no duplicate.
//
// openSubscription() holds the parts both servings of the call share: subscribe() below
// (connect-node's path: one generator step per item) and server/http/event-stream.ts
// (the Connect protocol served directly, with live events pushed to a sink).
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import type { SubscribeResponseSchema } from "../../gen/dialtone/v1/event_service_pb.js";
import { decodeStored } from "../codec/event-log.js";
import { readEventsAfter } from "../db/repos/events.js";
import type { Caller, Deps } from "../domain/deps.js";
import { DomainError } from "../domain/errors.js";
import type { Subscriber } from "./subscriber.js";

type Item = MessageInitShape<typeof SubscribeResponseSchema>;

const REPLAY_PAGE = 500;

export interface Subscription {
  /** Queues live events from the moment it opened. */
  sub: Subscriber;
  hello: Item;
  /** Durable events after after_seq up to the head at opening (none without after_seq). */
  replay(): AsyncGenerator<Event>;
  /** Idempotent. */
  close(): void;
}

/** Opens the feed subscription; throws failed_precondition when after_seq is ahead of the feed. */
export function openSubscription(deps: Deps, caller: Caller, afterSeq: bigint | undefined): Subscription {
  const sub = deps.feed.open(caller.userId, caller.deviceId, caller.tokenHash);
  const head = sub.lastSeq;
  const close = () => deps.feed.close(sub);
  if (afterSeq !== undefined && afterSeq > head) {
    close();
    throw new DomainError("failed_precondition", `after_seq: ahead of the server's feed (head ${head}); resync`);
  }
  return {
    sub,
    hello: {
      item: {
        case: "hello",
        value: { streamId: sub.id, headSeq: head, heartbeatIntervalSeconds: deps.heartbeatSeconds, serverTime: timestampFromDate(deps.now()) },
      },
    },
    async *replay() {
      if (afterSeq === undefined) return;
      for (let cursor = afterSeq; cursor < head; ) {
        const rows = await readEventsAfter(deps.database.db, cursor, REPLAY_PAGE, head);
        if (!rows.length) break;
        for (const r of rows) {
          yield decodeStored(r.seq, r.payload);
          cursor = r.seq;
        }
      }
    },
    close,
  };
}

export function heartbeat(at: Date): Item {
  return { item: { case: "heartbeat", value: { serverTime: timestampFromDate(at) } } };
}

export async function* subscribe(deps: Deps, caller: Caller, afterSeq: bigint | undefined, signal: AbortSignal): AsyncGenerator<Item> {
  const s = openSubscription(deps, caller, afterSeq);
  signal.addEventListener("abort", s.close, { once: true });
  try {
    yield s.hello;
    for await (const ev of s.replay()) yield { item: { case: "event", value: ev } };
    const idleMs = deps.heartbeatSeconds * 1000;
    for (;;) {
      const next = await s.sub.next(idleMs);
      if (next === "closed") return;
      if (next === "idle") yield heartbeat(deps.now());
      else yield { item: { case: "event", value: next } };
    }
  } finally {
    signal.removeEventListener("abort", s.close);
    s.close();
  }
}
