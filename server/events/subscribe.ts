// EventService.Subscribe: hello, replay from the log after `after_seq`, then live
// events with heartbeats. Live events are queued from before the replay starts and
// deduplicated by seq, so there is no gap and no duplicate.
import { fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EventSchema } from "../../gen/dialtone/v1/event_pb.js";
import type { SubscribeResponseSchema } from "../../gen/dialtone/v1/event_service_pb.js";
import { readEventsAfter } from "../db/repos/events.js";
import type { Caller, Deps } from "../domain/deps.js";
import { DomainError } from "../domain/errors.js";

type Item = MessageInitShape<typeof SubscribeResponseSchema>;
const REPLAY_PAGE = 500;

export async function* subscribe(deps: Deps, caller: Caller, afterSeq: bigint | undefined, signal: AbortSignal): AsyncGenerator<Item> {
  const sub = deps.feed.open(caller.userId, caller.deviceId);
  const onAbort = () => deps.feed.close(sub);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const head = sub.lastSeq;
    if (afterSeq !== undefined && afterSeq > head) {
      throw new DomainError("failed_precondition", `after_seq: ahead of the server's feed (head ${head}); resync`);
    }
    yield {
      item: {
        case: "hello",
        value: { streamId: sub.id, headSeq: head, heartbeatIntervalSeconds: deps.heartbeatSeconds, serverTime: timestampFromDate(deps.now()) },
      },
    };
    if (afterSeq !== undefined) {
      for (let cursor = afterSeq; cursor < head; ) {
        const rows = await readEventsAfter(deps.database.db, cursor, REPLAY_PAGE, head);
        if (!rows.length) break;
        for (const r of rows) {
          yield { item: { case: "event", value: fromBinary(EventSchema, r.payload) } };
          cursor = r.seq;
        }
      }
    }
    const idleMs = deps.heartbeatSeconds * 1000;
    for (;;) {
      const next = await sub.next(idleMs);
      if (next === "closed") return;
      if (next === "idle") yield { item: { case: "heartbeat", value: { serverTime: timestampFromDate(deps.now()) } } };
      else yield { item: { case: "event", value: next } };
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    deps.feed.close(sub);
  }
}
