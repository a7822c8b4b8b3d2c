import { describe, expect, test } from "@jest/globals";
import { create, toBinary } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../gen/dialtone/v1/event_pb.js";
import { encodeStored } from "../codec/event-log.js";
import type { EventRow } from "../db/repos/events.js";
import { createLogger } from "../log.js";
import { InProcessBus } from "./bus.js";
import { VoiceRooms } from "../domain/voice-rooms.js";
import { Feed } from "./feed.js";
import { Presence } from "./presence.js";
import { SlowSubscriberError, Subscriber } from "./subscriber.js";

// Rows as the log stores them: the payload without its seq.
const row = (seq: bigint): EventRow => ({
  seq,
  payload: encodeStored(create(EventSchema, { payload: { case: "channelDeleted", value: { channelId: `c${seq}` } } })).payload,
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

  test("an announcement from another process is read from the database", async () => {
    const { feed, reads } = setup([row(1n), row(2n)]);
    const sub = feed.open("u", "d");
    feed.announce(2n);
    expect(await take(() => sub.next(1000), 2)).toEqual([1n, 2n]);
    expect(reads).toEqual([[0n, 2n]]);
    feed.announce(1n); // stale: nothing to read
    expect(await sub.next(30)).toBe("idle");
    expect(reads).toHaveLength(1);
  });

  test("a DeviceRevoked event ends that device's streams", async () => {
    const { bus, feed } = setup();
    const a = feed.open("u", "dev-a");
    const b = feed.open("u", "dev-b");
    // A row of the older shape, with the seq inside its payload, reads the same.
    const revoked = create(EventSchema, { seq: 1n, payload: { case: "deviceRevoked", value: { deviceId: "dev-a", userId: "u" } } });
    bus.publishDurable([{ seq: 1n, payload: toBinary(EventSchema, revoked) }]);
    await expect(a.next(50)).rejects.toThrow("device revoked");
    expect((await b.next(50)) as Event).toMatchObject({ seq: 1n });
  });
});

describe("Subscriber with a sink (the event stream's live path)", () => {
  const ev = (seq: bigint) => create(EventSchema, { seq, payload: { case: "channelDeleted", value: { channelId: `c${seq}` } } });
  function sink(accept: () => boolean = () => true) {
    const got: bigint[] = [];
    const ends: Array<Error | undefined> = [];
    return { got, ends, sink: { write: (e: Event) => (got.push(e.seq), accept()), end: (err?: Error) => void ends.push(err) } };
  }

  test("queued events go first, then live ones straight through; durable ones already covered are dropped", () => {
    const sub = new Subscriber("s", "u", "d", 2n, 100);
    sub.push(ev(1n)); // covered by the replay (lastSeq 2)
    sub.push(ev(3n));
    const s = sink();
    sub.attach(s.sink);
    sub.push(ev(4n));
    sub.push(ev(0n)); // ephemeral: never deduplicated
    sub.push(ev(4n));
    expect(s.got).toEqual([3n, 4n, 0n]);
    sub.close();
    sub.close();
    expect(s.ends).toEqual([undefined]);
  });

  test("a full stream pauses writes; resume() sends the queue in order; too far behind fails once", () => {
    let room = true;
    const sub = new Subscriber("s", "u", "d", 0n, 3);
    const s = sink(() => room);
    sub.attach(s.sink);
    room = false;
    sub.push(ev(1n)); // written, fills the stream
    sub.push(ev(2n));
    sub.push(ev(3n));
    expect(s.got).toEqual([1n]);
    room = true;
    sub.resume();
    expect(s.got).toEqual([1n, 2n, 3n]);
    room = false;
    for (let i = 4n; i <= 8n; i++) sub.push(ev(i));
    expect(s.got).toEqual([1n, 2n, 3n, 4n]);
    expect(s.ends).toHaveLength(1);
    expect(s.ends[0]).toBeInstanceOf(SlowSubscriberError);
    expect(s.ends[0]!.message).toBe("subscriber too slow: resume with after_seq=4");
    sub.close();
    expect(s.ends).toHaveLength(1);
  });
});

describe("Presence", () => {
  test("a user is online while any process holds one of their streams", () => {
    const changes: string[] = [];
    const p = new Presence((u, on) => changes.push(`${u} ${on}`));
    p.add({ streamId: "s1", userId: "u", deviceId: "d1", processId: "A" });
    p.add({ streamId: "s2", userId: "u", deviceId: "d2", processId: "B" });
    p.add({ streamId: "s2", userId: "u", deviceId: "d2", processId: "B" });
    expect(p.onlineDevices().get("u")).toEqual(new Set(["d1", "d2"]));
    p.remove("s1");
    expect(p.isOnline("u")).toBe(true);
    p.removeProcess("B");
    expect(p.isOnline("u")).toBe(false);
    expect(changes).toEqual(["u true", "u false"]);
  });
});

describe("VoiceRooms", () => {
  test("local changes are shared, remote ones applied, a vanished process's members leave", () => {
    const seen: string[] = [];
    const shared: string[] = [];
    const v = new VoiceRooms(
      "A",
      (k, m) => seen.push(`${k} ${m.deviceId}`),
      (msg) => shared.push(msg.kind),
    );
    v.join({ channelId: "c", userId: "u1", deviceId: "d1", streamId: "s1" });
    v.apply({ kind: "voice-join", channelId: "c", userId: "u2", deviceId: "d2", streamId: "s2" }, "B");
    expect(v.members("c").map((m) => `${m.deviceId}@${m.processId}`)).toEqual(["d1@A", "d2@B"]);
    v.removeProcess("B");
    v.streamClosed("s1");
    expect(v.allRooms()).toEqual([]);
    expect(seen).toEqual(["voiceJoined d1", "voiceJoined d2", "voiceLeft d2", "voiceLeft d1"]);
    expect(shared).toEqual(["voice-join", "voice-leave"]);
  });
});
