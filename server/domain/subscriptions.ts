// Opening an event stream (EventService.Subscribe): the rule on after_seq, and the replay of
// the log after it. The Subscribe module (server/services/event/) serves what this opens.
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import { decodeStored } from "../codec/event-log.js";
import { readEventsAfter } from "../db/repos/events.js";
import type { Caller, Deps } from "./deps.js";
import { DomainError } from "./errors.js";
import type { LiveStream } from "./ports.js";

const REPLAY_PAGE = 500;

export interface Subscription {
  /** Queues live events from the moment it opened. */
  stream: LiveStream;
  /** The feed's head at opening: the replay ends there, live events follow it. */
  head: bigint;
  /** Durable events after after_seq up to `head` (none without after_seq). */
  replay(): AsyncGenerator<Event>;
  /** Idempotent. */
  close(): void;
}

/**
 * Opens the caller's stream; live events queue from now on and are deduplicated by seq against
 * the replay, so there is no gap and no duplicate. An after_seq ahead of the feed is refused.
 */
export function openSubscription(deps: Deps, caller: Caller, afterSeq: bigint | undefined): Subscription {
  // A client needs one stream (two while it reconnects); a session holding thousands is an attack.
  const open = deps.feed.openCount(caller.tokenHash, caller.deviceId);
  const { streamsPerSession, streamsPerDevice } = deps.limits;
  if (open.session >= streamsPerSession) {
    throw new DomainError("resource_exhausted", `session: at most ${streamsPerSession} open event streams per session; close one first`);
  }
  if (open.device >= streamsPerDevice) {
    throw new DomainError("resource_exhausted", `device: at most ${streamsPerDevice} open event streams per device; close one first`);
  }
  const stream = deps.feed.open(caller.userId, caller.deviceId, caller.tokenHash);
  const head = stream.lastSeq;
  const close = () => deps.feed.close(stream);
  if (afterSeq !== undefined && afterSeq > head) {
    close();
    throw new DomainError("failed_precondition", `after_seq: ahead of the server's feed (head ${head}); resync`);
  }
  return {
    stream,
    head,
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
