// EventService.Subscribe served by fast-path.ts (Connect protocol, binary and JSON, both
// HTTP versions) and by connect-node (gRPC, gRPC-Web, compressed requests): every way in
// gets the same hello, replay and live events, in seq order; errors end the stream with
// their code; heartbeats come while idle.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { EventService, type SubscribeResponse } from "../../../gen/dialtone/v1/event_service_pb.js";
import type { Database } from "../../db/client.js";
import { registerUser, sealedValue, type TestUser } from "../../../test/support/api.js";
import { databaseSource, type DatabaseSource } from "../../../test/support/databases.js";
import { startTestServer, type TestServer } from "../../../test/support/server.js";

let source: DatabaseSource;
let db: Database;
let server: TestServer;
let admin: TestUser;
let channelId: string;

beforeAll(async () => {
  source = await databaseSource("pglite");
  db = await source.fresh();
  server = await startTestServer(db, { heartbeatSeconds: 1 });
  admin = await registerUser(server.url);
  channelId = randomUUID();
  await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
});
afterAll(async () => {
  await server.close();
  await db.close();
});

const transports: Record<string, () => Transport> = {
  "Connect binary, h2c": () => createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: true }),
  "Connect JSON, HTTP/1.1": () => createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
  "Connect binary, HTTP/1.1": () => createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: true }),
  "Connect, gzip-compressed request": () =>
    createConnectTransport({
      baseUrl: server.url,
      httpVersion: "1.1",
      useBinaryFormat: true,
      sendCompression: compressionGzip,
      compressMinBytes: 0,
    }),
  "gRPC, h2c": () => createGrpcTransport({ baseUrl: server.url, idleConnectionTimeoutMs: 5 }),
  "gRPC-Web, HTTP/1.1": () => createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: true }),
};

/** Collects a stream in the background. */
function follow(transport: Transport, token: string, afterSeq?: bigint) {
  const ac = new AbortController();
  const items: SubscribeResponse[] = [];
  let ended: unknown;
  const client = createClient(EventService, transport);
  const done = (async () => {
    try {
      const req = afterSeq === undefined ? {} : { afterSeq };
      for await (const it of client.subscribe(req, { signal: ac.signal, headers: { authorization: `Bearer ${token}` } })) items.push(it);
    } catch (err) {
      ended = err;
    }
  })();
  const until = async (pred: () => boolean, what: string, ms = 10_000) => {
    const start = Date.now();
    while (!pred()) {
      if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const messages = () =>
    items.flatMap((i) =>
      i.item.case === "event" && i.item.value.payload.case === "messageCreated"
        ? [{ id: i.item.value.payload.value.message!.messageId, seq: i.item.value.seq }]
        : [],
    );
  return { items, until, messages, done, ended: () => ended, close: async () => (ac.abort(), await done) };
}

const send = (n: number) =>
  Promise.all(
    Array.from({ length: n }, () =>
      admin.api.message.sendMessage({
        messageId: randomUUID(),
        channelId,
        encryptedBody: sealedValue(300),
        encryptedSenderName: sealedValue(),
        keyEpoch: 1,
      }),
    ),
  );

test("every protocol, codec and HTTP version gets the same live events, in seq order", async () => {
  const reader = await registerUser(server.url);
  const streams = Object.fromEntries(Object.entries(transports).map(([name, t]) => [name, follow(t(), reader.token)]));
  for (const [name, s] of Object.entries(streams)) await s.until(() => s.items.some((i) => i.item.case === "hello"), `${name}: hello`);
  const sent = await send(20);
  const ids = new Set(sent.map((r) => r.message!.messageId));
  for (const [name, s] of Object.entries(streams))
    await s.until(() => s.messages().filter((m) => ids.has(m.id)).length === 20, `${name}: 20 messages`);
  const reference = streams["gRPC, h2c"]!.messages().filter((m) => ids.has(m.id));
  expect(reference.map((m) => m.seq)).toEqual([...reference.map((m) => m.seq)].sort((a, b) => (a < b ? -1 : 1)));
  for (const [name, s] of Object.entries(streams)) {
    expect([name, s.messages().filter((m) => ids.has(m.id))]).toEqual([name, reference]);
    // The same event, whole: what the fast path encodes once equals what connect-node encodes per stream.
    const ev = (x: typeof s) => x.items.find((i) => i.item.case === "event" && i.item.value.seq === reference[0]!.seq);
    expect([name, ev(s)]).toEqual([name, ev(streams["gRPC, h2c"]!)]);
  }
  for (const s of Object.values(streams)) await s.close();
  for (const [name, s] of Object.entries(streams)) expect([name, ConnectError.from(s.ended()).code]).toEqual([name, Code.Canceled]);
});

test("after_seq replays the log, then live events follow without a gap or a duplicate", async () => {
  const reader = await registerUser(server.url);
  const before = await send(5);
  const from = before.map((r) => r.message!.seq).reduce((a, b) => (a < b ? a : b)) - 1n;
  const s = follow(transports["Connect binary, h2c"]!(), reader.token, from);
  await s.until(() => s.messages().length >= 5, "the replay");
  const after = await send(5);
  await s.until(() => s.messages().length >= 10, "live events");
  const seqs = s.messages().map((m) => m.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
  for (const r of [...before, ...after]) expect(seqs).toContain(r.message!.seq);
  await s.close();
});

describe("errors end the stream with their code", () => {
  for (const name of ["Connect binary, h2c", "Connect JSON, HTTP/1.1"]) {
    test(`${name}: no session, a bad session, after_seq ahead of the feed`, async () => {
      const none = follow(transports[name]!(), "");
      await none.done;
      expect(ConnectError.from(none.ended()).code).toBe(Code.Unauthenticated);
      const bad = follow(transports[name]!(), "not-a-session");
      await bad.done;
      expect(ConnectError.from(bad.ended())).toMatchObject({ code: Code.Unauthenticated, rawMessage: "invalid or expired session" });
      const ahead = follow(transports[name]!(), admin.token, 1_000_000n);
      await ahead.done;
      expect(ConnectError.from(ahead.ended())).toMatchObject({
        code: Code.FailedPrecondition,
        rawMessage: expect.stringMatching(/^after_seq: /),
      });
    });
  }

  test("a revoked device's stream ends with permission_denied", async () => {
    const user = await registerUser(server.url);
    const s = follow(transports["Connect binary, h2c"]!(), user.token);
    await s.until(() => s.items.some((i) => i.item.case === "hello"), "hello");
    await user.api.device.revokeDevice({ deviceId: user.deviceId });
    await s.done;
    expect(ConnectError.from(s.ended()).code).toBe(Code.PermissionDenied);
  });
});

test("an idle Connect stream gets heartbeats", async () => {
  const reader = await registerUser(server.url);
  const s = follow(transports["Connect binary, HTTP/1.1"]!(), reader.token);
  await s.until(() => s.items.filter((i) => i.item.case === "heartbeat").length >= 2, "two heartbeats", 15_000);
  await s.close();
});
