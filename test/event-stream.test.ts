// The event stream's live behaviour: heartbeats, voice rooms tied to streams, signals
// delivered only to the addressed device, ICE servers with TURN REST credentials.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import type { SubscribeResponse } from "../gen/dialtone/v1/event_service_pb.js";
import type { Database } from "../server/db/client.js";
import { registerUser, sealedValue, type TestUser } from "./support/api.js";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/server.js";

let source: DatabaseSource;
let db: Database;
let server: TestServer;
let admin: TestUser;

beforeAll(async () => {
  source = await databaseSource("pglite");
  db = await source.fresh();
  server = await startTestServer(db, {
    heartbeatSeconds: 1,
    turn: { urls: ["stun:127.0.0.1:3478", "turn:127.0.0.1:3478"], secret: "turn-secret", ttlSeconds: 3600 },
  });
  admin = await registerUser(server.url);
});
afterAll(async () => {
  await server.close();
  await db.close();
});

/** An open stream whose items are collected in the background. */
function open(user: TestUser) {
  const ac = new AbortController();
  const items: SubscribeResponse[] = [];
  let ended: unknown;
  const done = (async () => {
    try {
      for await (const item of user.api.event.subscribe({}, { signal: ac.signal })) items.push(item);
    } catch (err) {
      ended = err;
    }
  })();
  const waitFor = async (pred: (i: SubscribeResponse) => boolean, ms = 3000) => {
    const start = Date.now();
    for (;;) {
      const hit = items.find(pred);
      if (hit) return hit;
      if (Date.now() - start > ms) throw new Error("timed out waiting for a stream item");
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { items, waitFor, done, close: async () => (ac.abort(), await done), ended: () => ended };
}

test("an idle stream gets a heartbeat within the interval", async () => {
  const alice = await registerUser(server.url);
  const s = open(alice);
  const hello = await s.waitFor((i) => i.item.case === "hello");
  expect(hello.item.case === "hello" && hello.item.value.heartbeatIntervalSeconds).toBe(1);
  const t0 = Date.now();
  await s.waitFor((i) => i.item.case === "heartbeat", 2500);
  expect(Date.now() - t0).toBeLessThan(2500);
  await s.close();
});

test("voice: join by stream, signals reach only the addressed device, leaving ends with the stream", async () => {
  const bob = await registerUser(server.url);
  const carol = await registerUser(server.url);
  const channelId = randomUUID();
  await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
  const [sa, sb, sc] = [open(admin), open(bob), open(carol)];
  const streamId = async (s: ReturnType<typeof open>) => {
    const h = await s.waitFor((i) => i.item.case === "hello");
    return h.item.case === "hello" ? h.item.value.streamId : "";
  };
  await admin.api.voice.join({ channelId, streamId: await streamId(sa) });
  await carol.api.voice.join({ channelId, streamId: await streamId(sc) });
  const joined = await bob.api.voice.join({ channelId, streamId: await streamId(sb) });
  expect(joined.members.map((m) => m.deviceId).sort()).toEqual([admin.deviceId, bob.deviceId, carol.deviceId].sort());
  // someone else's stream cannot carry my membership
  await expect(bob.api.voice.join({ channelId, streamId: await streamId(sa) })).rejects.toMatchObject({ code: Code.InvalidArgument });

  const payload = sealedValue(200);
  await admin.api.voice.signal({ channelId, recipientDeviceId: bob.deviceId, encryptedPayload: payload, keyEpoch: 1 });
  const got = await sb.waitFor((i) => i.item.case === "event" && i.item.value.payload.case === "voiceSignal");
  expect(got.item.case === "event" && got.item.value.payload.case === "voiceSignal" && got.item.value.payload.value).toMatchObject({
    senderDeviceId: admin.deviceId,
    recipientDeviceId: bob.deviceId,
    encryptedPayload: payload,
  });
  await new Promise((r) => setTimeout(r, 100));
  expect(sc.items.some((i) => i.item.case === "event" && i.item.value.payload.case === "voiceSignal")).toBe(false);
  expect(sa.items.some((i) => i.item.case === "event" && i.item.value.payload.case === "voiceSignal")).toBe(false);

  const rooms = await carol.api.voice.listVoiceRooms({});
  expect(rooms.rooms).toHaveLength(1);
  await sb.close();
  const left = await sc.waitFor(
    (i) =>
      i.item.case === "event" && i.item.value.payload.case === "voiceLeft" && i.item.value.payload.value.member?.deviceId === bob.deviceId,
  );
  expect(left).toBeDefined();
  expect((await carol.api.voice.listVoiceRooms({})).rooms[0]!.members.map((m) => m.deviceId).sort()).toEqual(
    [admin.deviceId, carol.deviceId].sort(),
  );
  await expect(
    admin.api.voice.signal({ channelId, recipientDeviceId: bob.deviceId, encryptedPayload: payload, keyEpoch: 1 }),
  ).rejects.toMatchObject({ code: Code.NotFound });
  await carol.api.voice.leave({ channelId });
  await admin.api.channel.deleteChannel({ channelId });
  expect((await admin.api.voice.listVoiceRooms({})).rooms).toEqual([]);
  await sa.close();
  await sc.close();
});

test("ICE servers carry short-lived coturn REST credentials", async () => {
  const alice = await registerUser(server.url);
  const res = await alice.api.voice.getIceServers({});
  expect(res.ttlSeconds).toBe(3600);
  const turn = res.iceServers.find((s) => s.urls[0]!.startsWith("turn:"))!;
  const [expiry, user] = turn.username.split(":");
  expect(user).toBe(alice.userId);
  expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(3500);
  expect(turn.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/);
});

test("a revoked device's open stream ends and its session stops working", async () => {
  const alice = await registerUser(server.url);
  const s = open(alice);
  await s.waitFor((i) => i.item.case === "hello");
  await alice.api.device.revokeDevice({ deviceId: alice.deviceId });
  await s.done;
  expect(ConnectError.from(s.ended()).code).toBe(Code.PermissionDenied);
  await expect(alice.api.auth.getSession({})).rejects.toMatchObject({ code: Code.Unauthenticated });
});
