import { describe, expect, test } from "@jest/globals";
import { create, toBinary } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../gen/dialtone/v1/event_pb.js";
import type { EventRow } from "../db/repos/events.js";
import { createLogger } from "../log.js";
import { InProcessBus } from "./bus.js";
import { Feed } from "./feed.js";
import { SlowSubscriberError } from "./subscriber.js";

const row = (seq: bigint): EventRow => ({
  seq,
  payload: toBinary(EventSchema, create(EventSchema, { seq, payload: { case: "channelDeleted", value: { channelId: `c${seq}` } } })),
});

function setup(stored: EventRow[] = [], maxQueue = 100) {
  const bus = new InProcessBus();
  const reads: Array<[bigint, bigint]> = [];
  const feed = new Feed({
    bus,
    log: createLogger("error", () => {}),
    headSeq: 0n,
    maxQueue,
    gapWaitMs: 5,
    readRange: async (after, upTo) => {
      reads.push([after, upTo]);
      return stored.filter((r) => r.seq > after && r.seq <= upTo);
    },
  });
  return { bus, feed, reads };
}

async function take(next: () => Promise<Event | "idle" | "closed">, n: number): Promise<bigint[]> {
  const out: bigint[] = [];
  while (out.length < n) {
    const e = await next();
    if (typeof e === "string") throw new Error(`unexpected ${e}`);
    out.push(e.seq);
  }
  return out;
}

describe("Feed", () => {
  test("puts out-of-order publishes back in seq order without reading the database", async () => {
    const { bus, feed, reads } = setup();
    const sub = feed.open("u", "d");
    bus.publishDurable([row(2n)]);
    bus.publishDurable([row(1n), row(3n)]);
    expect(await take(() => sub.next(1000), 3)).toEqual([1n, 2n, 3n]);
    expect(reads).toEqual([]);
    expect(feed.head).toBe(3n);
  });

  test("fills a gap from the database when the earlier publish never comes", async () => {
    const { bus, feed, reads } = setup([row(1n), row(2n)]);
    const sub = feed.open("u", "d");
    bus.publishDurable([row(3n)]);
    expect(await take(() => sub.next(1000), 3)).toEqual([1n, 2n, 3n]);
    expect(reads).toEqual([[0n, 3n]]);
  });

  test("drops durable events the subscriber already has", async () => {
    const { bus, feed } = setup();
    const sub = feed.open("u", "d");
    sub.lastSeq = 2n; // e.g. covered by the replay
    bus.publishDurable([row(1n), row(2n), row(3n)]);
    expect(await take(() => sub.next(1000), 1)).toEqual([3n]);
  });

  test("a slow subscriber is failed with the seq to resume from, never skipped", async () => {
    const { bus, feed } = setup([], 3);
    const sub = feed.open("u", "d");
    bus.publishDurable([row(1n)]);
    expect(await take(() => sub.next(1000), 1)).toEqual([1n]);
    bus.publishDurable([row(2n), row(3n), row(4n), row(5n)]);
    await expect(sub.next(1000)).rejects.toThrow(SlowSubscriberError);
    await expect(sub.next(1000)).rejects.toThrow("resume with after_seq=1");
  });

  test("ephemeral events reach only their audience; idle streams report idle", async () => {
    const { bus, feed } = setup();
    const a = feed.open("ua", "da");
    const b = feed.open("ub", "db");
    const ev = create(EventSchema, { seq: 0n, payload: { case: "presenceChanged", value: { userId: "x", online: true } } });
    bus.publishEphemeral({ event: ev, audience: { kind: "device", deviceId: "db" } });
    bus.publishEphemeral({ event: ev, audience: { kind: "stream", streamId: a.id } });
    expect(await a.next(50)).toBe(ev);
    expect(await b.next(50)).toBe(ev);
    expect(await a.next(50)).toBe("idle");
    expect(await b.next(50)).toBe("idle");
  });

  test("presence hooks fire for a user's first and last stream", () => {
    const { feed } = setup();
    const seen: string[] = [];
    feed.onStreamOpen((s, first) => seen.push(`open ${s.deviceId} ${first}`));
    feed.onStreamClose((s, last) => seen.push(`close ${s.deviceId} ${last}`));
    const one = feed.open("u", "d1");
    const two = feed.open("u", "d2");
    expect(feed.isOnline("u")).toBe(true);
    feed.close(one);
    feed.close(two);
    feed.close(two);
    expect(seen).toEqual(["open d1 true", "open d2 false", "close d1 false", "close d2 true"]);
    expect(feed.isOnline("u")).toBe(false);
  });
});
