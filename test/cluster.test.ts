// Several server processes on one real PostgreSQL (LISTEN/NOTIFY bus): events, presence
// and voice signals cross processes; killing a process loses no acknowledged message.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MessageService } from "../gen/dialtone/v1/message_service_pb.js";
import type { SubscribeResponse } from "../gen/dialtone/v1/event_service_pb.js";
import { api, bearer, devicePublicKey, sealedValue, type TestUser } from "./support/api.js";
import { codeOf } from "./support/assertions.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";
import { spawnServer, type ServerProcess } from "./support/server-process.js";
import postgres from "postgres";

const ADMIN = "cluster-admin-token-0123456789";
let pg: TestPostgres;
let dbUrl: string;
let p1: ServerProcess;
let p2: ServerProcess;

beforeAll(async () => {
  pg = await startPostgres();
  dbUrl = await pg.createDatabase();
  const env = {
    DIALTONE_DB_URL: dbUrl,
    DIALTONE_ADMIN_TOKEN: ADMIN,
    DIALTONE_USERNAME_PEPPER: "cluster-pepper-0123456789",
    DIALTONE_AUTH_RATE_PER_IP: "100000",
    // One session sends 1,000 messages at once here: the per-session send limit is not under test.
    DIALTONE_SEND_RATE_PER_SESSION: "100000",
    DIALTONE_SEND_BURST_PER_SESSION: "100000",
    // 1,000 concurrent sends from this one process: one HTTP/1.1 connection each.
    DIALTONE_MAX_CONNECTIONS_PER_ADDRESS: "100000",
  };
  p1 = await spawnServer(env);
  p2 = await spawnServer(env);
}, 120_000);

afterAll(async () => {
  await p1?.stop("SIGKILL");
  await p2?.stop("SIGKILL");
  await pg?.stop();
});

async function register(url: string): Promise<TestUser> {
  const invite = await api(url, { "x-admin-token": ADMIN }).invite.createInvite({});
  const publicKey = devicePublicKey();
  const username = `u-${randomUUID().slice(0, 8)}`;
  const s = (await api(url).auth.register({ username, password: "password-123", inviteToken: invite.token, devicePublicKey: publicKey }))
    .session!;
  return {
    username,
    publicKey,
    token: s.token,
    userId: s.userId,
    deviceId: s.deviceId,
    isAdmin: s.isAdmin,
    api: api(url, bearer(s.token)),
  };
}

