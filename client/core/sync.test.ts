import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { EventSchema, type Event } from "../../gen/dialtone/v1/event_pb.js";
import { SubscribeResponseSchema, type SubscribeResponse } from "../../gen/dialtone/v1/event_service_pb.js";
import type { Api } from "./api.js";
import type { ChatMessage } from "./messages.js";
import type { ApiError } from "./errors.js";
import { SyncEngine, backoffDelay, type ConnectionState } from "./sync.js";
import { Harness, eventually, type TestInstall } from "../../test/support/client-harness.js";

const hello = (headSeq: bigint) =>
  create(SubscribeResponseSchema, { item: { case: "hello", value: { streamId: "s", headSeq, heartbeatIntervalSeconds: 15 } } });
const durable = (seq: bigint) =>
  create(SubscribeResponseSchema, {
    item: { case: "event", value: create(EventSchema, { seq, payload: { case: "userJoined", value: { userId: `u${seq}` } } }) },
  });

interface Script {
  items: SubscribeResponse[];
  /** Thrown after the items; without it the stream stays open until aborted. */
  end?: Error;
}

/** An EventService whose streams play scripts in order and record the after_seq they were asked for. */
function fakeFeed(scripts: Script[]) {
  const asked: Array<bigint | undefined> = [];
  const api = {
    event: {
      subscribe(req: { afterSeq?: bigint }, opts: { signal: AbortSignal }) {
        asked.push(req.afterSeq);
        const script = scripts.shift() ?? { items: [] };
        return (async function* () {
          for (const item of script.items) yield item;
          if (script.end) throw script.end;
          await new Promise<void>((_, reject) =>
            opts.signal.addEventListener("abort", () => reject(new ConnectError("aborted", Code.Canceled))),
          );
        })();
      },
    },
  } as unknown as Pick<Api, "event">;
  return { api, asked };
}

describe("SyncEngine (scripted feed)", () => {
  test("drops repeated seqs, resumes after the last one handled, and reports its states", async () => {
    const { api, asked } = fakeFeed([
      {
        items: [hello(0n), durable(1n), durable(2n), durable(2n), durable(1n)],
        end: new ConnectError("server shutting down", Code.Unavailable),
      },
      { items: [hello(3n), durable(2n), durable(3n)] },
    ]);
    const seen: bigint[] = [];
    const states: ConnectionState[] = [];
    const saved: bigint[] = [];
    const engine = new SyncEngine({
      api,
      cursor: { load: () => 0n, save: (s) => void saved.push(s) },
      handlers: { onEvent: (e: Event) => void seen.push(e.seq), onState: (s) => void states.push(s) },
      backoff: { baseMs: 1, maxMs: 5 },
    });
    engine.start();
    await eventually(() => seen.length === 3 || undefined, 2000, "three events");
    await engine.stop();
    expect(seen).toEqual([1n, 2n, 3n]);
    expect(asked).toEqual([0n, 2n]);
    expect(saved).toEqual([1n, 2n, 3n]);
    expect(engine.stats.duplicatesDropped).toBe(3);
    expect(states.slice(0, 5)).toEqual(["connecting", "online", "offline", "connecting", "online"]);
    expect(engine.state).toBe("offline");
  });

  test("a position the server does not know (failed_precondition) restarts from its head", async () => {
    const { api, asked } = fakeFeed([
      { items: [], end: new ConnectError("after_seq: ahead of the server's feed", Code.FailedPrecondition) },
      { items: [hello(7n), durable(8n)] },
    ]);
    const seen: bigint[] = [];
    const hellos: boolean[] = [];
    const engine = new SyncEngine({
      api,
      cursor: { load: () => 1_000n, save: () => {} },
      handlers: { onEvent: (e) => void seen.push(e.seq), onHello: (_h, info) => void hellos.push(info.resync) },
    });
    engine.start();
    await eventually(() => seen.length === 1 || undefined, 2000, "the event after the resync");
    await engine.stop();
    expect(asked).toEqual([1_000n, undefined]);
    expect(hellos).toEqual([true]);
    expect(engine.stats.resyncs).toBe(1);
  });

  test("a revoked session stops the engine for good", async () => {
    const { api, asked } = fakeFeed([{ items: [], end: new ConnectError("unauthenticated", Code.Unauthenticated) }]);
    let fatal: ApiError | undefined;
    const states: Array<{ state: string; stopped?: boolean }> = [];
    const engine = new SyncEngine({
      api,
      handlers: {
        onEvent: () => {},
        onFatal: (e) => (fatal = e),
        onState: (state, info) => void states.push({ state, ...(info.stopped ? { stopped: true } : {}) }),
      },
    });
    engine.start();
    await eventually(() => fatal, 2000, "the fatal error");
    expect(fatal?.code).toBe("unauthenticated");
    expect(engine.running).toBe(false);
    // The UI is told the stream will not come back (it says "session ended", not "reconnecting").
    expect(states.at(-1)).toEqual({ state: "offline", stopped: true });
    await engine.stop();
    expect(asked).toHaveLength(1);
  });

  test("live: every stream starts at the server's head (nothing replayed); a silent stream is dropped after the idle limit", async () => {
    const { api, asked } = fakeFeed([{ items: [hello(5n), durable(6n)] }, { items: [hello(9n), durable(8n), durable(10n)] }]);
    const seen: bigint[] = [];
    const downs: string[] = [];
    const limits: Array<number | undefined> = [];
    const engine = new SyncEngine({
      api,
      live: true,
      // The first stream goes silent after its event: dead after 50 ms, by this consumer's rule.
      idleLimitMs: (hb) => (limits.push(hb), 50),
      backoff: { baseMs: 1, maxMs: 2 },
      handlers: { onEvent: (e) => void seen.push(e.seq), onState: (_s, info) => void (info.error && downs.push(info.error.message)) },
    });
    engine.start();
    await eventually(() => seen.length === 2 || undefined, 2000, "the event of the second stream");
    await engine.stop();
    expect(asked.slice(0, 2)).toEqual([undefined, undefined]);
    expect(seen).toEqual([6n, 10n]); // 8 is older than the second stream's head
    expect(downs[0]).toBe("the event stream went silent");
    expect(limits.slice(0, 2)).toEqual([undefined, 15]);
  });

  test("backoff grows exponentially with jitter and is capped", () => {
    const lo = () => 0;
    const hi = () => 0.999999;
    expect(backoffDelay(0, { baseMs: 250, maxMs: 10_000 }, lo)).toBe(125);
    expect(backoffDelay(0, { baseMs: 250, maxMs: 10_000 }, hi)).toBe(250);
    expect(backoffDelay(3, { baseMs: 250, maxMs: 10_000 }, hi)).toBe(2000);
    for (let a = 0; a < 50; a++) expect(backoffDelay(a)).toBeLessThanOrEqual(10_000);
    expect(backoffDelay(40, undefined, lo)).toBe(5000);
  });
});

