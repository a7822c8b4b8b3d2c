// The daemon's feed on the core's sync engine: live streams, its watchdog rule, fatal refusals.
import { describe, expect, test } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { EventSchema } from "../../gen/dialtone/v1/event_pb.js";
import { SubscribeResponseSchema, type SubscribeResponse } from "../../gen/dialtone/v1/event_service_pb.js";
import { Feed, daemonIdleLimit } from "./feed.js";
import type { ServerApi } from "./server-api.js";

const hello = (streamId: string) =>
  create(SubscribeResponseSchema, { item: { case: "hello", value: { streamId, headSeq: 0n, heartbeatIntervalSeconds: 15 } } });
const voiceLeft = () =>
  create(SubscribeResponseSchema, { item: { case: "event", value: create(EventSchema, { payload: { case: "voiceLeft", value: {} } }) } });

/** Streams that play scripts in order; without `end` a stream stays open until aborted. */
function fakeApi(scripts: Array<{ items: SubscribeResponse[]; end?: Error }>) {
  const asked: unknown[] = [];
  const api = {
    event: {
      subscribe(req: unknown, opts: { signal: AbortSignal }) {
        asked.push(req);
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
  } as unknown as Pick<ServerApi, "event">;
  return { api, asked };
}

function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  return new Promise((resolve, reject) => {
    const poll = () => (check() ? resolve() : Date.now() > deadline ? reject(new Error(`timed out: ${what}`)) : setTimeout(poll, 5));
    poll();
  });
}

describe("Feed", () => {
  test("each stream's hello is a join; a dropped stream is reported and reopened live", async () => {
    const { api, asked } = fakeApi([
      { items: [hello("s1"), voiceLeft()], end: new ConnectError("server going away", Code.Unavailable) },
      { items: [hello("s2")] },
    ]);
    const hellos: string[] = [];
    const downs: Array<{ reason: string; retryInMs: number }> = [];
    let events = 0;
    const feed = new Feed(
      api,
      {
        onHello: (id) => void hellos.push(id),
        onEvent: () => void events++,
        onDown: (reason, retryInMs) => void downs.push({ reason, retryInMs }),
        onFatal: () => {},
      },
      { baseMs: 1, maxMs: 2 },
    );
    await until(() => hellos.length === 2, "the second hello");
    await feed.stop();
    expect(hellos).toEqual(["s1", "s2"]);
    expect(events).toBe(1);
    expect(downs[0]).toEqual({ reason: "server going away", retryInMs: expect.any(Number) });
    expect(asked).toEqual([{}, {}]); // live: never resumed after a position
  });

  test.each([Code.Unauthenticated, Code.PermissionDenied])("a refusal (%s) is fatal: reported once, never retried", async (code) => {
    const { api, asked } = fakeApi([{ items: [], end: new ConnectError("invalid or expired session", code) }]);
    const fatal: string[] = [];
    const downs: string[] = [];
    const feed = new Feed(
      api,
      { onHello: () => {}, onEvent: () => {}, onDown: (r) => void downs.push(r), onFatal: (r) => void fatal.push(r) },
      { baseMs: 1, maxMs: 2 },
    );
    await until(() => fatal.length > 0, "the fatal refusal");
    await new Promise((r) => setTimeout(r, 20));
    await feed.stop();
    expect(fatal).toEqual(["invalid or expired session"]);
    expect(downs).toEqual([]);
    expect(asked).toHaveLength(1);
  });

  test("a stream silent for three heartbeat intervals is dead (never less than 10 s; 15 s assumed before the hello)", () => {
    expect(daemonIdleLimit(15)).toBe(45_000);
    expect(daemonIdleLimit(5)).toBe(15_000);
    expect(daemonIdleLimit(1)).toBe(10_000);
    expect(daemonIdleLimit(undefined)).toBe(45_000);
    expect(daemonIdleLimit(0)).toBe(45_000);
  });
});
