// EventService.Subscribe served by fast-path.ts (Connect protocol, binary and JSON, both
// HTTP versions) and by connect-node (gRPC, gRPC-Web, compressed requests): every way in
// gets the same hello, replay and live events, in seq order; errors end the stream with
// their code; heartbeats come while idle.
import { randomUUID } from "node:crypto";
import http from "node:http";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { endStreamFlag } from "@connectrpc/connect/protocol-connect";
import {
  EventService,
  SubscribeRequestSchema,
  SubscribeResponseSchema,
  type SubscribeResponse,
} from "../../../gen/dialtone/v1/event_service_pb.js";
import { envelope, envelopesOf } from "../../http/envelope.js";
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

test("HTTP/1.1: a reader that stops reading holds its stream back, then gets every event in order; its socket serves the next request", async () => {
  const reader = await registerUser(server.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const chunks: Buffer[] = [];
  let response: http.IncomingMessage | undefined;
  const ended = new Promise<void>((resolve, reject) => {
    const req = http.request(`${server.url}/dialtone.v1.EventService/Subscribe`, {
      method: "POST",
      agent,
      headers: { "content-type": "application/connect+proto", "connect-protocol-version": "1", authorization: `Bearer ${reader.token}` },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      response = res;
      res.pause(); // not read until every message is sent: the server's writes must wait for the socket
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", resolve);
      res.on("error", reject);
    });
    req.end(envelope(0, toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, {}))));
  });
  const start = Date.now();
  while (!response) {
    if (Date.now() - start > 10_000) throw new Error("no response to Subscribe");
    await new Promise((r) => setTimeout(r, 10));
  }
  // ~6 MB of events (base64 in the JSON-free binary frames: 40 KB each): more than the loopback socket buffers hold, so writes fill them and wait for 'drain'.
  const sent: string[] = [];
  for (let batch = 0; batch < 15; batch++) {
    const ids = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(
      ids.map((messageId) =>
        admin.api.message.sendMessage({
          messageId,
          channelId,
          encryptedBody: sealedValue(40_000),
          encryptedSenderName: sealedValue(),
          keyEpoch: 1,
        }),
      ),
    );
    sent.push(...ids);
  }
  // The server's order is the seq order; read the stream, then end it from the server's side.
  response.resume();
  const bodyOf = () => envelopesOf(Buffer.concat(chunks)).filter((e) => e.flags === 0);
  const received = () =>
    bodyOf().flatMap((e) => {
      const it = fromBinary(SubscribeResponseSchema, e.data).item;
      return it.case === "event" && it.value.payload.case === "messageCreated"
        ? [{ id: it.value.payload.value.message!.messageId, seq: it.value.seq }]
        : [];
    });
  while (received().length < sent.length) {
    if (Date.now() - start > 60_000) throw new Error(`only ${received().length} of ${sent.length} events arrived`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const got = received();
  expect(new Set(got.map((m) => m.id))).toEqual(new Set(sent));
  expect(got.map((m) => m.seq)).toEqual([...got.map((m) => m.seq)].sort((a, b) => (a < b ? -1 : 1)));
  await reader.api.device.revokeDevice({ deviceId: reader.deviceId });
  await ended;
  const last = envelopesOf(Buffer.concat(chunks)).at(-1)!;
  expect(last.flags & endStreamFlag).toBe(endStreamFlag); // the end-of-stream envelope, after every event
  expect(JSON.parse(last.data.toString()).error.code).toBe("permission_denied");
  // The kept-alive socket goes on to serve a plain request.
  const health = await new Promise<{ status: number; reused: boolean; body: string }>((resolve, reject) => {
    const req = http.get(`${server.url}/healthz`, { agent }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, body }));
    });
    req.on("error", reject);
  });
  expect(health).toEqual({ status: 200, reused: true, body: "ok" });
  agent.destroy();
}, 90_000);