describe("sync against a real server", () => {
  let h: Harness;
  let admin: TestInstall;
  beforeAll(async () => {
    h = await Harness.start();
    admin = await h.register("admin");
    admin.client.start(); // answers DeviceAdded by sharing keys, as a running admin client would
    await admin.client.waitOnline();
  }, 60_000);
  afterAll(() => h?.close());

  test("a follower survives a server restart and shows every message once, in order", async () => {
    const channel = await admin.client.createChannel("general");
    const reader = await h.register("reader");
    await reader.client.requireChannelKey(channel.id, 10_000);
    const got: ChatMessage[] = [];
    const states: ConnectionState[] = [];
    reader.client.on("message", (m) => void got.push(m));
    reader.client.on("connection", (c) => void states.push(c.state));
    reader.client.start({ resume: true });
    await reader.client.waitOnline();

    const sent: string[] = [];
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) sent.push((await admin.client.send(channel.id, `message ${sent.length}`)).messageId);
    };
    await send(5);
    await eventually(() => got.length === 5 || undefined, 10_000, "5 messages before the restart");

    await h.restart(300);
    await send(5); // sent while the reader is still reconnecting: it gets them by replay
    await eventually(() => got.length >= 10 || undefined, 20_000, "10 messages after the restart");
    await send(2);
    await eventually(() => got.length >= 12 || undefined, 10_000, "live messages after the restart");
    await new Promise((r) => setTimeout(r, 200));

    expect(got.map((m) => m.messageId)).toEqual(sent);
    expect(got.map((m) => m.body)).toEqual(sent.map((_, i) => `message ${i}`));
    for (let i = 1; i < got.length; i++) expect(got[i]!.seq > got[i - 1]!.seq).toBe(true);
    expect(states).toContain("offline");
    expect(states.at(-1)).toBe("online");
    // The position was persisted: a second process resuming from it replays nothing already seen.
    await reader.client.close();
    expect(reader.client.store.keystore.lastEventSeq).toBe(got.at(-1)!.seq);
  }, 60_000);

  test("history pages backwards and merges with live messages without duplicates", async () => {
    const channel = await admin.client.createChannel(`paging-${Date.now()}`);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await admin.client.send(channel.id, `m${i}`)).messageId);
    const reader = await h.register();
    await reader.client.requireChannelKey(channel.id, 10_000);
    const first = await reader.client.loadOlder(channel.id, 3);
    expect(first.map((m) => m.body)).toEqual(["m4", "m5", "m6"]);
    const older = await reader.client.loadOlder(channel.id, 3);
    expect(older.map((m) => m.body)).toEqual(["m1", "m2", "m3"]);
    const all = await reader.client.history(channel.id, 100);
    expect(all.map((m) => m.messageId)).toEqual(ids);
    expect(await reader.client.loadOlder(channel.id, 10)).toEqual([]);
  }, 60_000);
});