/** Collects a Subscribe stream in the background. */
function follow(user: TestUser, afterSeq?: bigint) {
  const ac = new AbortController();
  const items: SubscribeResponse[] = [];
  const done = (async () => {
    try {
      for await (const it of user.api.event.subscribe(afterSeq === undefined ? {} : { afterSeq }, { signal: ac.signal })) items.push(it);
    } catch (err) {
      if (ConnectError.from(err).code !== Code.Canceled) throw err;
    }
  })();
  const until = async (pred: () => boolean, ms = 20_000) => {
    const start = Date.now();
    while (!pred()) {
      if (Date.now() - start > ms) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const messages = () =>
    items.flatMap((i) =>
      i.item.case === "event" && i.item.value.payload.case === "messageCreated"
        ? [{ id: i.item.value.payload.value.message!.messageId, seq: i.item.value.seq }]
        : [],
    );
  const streamId = () => {
    const h = items.find((i) => i.item.case === "hello");
    return h?.item.case === "hello" ? h.item.value.streamId : undefined;
  };
  return { items, until, messages, streamId, close: async () => (ac.abort(), await done) };
}

let admin: TestUser;
let channelId: string;

test("1,000 messages sent concurrently through process 2 reach a subscriber of process 1 once each, in seq order", async () => {
  admin = await register(p1.url);
  const reader = await register(p1.url);
  channelId = randomUUID();
  await api(p2.url, bearer(admin.token)).channel.createChannel({ channelId, encryptedName: sealedValue() });
  const sub = follow(reader);
  await sub.until(() => !!sub.streamId());
  const client = createClient(MessageService, createGrpcTransport({ baseUrl: p2.url, idleConnectionTimeoutMs: 5 }));
  const sent = await Promise.all(
    Array.from({ length: 1000 }, () =>
      client.sendMessage(
        { messageId: randomUUID(), channelId, encryptedBody: sealedValue(300), encryptedSenderName: sealedValue(), keyEpoch: 1 },
        { headers: bearer(admin.token) },
      ),
    ),
  );
  await sub.until(() => sub.messages().length >= 1000);
  await new Promise((r) => setTimeout(r, 200));
  const got = sub.messages();
  expect(got).toHaveLength(1000);
  expect(new Set(got.map((m) => m.id))).toEqual(new Set(sent.map((s) => s.message!.messageId)));
  for (let i = 1; i < got.length; i++) expect(got[i]!.seq > got[i - 1]!.seq).toBe(true);
  await sub.close();
}, 120_000);

test("presence and voice cross processes: a signal sent through process 1 reaches a stream on process 2", async () => {
  const alice = await register(p1.url);
  const bob = await register(p2.url);
  // Alice's stream first: a presence change that reaches process 1 before it opened is not an
  // event for it (a race that failed this test now and then).
  const aliceStream = follow(alice);
  await aliceStream.until(() => !!aliceStream.streamId());
  const bobStream = follow(bob);
  await bobStream.until(() => !!bobStream.streamId());
  await aliceStream.until(() =>
    aliceStream.items.some(
      (i) => i.item.case === "event" && i.item.value.payload.case === "presenceChanged" && i.item.value.payload.value.userId === bob.userId,
    ),
  );
  const seenFrom1 = await alice.api.presence.listPresence({ userIds: [bob.userId] });
  expect(seenFrom1.presences[0]).toMatchObject({ online: true, onlineDeviceIds: [bob.deviceId] });

  await alice.api.voice.join({ channelId, streamId: aliceStream.streamId()! });
  await bob.api.voice.join({ channelId, streamId: bobStream.streamId()! });
  await aliceStream.until(() =>
    aliceStream.items.some(
      (i) =>
        i.item.case === "event" &&
        i.item.value.payload.case === "voiceJoined" &&
        i.item.value.payload.value.member?.deviceId === bob.deviceId,
    ),
  );
  const rooms = await alice.api.voice.listVoiceRooms({});
  expect(rooms.rooms[0]!.members.map((m) => m.deviceId).sort()).toEqual([alice.deviceId, bob.deviceId].sort());
  const payload = sealedValue(9000); // bigger than one NOTIFY payload
  await alice.api.voice.signal({ channelId, recipientDeviceId: bob.deviceId, encryptedPayload: payload, keyEpoch: 1 });
  await bobStream.until(() => bobStream.items.some((i) => i.item.case === "event" && i.item.value.payload.case === "voiceSignal"));
  const sig = bobStream.items.find((i) => i.item.case === "event" && i.item.value.payload.case === "voiceSignal")!;
  expect(sig.item.case === "event" && sig.item.value.payload.case === "voiceSignal" && sig.item.value.payload.value.encryptedPayload).toBe(
    payload,
  );

  await bobStream.close();
  await aliceStream.until(() =>
    aliceStream.items.some(
      (i) =>
        i.item.case === "event" &&
        i.item.value.payload.case === "voiceLeft" &&
        i.item.value.payload.value.member?.deviceId === bob.deviceId,
    ),
  );
  expect((await alice.api.presence.listPresence({ userIds: [bob.userId] })).presences[0]!.online).toBe(false);
  await aliceStream.close();
}, 60_000);

test("a logout through process 2 ends that session's stream on process 1 and its cached session there, at once; another session lives on", async () => {
  const alice = await register(p1.url);
  const again = (await api(p1.url).auth.login({ username: alice.username, password: "password-123", devicePublicKey: alice.publicKey }))
    .session!;
  const other = { ...alice, token: again.token, api: api(p1.url, bearer(again.token)) };
  expect(again.deviceId).toBe(alice.deviceId); // same device, a second session
  const ended: Array<{ code: Code; at: number }> = [];
  const ac = new AbortController();
  let hello = false;
  const first = (async () => {
    try {
      for await (const it of alice.api.event.subscribe({}, { signal: ac.signal })) if (it.item.case === "hello") hello = true;
    } catch (err) {
      ended.push({ code: ConnectError.from(err).code, at: Date.now() });
    }
  })();
  const second = follow(other);
  await second.until(() => hello && !!second.streamId());
  expect((await alice.api.auth.getSession({})).userId).toBe(alice.userId); // now in process 1's session cache

  const loggedOutAt = Date.now();
  await api(p2.url, bearer(alice.token)).auth.logout({});
  await first;
  expect(ended).toHaveLength(1);
  expect(ended[0]!.code).toBe(Code.Unauthenticated);
  expect(ended[0]!.at - loggedOutAt).toBeLessThan(1000);
  expect(await codeOf(alice.api.auth.getSession({}))).toBe(Code.Unauthenticated);

  // The other session's stream still receives.
  await other.api.directory.setProfile({ encryptedName: sealedValue(), keyEpoch: 1 });
  await second.until(() => second.items.some((i) => i.item.case === "event" && i.item.value.payload.case === "profileUpdated"));
  expect((await other.api.auth.getSession({})).userId).toBe(alice.userId);
  await second.close();
}, 60_000);

test("SIGKILL of process 2 during a send burst loses no acknowledged message", async () => {
  const reader = await register(p1.url);
  const sub = follow(reader);
  await sub.until(() => !!sub.streamId());
  const client = createClient(MessageService, createGrpcTransport({ baseUrl: p2.url, idleConnectionTimeoutMs: 5 }));
  const acked: string[] = [];
  let stop = false;
  const workers = Array.from({ length: 20 }, async () => {
    while (!stop) {
      const messageId = randomUUID();
      try {
        await client.sendMessage(
          { messageId, channelId, encryptedBody: sealedValue(300), encryptedSenderName: sealedValue(), keyEpoch: 1 },
          { headers: bearer(admin.token) },
        );
        acked.push(messageId);
      } catch {
        return; // the process is gone
      }
    }
  });
  while (acked.length < 300) await new Promise((r) => setTimeout(r, 5));
  await p2.stop("SIGKILL");
  stop = true;
  await Promise.all(workers);
  expect(acked.length).toBeGreaterThanOrEqual(300);

  const sql = postgres(dbUrl, { max: 1 });
  const rows = await sql<{ id: string }[]>`SELECT id::text FROM messages WHERE id = ANY(${acked}::uuid[])`;
  await sql.end();
  expect(rows).toHaveLength(acked.length);
  await sub.until(() => {
    const ids = new Set(sub.messages().map((m) => m.id));
    return acked.every((id) => ids.has(id));
  });
  const ids = sub.messages().map((m) => m.id);
  expect(new Set(ids).size).toBe(ids.length);
  await sub.close();
}, 60_000);
