// The server integration suite. It runs once per database kind (server.pglite.test.ts,
// server.postgres.test.ts): the same repositories and rules must hold on both.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService } from "../gen/dialtone/v1/auth_service_pb.js";
import { MessageService } from "../gen/dialtone/v1/message_service_pb.js";
import { EventService } from "../gen/dialtone/v1/event_service_pb.js";
import { toBinary } from "@bufbuild/protobuf";
import { eq } from "drizzle-orm";
import { EventSchema, type Event } from "../gen/dialtone/v1/event_pb.js";
import { decodeStored, toSeqless } from "../server/codec/event-log.js";
import { DATA_MIGRATIONS } from "../server/db/data-migrations.js";
import { dataMigrations, events } from "../server/db/schema.js";
import { codeOf, dumpAllTables, errorOf } from "./support/assertions.js";
import { api, bearer, devicePublicKey, mintInvite, registerUser, sealedValue, type TestUser } from "./support/api.js";
import { databaseSource, type DatabaseSource, type DbKind } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/server.js";

export function serverSuite(kind: DbKind) {
  let source: DatabaseSource;
  beforeAll(async () => {
    source = await databaseSource(kind);
  }, 60_000);
  afterAll(async () => {
    await source?.stop();
  });

  async function withServer<T>(fn: (s: TestServer) => Promise<T>, opts: Parameters<typeof startTestServer>[1] = {}): Promise<T> {
    const db = await source.fresh();
    const server = await startTestServer(db, opts);
    try {
      return await fn(server);
    } finally {
      await server.close();
      await db.close();
    }
  }

  describe(`server on ${kind}`, () => {
    test("Connect over HTTP/1.1 and gRPC over h2c reach the same port", () =>
      withServer(async (s) => {
        const alice = await registerUser(s.url);
        const viaConnect = await alice.api.auth.getSession({});
        const grpc = createClient(AuthService, createGrpcTransport({ baseUrl: s.url, idleConnectionTimeoutMs: 5 }));
        const viaGrpc = await grpc.getSession({}, { headers: bearer(alice.token) });
        expect(viaConnect.userId).toBe(alice.userId);
        expect(viaGrpc.userId).toBe(alice.userId);
        expect(viaGrpc.deviceId).toBe(alice.deviceId);
      }));

    test("the first account is admin, later ones are not", () =>
      withServer(async (s) => {
        const first = await registerUser(s.url);
        const second = await registerUser(s.url);
        expect(first.isAdmin).toBe(true);
        expect(second.isAdmin).toBe(false);
      }));

    test("20 concurrent registrations with one invite create exactly one account", () =>
      withServer(async (s) => {
        const invite = await mintInvite(s.url);
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            api(s.url).auth.register({
              username: `racer-${i}`,
              password: "password-123",
              inviteToken: invite,
              devicePublicKey: devicePublicKey(),
            }),
          ),
        );
        const ok = results.filter((r) => r.status === "fulfilled");
        const codes = results.flatMap((r) => (r.status === "rejected" ? [ConnectError.from(r.reason).code] : []));
        expect(ok).toHaveLength(1);
        expect(codes.every((c) => c === Code.FailedPrecondition)).toBe(true);
        const profiles = await (await registerUser(s.url)).api.directory.listProfiles({});
        expect(profiles.profiles).toHaveLength(2);
      }));

    test("a failed registration leaves the invite usable", () =>
      withServer(async (s) => {
        const taken = await registerUser(s.url, "taken-name");
        const invite = await mintInvite(s.url);
        const anon = api(s.url).auth;
        const base = { password: "password-123", inviteToken: invite, devicePublicKey: devicePublicKey() };
        expect(await codeOf(anon.register({ ...base, username: taken.username }))).toBe(Code.AlreadyExists);
        expect(await codeOf(anon.register({ ...base, username: "Taken-Name " }))).toBe(Code.AlreadyExists);
        expect(await codeOf(anon.register({ ...base, username: "fresh", password: "short" }))).toBe(Code.InvalidArgument);
        expect(await codeOf(anon.register({ ...base, username: "fresh", devicePublicKey: "bm90IGEga2V5" }))).toBe(Code.InvalidArgument);
        const ok = await anon.register({ ...base, username: "fresh" });
        expect(ok.session?.isAdmin).toBe(false);
        expect(await codeOf(anon.register({ ...base, username: "another" }))).toBe(Code.FailedPrecondition);
      }));

    test("invites: unknown, revoked, multi-use and listed without tokens", () =>
      withServer(async (s) => {
        const admin = api(s.url, { "x-admin-token": s.adminToken });
        const anon = api(s.url).auth;
        const reg = (inviteToken: string, username: string) =>
          anon.register({ username, password: "password-123", inviteToken, devicePublicKey: devicePublicKey() });
        expect(await codeOf(reg("no-such-invite", "u1"))).toBe(Code.NotFound);
        const multi = await admin.invite.createInvite({ maxUses: 2 });
        await reg(multi.token, "m1");
        await reg(multi.token, "m2");
        expect(await codeOf(reg(multi.token, "m3"))).toBe(Code.FailedPrecondition);
        const revoked = await admin.invite.createInvite({});
        await admin.invite.revokeInvite({ inviteId: revoked.invite!.inviteId });
        expect(await codeOf(reg(revoked.token, "r1"))).toBe(Code.FailedPrecondition);
        const listed = await admin.invite.listInvites({ includeInactive: true });
        expect(listed.invites.map((i) => i.inviteId)).toEqual(expect.arrayContaining([multi.invite!.inviteId, revoked.invite!.inviteId]));
        expect(JSON.stringify(listed, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain(multi.token);
        const active = await admin.invite.listInvites({});
        expect(active.invites.map((i) => i.inviteId)).not.toContain(multi.invite!.inviteId);
      }));

    test("an admin session may mint invites; a member session may not", () =>
      withServer(async (s) => {
        const admin = await registerUser(s.url);
        const member = await registerUser(s.url);
        expect((await admin.api.invite.createInvite({})).token).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(await codeOf(member.api.invite.createInvite({}))).toBe(Code.PermissionDenied);
        expect(await codeOf(api(s.url).invite.createInvite({}))).toBe(Code.Unauthenticated);
        expect(await codeOf(api(s.url, { "x-admin-token": "wrong-token-0123456789" }).invite.createInvite({}))).toBe(Code.PermissionDenied);
      }));

    test("login: wrong password, new device announced", () =>
      withServer(async (s) => {
        const alice = await registerUser(s.url);
        const anon = api(s.url).auth;
        expect(await codeOf(anon.login({ username: alice.username, password: "wrong-password", devicePublicKey: alice.publicKey }))).toBe(
          Code.Unauthenticated,
        );
        expect(await codeOf(anon.login({ username: "nobody-here", password: "whatever-1", devicePublicKey: alice.publicKey }))).toBe(
          Code.Unauthenticated,
        );
        const same = await anon.login({ username: alice.username, password: "correct horse battery", devicePublicKey: alice.publicKey });
        expect(same.deviceCreated).toBe(false);
        expect(same.session?.deviceId).toBe(alice.deviceId);
        const second = await anon.login({
          username: ` ${alice.username.toUpperCase()}`,
          password: "correct horse battery",
          devicePublicKey: devicePublicKey(),
        });
        expect(second.deviceCreated).toBe(true);
        const devices = await alice.api.device.listDevices({ userIds: [alice.userId] });
        expect(devices.devices.map((d) => d.deviceId).sort()).toEqual([alice.deviceId, second.session!.deviceId].sort());
      }));

    test("ten wrong passwords from one address: the owner logs in from another at once and from that one after a second; the guesser waits", () =>
      withServer(
        async (s) => {
          const alice = await registerUser(s.url);
          const from = (address: string) => api(s.url, { "x-forwarded-for": address }).auth;
          const attempt = (address: string, password: string) =>
            errorOf(from(address).login({ username: alice.username, password, devicePublicKey: alice.publicKey }));
          for (let i = 0; i < 10; i++) expect((await attempt("203.0.113.9", "bad-password"))?.code).toBe(Code.Unauthenticated);
          // Refused at once: the wait runs from the tenth attempt's start, so nothing slow (the
          // owner's login is a scrypt) may come between them on a busy machine.
          const refused = await attempt("203.0.113.9", "bad-password");
          expect(refused?.code).toBe(Code.ResourceExhausted);
          // The old rule locked the account everywhere for a minute here.
          expect(await attempt("198.51.100.7", "correct horse battery")).toBeUndefined();
          // The first wait is 1 s by default; 3 s here, so a slow scrypt on a busy machine cannot outlast it.
          const wait = /^too many failed logins for this account from this address; try again in ([1-3]) s$/.exec(
            refused?.rawMessage ?? "",
          );
          expect(wait).not.toBeNull();
          await new Promise((r) => setTimeout(r, Number(wait![1]) * 1000));
          expect(await attempt("203.0.113.9", "correct horse battery")).toBeUndefined();
        },
        { trustedProxies: ["127.0.0.1"], loginBackoff: { baseMs: 3000 } },
      ));

    test("login and register are rate limited per client address", () =>
      withServer(
        async (s) => {
          const anon = api(s.url).auth;
          const codes = [];
          for (let i = 0; i < 5; i++)
            codes.push(await codeOf(anon.login({ username: "someone", password: "password-1", devicePublicKey: devicePublicKey() })));
          expect(codes.slice(0, 3)).toEqual([Code.Unauthenticated, Code.Unauthenticated, Code.Unauthenticated]);
          expect(codes.slice(3)).toEqual([Code.ResourceExhausted, Code.ResourceExhausted]);
        },
        { authRatePerIp: 3 },
      ));

    test("behind a trusted proxy, the limit counts the X-Forwarded-For client; a spoofed header from elsewhere is ignored", async () => {
      const login = (s: TestServer, forwardedFor: string) =>
        codeOf(
          api(s.url, { "x-forwarded-for": forwardedFor }).auth.login({
            username: "someone",
            password: "password-1",
            devicePublicKey: devicePublicKey(),
          }),
        );
      const db = await source.fresh();
      // This test's connections come from 127.0.0.1: first as a trusted proxy, then as a plain client.
      for (const trustedProxies of [["127.0.0.1"], ["10.0.0.0/8"]]) {
        const s = await startTestServer(db, { authRatePerIp: 2, trustedProxies });
        try {
          const codes = [];
          for (const client of ["198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.2", "1.1.1.1, 198.51.100.2"])
            codes.push(await login(s, client));
          const behindProxy = trustedProxies[0] === "127.0.0.1";
          expect(codes).toEqual(
            behindProxy
              ? [Code.Unauthenticated, Code.Unauthenticated, Code.ResourceExhausted, Code.Unauthenticated, Code.Unauthenticated]
              : [Code.Unauthenticated, Code.Unauthenticated, Code.ResourceExhausted, Code.ResourceExhausted, Code.ResourceExhausted],
          );
        } finally {
          await s.close();
        }
      }
      await db.close();
    });

    test("sessions survive a restart and die at logout", async () => {
      let db = await source.fresh();
      let server = await startTestServer(db);
      const alice = await registerUser(server.url);
      await server.close();
      db = await source.restart(db);
      server = await startTestServer(db);
      try {
        const me = api(server.url, bearer(alice.token));
        expect((await me.auth.getSession({})).userId).toBe(alice.userId);
        await me.auth.logout({});
        expect(await codeOf(me.auth.getSession({}))).toBe(Code.Unauthenticated);
        expect(await codeOf(me.channel.listChannels({}))).toBe(Code.Unauthenticated);
      } finally {
        await server.close();
        await db.close();
      }
    });

    test("an upgraded server keeps events stored with their seq inside: read alike, rewritten seqless once at start-up", async () => {
      let db = await source.fresh();
      let server = await startTestServer(db);
      const admin = await registerUser(server.url);
      const channelId = randomUUID();
      await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
      const sent = (
        await admin.api.message.sendMessage({
          messageId: randomUUID(),
          channelId,
          encryptedBody: sealedValue(),
          encryptedSenderName: sealedValue(),
          keyEpoch: 1,
        })
      ).message!;
      const replay = async (url: string) => {
        const ac = new AbortController();
        const out: Event[] = [];
        let head = -1n;
        for await (const item of api(url, bearer(admin.token)).event.subscribe({ afterSeq: 0n }, { signal: ac.signal })) {
          if (item.item.case === "hello") head = item.item.value.headSeq;
          if (item.item.case === "event") out.push(item.item.value);
          if (out.at(-1)?.seq === head) break;
        }
        ac.abort();
        return out;
      };
      const before = await replay(server.url);
      expect(before.map((e) => e.payload.case)).toEqual(["userJoined", "deviceAdded", "channelCreated", "messageCreated"]);
      const created = before.at(-1)!.payload.value as { message: { seq: bigint; messageId: string } };
      expect(created.message).toMatchObject({ seq: sent.seq, messageId: sent.messageId });
      expect(before.at(-1)!.seq).toBe(sent.seq);

      // The database as an older server left it: every payload with its seq inside, no data migration recorded.
      const rows = await db.db.select().from(events);
      for (const r of rows) expect(toSeqless(r.payload)).toBeUndefined();
      for (const r of rows)
        await db.db
          .update(events)
          .set({ payload: toBinary(EventSchema, decodeStored(r.seq, r.payload)) })
          .where(eq(events.seq, r.seq));
      await db.db.delete(dataMigrations);
      expect((await db.db.select().from(events)).every((r) => toSeqless(r.payload) !== undefined)).toBe(true);
      const old = await replay(server.url);
      expect(old.map((e) => toBinary(EventSchema, e))).toEqual(before.map((e) => toBinary(EventSchema, e)));

      await server.close();
      db = await source.restart(db); // migrates
      const rewritten = await db.db.select().from(events);
      expect(rewritten.every((r) => toSeqless(r.payload) === undefined)).toBe(true);
      expect((await db.db.select().from(dataMigrations)).map((r) => r.name)).toEqual(DATA_MIGRATIONS.map((m) => m.name));
      await db.migrate(); // recorded: runs once
      expect((await db.db.select().from(dataMigrations)).length).toBe(DATA_MIGRATIONS.length);
      server = await startTestServer(db);
      try {
        const after = await replay(server.url);
        expect(after.map((e) => toBinary(EventSchema, e))).toEqual(before.map((e) => toBinary(EventSchema, e)));
      } finally {
        await server.close();
        await db.close();
      }
    });

    test("a logout ends that session's open streams at once (unauthenticated), not another session's", () =>
      withServer(async (s) => {
        const alice = await registerUser(s.url);
        const again = (
          await api(s.url).auth.login({ username: alice.username, password: "correct horse battery", devicePublicKey: alice.publicKey })
        ).session!;
        const other = api(s.url, bearer(again.token));
        const open = (a: typeof other) => {
          const ac = new AbortController();
          const it = a.event.subscribe({}, { signal: ac.signal })[Symbol.asyncIterator]();
          return { it, ac };
        };
        const mine = open(alice.api);
        const theirs = open(other);
        expect((await mine.it.next()).value?.item.case).toBe("hello");
        expect((await theirs.it.next()).value?.item.case).toBe("hello");
        const start = Date.now();
        await alice.api.auth.logout({});
        const end = async () => {
          for (;;) if ((await mine.it.next()).done) return undefined; // events before the end are fine
        };
        const err = await end().catch((e: unknown) => ConnectError.from(e));
        expect(err?.code).toBe(Code.Unauthenticated);
        expect(Date.now() - start).toBeLessThan(1000);
        // The other session still works, and its stream still receives.
        await other.directory.setProfile({ encryptedName: sealedValue(), keyEpoch: 1 });
        let next = await theirs.it.next();
        while (next.value && !(next.value.item.case === "event" && next.value.item.value.payload.case === "profileUpdated"))
          next = await theirs.it.next();
        expect(next.done).toBe(false);
        theirs.ac.abort();
      }));

    test("a session may hold 3 event streams and a device 5 here (caps): one more is resource_exhausted naming which; closing one frees its place", () =>
      withServer(
        async (s) => {
          const alice = await registerUser(s.url);
          const second = api(
            s.url,
            bearer(
              (
                await api(s.url).auth.login({
                  username: alice.username,
                  password: "correct horse battery",
                  devicePublicKey: alice.publicKey,
                })
              ).session!.token,
            ),
          );
          const open = async (a: typeof second) => {
            const ac = new AbortController();
            const it = a.event.subscribe({}, { signal: ac.signal })[Symbol.asyncIterator]();
            try {
              const first = await it.next();
              return { ac, hello: first.value?.item.case, error: undefined as ConnectError | undefined };
            } catch (err) {
              return { ac, hello: undefined, error: ConnectError.from(err) };
            }
          };
          const mine = [await open(alice.api), await open(alice.api), await open(alice.api)];
          expect(mine.map((m) => m.hello)).toEqual(["hello", "hello", "hello"]);
          const fourth = await open(alice.api);
          expect([fourth.error?.code, fourth.error?.rawMessage]).toEqual([
            Code.ResourceExhausted,
            "session: at most 3 open event streams per session; close one first",
          ]);
          // The same device's other session: two more fit under the device's cap of 5, not three.
          const theirs = [await open(second), await open(second)];
          expect(theirs.map((m) => m.hello)).toEqual(["hello", "hello"]);
          const sixth = await open(second);
          expect(sixth.error?.rawMessage).toBe("device: at most 5 open event streams per device; close one first");
          // A closed stream frees its place once the server notices the client went (polled, up to 10 s).
          mine[0]!.ac.abort();
          let again = await open(alice.api);
          for (let i = 0; i < 500 && again.error; i++) {
            await new Promise((r) => setTimeout(r, 20));
            again = await open(alice.api);
          }
          expect(again.hello).toBe("hello");
          for (const m of [...mine, again, ...theirs]) m.ac.abort();
        },
        { streamsPerSession: 3, streamsPerDevice: 5 },
      ));

    test("sends are limited per session: a burst, then resource_exhausted with the wait; other sessions unaffected", () =>
      withServer(
        async (s) => {
          const alice = await registerUser(s.url);
          const channelId = randomUUID();
          await alice.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
          const send = (api: typeof alice.api) =>
            api.message.sendMessage({
              messageId: randomUUID(),
              channelId,
              encryptedBody: sealedValue(),
              encryptedSenderName: sealedValue(),
              keyEpoch: 1,
            });
          for (let i = 0; i < 3; i++) await send(alice.api);
          // One token every 20 s: the fourth send of the burst cannot have earned one yet.
          const refused = await send(alice.api).catch((e: unknown) => ConnectError.from(e));
          expect(refused).toBeInstanceOf(ConnectError);
          const err = refused as ConnectError;
          expect(err.code).toBe(Code.ResourceExhausted);
          expect(err.rawMessage).toMatch(/^sending too fast: a session may send 0\.05 messages a second \(bursts of 3\); retry in \d+ ms$/);
          // The same account's other session has a bucket of its own.
          const login = await api(s.url).auth.login({
            username: alice.username,
            password: "correct horse battery",
            devicePublicKey: alice.publicKey,
          });
          await send(api(s.url, bearer(login.session!.token)));
          const { messages } = await alice.api.message.listMessages({ channelId });
          expect(messages).toHaveLength(4);
        },
        { sendRatePerSession: 0.05, sendBurstPerSession: 3 },
      ));

    test("channels: admin create/rename/delete, idempotent create, members read only", () =>
      withServer(async (s) => {
        const admin = await registerUser(s.url);
        const bob = await registerUser(s.url);
        const id = randomUUID();
        const name = sealedValue();
        const created = await admin.api.channel.createChannel({ channelId: id, encryptedName: name });
        expect(created.channel?.keyEpoch).toBe(1);
        expect((await admin.api.channel.createChannel({ channelId: id, encryptedName: name })).channel?.channelId).toBe(id);
        expect(await codeOf(admin.api.channel.createChannel({ channelId: id, encryptedName: sealedValue() }))).toBe(Code.AlreadyExists);
        expect(await codeOf(bob.api.channel.createChannel({ channelId: randomUUID(), encryptedName: name }))).toBe(Code.PermissionDenied);
        const renamed = sealedValue();
        await admin.api.channel.renameChannel({ channelId: id, encryptedName: renamed });
        expect((await bob.api.channel.listChannels({})).channels.map((c) => c.encryptedName)).toEqual([renamed]);
        await admin.api.message.sendMessage({
          messageId: randomUUID(),
          channelId: id,
          encryptedBody: sealedValue(),
          encryptedSenderName: sealedValue(),
          keyEpoch: 1,
        });
        await admin.api.channel.deleteChannel({ channelId: id });
        expect((await bob.api.channel.listChannels({})).channels).toHaveLength(0);
        expect(await codeOf(bob.api.message.listMessages({ channelId: id }))).toBe(Code.NotFound);
        expect(await codeOf(admin.api.channel.deleteChannel({ channelId: id }))).toBe(Code.NotFound);
      }));

    test("SendMessage is idempotent per sender; history pages newest first", () =>
      withServer(async (s) => {
        const admin = await registerUser(s.url);
        const bob = await registerUser(s.url);
        const channelId = randomUUID();
        await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
        const msg = { messageId: randomUUID(), channelId, encryptedBody: sealedValue(), encryptedSenderName: sealedValue(), keyEpoch: 1 };
        const a = await bob.api.message.sendMessage(msg);
        const b = await bob.api.message.sendMessage(msg);
        expect(b.message).toEqual(a.message);
        expect(await codeOf(admin.api.message.sendMessage(msg))).toBe(Code.AlreadyExists);
        const ids: string[] = [msg.messageId];
        for (let i = 0; i < 7; i++) {
          const r = await admin.api.message.sendMessage({ ...msg, messageId: randomUUID(), encryptedBody: sealedValue() });
          ids.push(r.message!.messageId);
        }
        const page1 = await bob.api.message.listMessages({ channelId, limit: 5 });
        expect(page1.messages.map((m) => m.messageId)).toEqual(ids.slice(-5).reverse());
        expect(page1.hasMore).toBe(true);
        const page2 = await bob.api.message.listMessages({ channelId, limit: 5, beforeSeq: page1.messages.at(-1)!.seq });
        expect(page2.messages.map((m) => m.messageId)).toEqual(ids.slice(0, 3).reverse());
        expect(page2.hasMore).toBe(false);
        const all = await bob.api.message.listMessages({ channelId });
        expect(all.messages).toHaveLength(8);
        expect(all.messages[7]).toEqual(a.message);
      }));

    test("envelopes: the server sets the sender, one per sender, missing until the recipient accepts one", () =>
      withServer(async (s) => {
        const admin = await registerUser(s.url);
        const bob = await registerUser(s.url);
        const carol = await registerUser(s.url);
        const channelId = randomUUID();
        await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
        const missing = async (u: TestUser) =>
          (await u.api.envelope.listMissingEnvelopes({ kind: 1, scopeId: channelId })).missing.map((m) => m.deviceId).sort();
        expect(await missing(admin)).toEqual([admin.deviceId, bob.deviceId, carol.deviceId].sort());
        const envelope = (recipientDeviceId: string, fill: number) => ({
          kind: 1,
          scopeId: channelId,
          epoch: 1,
          recipientDeviceId,
          ciphertext: Buffer.concat([Buffer.from([1]), Buffer.alloc(92, fill)]).toString("base64"),
        });
        // The admin writes to itself (accepted at once) and to bob.
        expect(
          await admin.api.envelope.putEnvelopes({ envelopes: [envelope(admin.deviceId, 1), envelope(bob.deviceId, 7)] }),
        ).toMatchObject({ stored: 2, alreadyPresent: 0 });
        expect(await admin.api.envelope.putEnvelopes({ envelopes: [envelope(bob.deviceId, 8)] })).toMatchObject({
          stored: 0,
          alreadyPresent: 1,
        });
        // Carol, a member, writes junk for bob first-come or not: it sits beside the admin's.
        expect(await carol.api.envelope.putEnvelopes({ envelopes: [envelope(bob.deviceId, 9)] })).toMatchObject({
          stored: 1,
          alreadyPresent: 0,
        });
        const mine = (await bob.api.envelope.listEnvelopes({})).envelopes;
        expect(mine.map((e) => [e.senderDeviceId, e.senderUserId, e.senderPublicKey, e.ciphertext]).sort()).toEqual(
          [
            [admin.deviceId, admin.userId, admin.publicKey, envelope(bob.deviceId, 7).ciphertext],
            [carol.deviceId, carol.userId, carol.publicKey, envelope(bob.deviceId, 9).ciphertext],
          ].sort(),
        );
        // Not accepted yet: bob still lacks the key for anyone who has not written to him.
        expect(await missing(admin)).toEqual([carol.deviceId]);
        expect(await missing(carol)).toEqual([carol.deviceId]);
        expect(await missing(bob)).toEqual([bob.deviceId, carol.deviceId].sort());
        // Bob accepts the admin's and refuses carol's, which is deleted.
        const ref = (sender: TestUser) => ({ kind: 1, scopeId: channelId, epoch: 1, senderDeviceId: sender.deviceId });
        expect(await bob.api.envelope.acknowledgeEnvelopes({ accepted: [ref(admin)], rejected: [ref(carol)] })).toMatchObject({
          accepted: 1,
          rejected: 1,
        });
        expect((await bob.api.envelope.listEnvelopes({})).envelopes.map((e) => e.senderDeviceId)).toEqual([admin.deviceId]);
        for (const u of [admin, bob, carol]) expect(await missing(u)).toEqual([carol.deviceId]);
        // Only the recipient can acknowledge: carol's acknowledgement of bob's envelope matches nothing.
        expect(await carol.api.envelope.acknowledgeEnvelopes({ rejected: [ref(admin)] })).toMatchObject({ accepted: 0, rejected: 0 });
        expect((await bob.api.envelope.listEnvelopes({})).envelopes).toHaveLength(1);
      }));

    test("the directory key of an epoch belongs to the device that wrote itself one first", () =>
      withServer(async (s) => {
        const alice = await registerUser(s.url);
        const bob = await registerUser(s.url);
        const self = (u: TestUser) => ({
          kind: 2,
          scopeId: "directory",
          epoch: 1,
          recipientDeviceId: u.deviceId,
          ciphertext: Buffer.concat([Buffer.from([1]), Buffer.alloc(92, 3)]).toString("base64"),
        });
        expect(await alice.api.envelope.putEnvelopes({ envelopes: [self(alice)] })).toMatchObject({ stored: 1 });
        expect(await bob.api.envelope.putEnvelopes({ envelopes: [self(bob)] })).toMatchObject({ stored: 0, alreadyPresent: 1 });
        const missing = (await alice.api.envelope.listMissingEnvelopes({ kind: 2 })).missing.map((m) => m.deviceId);
        expect(missing).toEqual([bob.deviceId]);
      }));

    test("directory profiles and presence", () =>
      withServer(async (s) => {
        const alice = await registerUser(s.url);
        const bob = await registerUser(s.url);
        const name = sealedValue();
        await alice.api.directory.setProfile({ encryptedName: name, keyEpoch: 1 });
        const profiles = await bob.api.directory.listProfiles({});
        expect(profiles.profiles.find((p) => p.userId === alice.userId)).toMatchObject({ encryptedName: name, isAdmin: true });
        expect(profiles.profiles.find((p) => p.userId === bob.userId)).toMatchObject({ encryptedName: "", isAdmin: false });
        const ac = new AbortController();
        const stream = alice.api.event.subscribe({}, { signal: ac.signal })[Symbol.asyncIterator]();
        await stream.next();
        const online = await bob.api.presence.listPresence({ userIds: [alice.userId, bob.userId] });
        expect(online.presences.find((p) => p.userId === alice.userId)).toMatchObject({ online: true, onlineDeviceIds: [alice.deviceId] });
        expect(online.presences.find((p) => p.userId === bob.userId)?.online).toBe(false);
        ac.abort();
        await expect(stream.next()).rejects.toThrow();
        for (let i = 0; i < 50; i++) {
          const p = await bob.api.presence.listPresence({ userIds: [alice.userId] });
          if (!p.presences[0]!.online) return;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error("alice still online after her stream closed");
      }));

    test("DeleteMessage: the sender or an admin drops the ciphertext everywhere; a replayed feed and live streams get the tombstone", () =>
      withServer(async (s) => {
        const admin = await registerUser(s.url);
        const alice = await registerUser(s.url);
        const bob = await registerUser(s.url);
        const channelId = randomUUID();
        await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
        const send = async (who: TestUser) => {
          const body = sealedValue(200);
          const m = await who.api.message.sendMessage({
            messageId: randomUUID(),
            channelId,
            encryptedBody: body,
            encryptedSenderName: sealedValue(),
            keyEpoch: 1,
          });
          return { ...m.message!, body };
        };
        const mine = await send(alice);
        const moderated = await send(alice);
        const kept = await send(bob);
        const ac = new AbortController();
        const live = bob.api.event.subscribe({}, { signal: ac.signal })[Symbol.asyncIterator]();
        await live.next(); // the stream's first item: it is open
        // Not bob's to delete; nothing changes.
        const denied = await errorOf(bob.api.message.deleteMessage({ messageId: mine.messageId }));
        expect([denied?.code, denied?.rawMessage]).toEqual([Code.PermissionDenied, expect.stringMatching(/^message_id: /)]);
        expect(await alice.api.message.deleteMessage({ messageId: mine.messageId })).toMatchObject({ channelId });
        expect(await admin.api.message.deleteMessage({ messageId: moderated.messageId })).toMatchObject({ channelId });
        const gone = await errorOf(alice.api.message.deleteMessage({ messageId: mine.messageId }));
        expect([gone?.code, gone?.rawMessage]).toEqual([Code.NotFound, expect.stringMatching(/^message_id: /)]);
        const tombstones: Array<{ messageId: string; deletedByUserId: string }> = [];
        while (tombstones.length < 2) {
          const { value } = await live.next();
          const p = value?.item.case === "event" ? value.item.value.payload : undefined;
          if (p?.case === "messageDeleted") tombstones.push(p.value);
        }
        ac.abort();
        expect(tombstones).toEqual([
          expect.objectContaining({ messageId: mine.messageId, deletedByUserId: alice.userId }),
          expect.objectContaining({ messageId: moderated.messageId, deletedByUserId: admin.userId }),
        ]);
        const history = await bob.api.message.listMessages({ channelId });
        expect(history.messages.map((m) => m.messageId)).toEqual([kept.messageId]);
        // A feed replayed from the start: the deleted messages' own seqs now carry tombstones.
        const replay = new AbortController();
        const seen: Event[] = [];
        for await (const item of bob.api.event.subscribe({ afterSeq: 0n }, { signal: replay.signal })) {
          if (item.item.case === "event") seen.push(item.item.value);
          if (seen.filter((e) => e.payload.case === "messageDeleted").length === 4) break;
        }
        replay.abort();
        const atOwnSeq = seen.find((e) => e.seq === mine.seq);
        expect(atOwnSeq?.payload).toMatchObject({ case: "messageDeleted", value: { messageId: mine.messageId } });
        expect(
          seen
            .filter((e) => e.payload.case === "messageCreated")
            .map((e) => (e.payload.value as { message: { messageId: string } }).message.messageId),
        ).toEqual([kept.messageId]);
        // With the database in hand: the deleted bodies are nowhere, the kept one is.
        const dump = await dumpAllTables(s.database);
        expect(dump).toContain(kept.body);
        expect(dump).not.toContain(mine.body);
        expect(dump).not.toContain(moderated.body);
      }));

    test("read markers move forward only, follow the account to its other devices, and no one else", () =>
      withServer(async (s) => {
        const admin = await registerUser(s.url);
        const bob = await registerUser(s.url, "bob-reader");
        const laptop = await api(s.url).auth.login({
          username: "bob-reader",
          password: "correct horse battery",
          devicePublicKey: devicePublicKey(),
        });
        const bobLaptop = api(s.url, bearer(laptop.session!.token));
        const channelId = randomUUID();
        await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
        const ac = new AbortController();
        const open = async (a: ReturnType<typeof api>) => {
          const it = a.event.subscribe({}, { signal: ac.signal })[Symbol.asyncIterator]();
          await it.next();
          return it;
        };
        const onLaptop = await open(bobLaptop);
        const onAdmin = await open(admin.api);
        expect(await bob.api.readState.markRead({ channelId, seq: 40n })).toMatchObject({ marker: { channelId, seq: 40n } });
        // A device that read less does not move it back.
        expect(await bobLaptop.readState.markRead({ channelId, seq: 12n })).toMatchObject({ marker: { channelId, seq: 40n } });
        const moved: bigint[] = [];
        while (moved.length < 2) {
          const { value } = await onLaptop.next();
          const p = value?.item.case === "event" ? value.item.value.payload : undefined;
          if (p?.case === "readMarkerMoved") moved.push(p.value.marker!.seq);
        }
        expect(moved).toEqual([40n, 40n]);
        // The admin's stream saw no marker: send a message and read up to it.
        await admin.api.message.sendMessage({
          messageId: randomUUID(),
          channelId,
          encryptedBody: sealedValue(),
          encryptedSenderName: sealedValue(),
          keyEpoch: 1,
        });
        for (;;) {
          const { value } = await onAdmin.next();
          const p = value?.item.case === "event" ? value.item.value.payload : undefined;
          expect(p?.case).not.toBe("readMarkerMoved");
          if (p?.case === "messageCreated") break;
        }
        ac.abort();
        expect((await bobLaptop.readState.listReadMarkers({})).markers).toEqual([expect.objectContaining({ channelId, seq: 40n })]);
        expect((await admin.api.readState.listReadMarkers({})).markers).toEqual([]);
        await admin.api.channel.deleteChannel({ channelId });
        expect((await bob.api.readState.listReadMarkers({})).markers).toEqual([]);
      }));

    test("a dump of every table after a session holds no plaintext username", () =>
      withServer(async (s) => {
        const marker = `zq${randomUUID().replaceAll("-", "").slice(0, 12)}`;
        const alice = await registerUser(s.url, `${marker}-alice`);
        const bob = await registerUser(s.url, `${marker}-bob`);
        await api(s.url).auth.login({ username: `${marker}-bob`, password: "correct horse battery", devicePublicKey: devicePublicKey() });
        await codeOf(
          api(s.url).auth.login({ username: `${marker}-carol`, password: "correct horse battery", devicePublicKey: devicePublicKey() }),
        );
        const channelId = randomUUID();
        await alice.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
        await bob.api.message.sendMessage({
          messageId: randomUUID(),
          channelId,
          encryptedBody: sealedValue(),
          encryptedSenderName: sealedValue(),
          keyEpoch: 1,
        });
        await bob.api.auth.logout({});
        const dump = await dumpAllTables(s.database);
        expect(dump).toContain("users");
        expect(dump.length).toBeGreaterThan(500);
        expect(dump.toLowerCase()).not.toContain(marker);
        expect(dump).not.toContain(alice.token);
        expect(s.logs.join("").toLowerCase()).not.toContain(marker);
        expect(s.logs.join("")).not.toContain(alice.token);
      }));

    test(
      "Subscribe: a subscriber that drops during 1,000 concurrent sends and resumes sees each message once, in order",
      () =>
        withServer(async (s) => {
          const admin = await registerUser(s.url);
          const senders = [admin, await registerUser(s.url), await registerUser(s.url)];
          const reader = await registerUser(s.url);
          const channelId = randomUUID();
          await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
          const h2 = createGrpcTransport({ baseUrl: s.url, idleConnectionTimeoutMs: 5 });
          const sendClients = senders.map((u) => ({ u, c: createClient(MessageService, h2) }));
          const events = createClient(EventService, h2);
          const seen: Array<{ id: string; seq: bigint }> = [];
          let cursor: bigint | undefined;

          const first = new AbortController();
          const firstStream = (async () => {
            try {
              for await (const item of events.subscribe({}, { signal: first.signal, headers: bearer(reader.token) })) {
                if (item.item.case === "hello") cursor = item.item.value.headSeq;
                if (item.item.case === "event" && item.item.value.payload.case === "messageCreated") {
                  seen.push({ id: item.item.value.payload.value.message!.messageId, seq: item.item.value.seq });
                  cursor = item.item.value.seq;
                  if (seen.length === 250) first.abort();
                }
              }
            } catch (err) {
              if (ConnectError.from(err).code !== Code.Canceled) throw err;
            }
          })();
          while (cursor === undefined) await new Promise((r) => setTimeout(r, 5));

          const sent = await Promise.all(
            Array.from({ length: 1000 }, (_, i) => {
              const { u, c } = sendClients[i % sendClients.length]!;
              return c.sendMessage(
                { messageId: randomUUID(), channelId, encryptedBody: sealedValue(300), encryptedSenderName: sealedValue(), keyEpoch: 1 },
                { headers: bearer(u.token) },
              );
            }),
          );
          await firstStream;
          expect(seen.length).toBeGreaterThanOrEqual(250);

          const ids = new Set(sent.map((r) => r.message!.messageId));
          const second = new AbortController();
          for await (const item of events.subscribe({ afterSeq: cursor }, { signal: second.signal, headers: bearer(reader.token) })) {
            if (item.item.case === "event" && item.item.value.payload.case === "messageCreated") {
              seen.push({ id: item.item.value.payload.value.message!.messageId, seq: item.item.value.seq });
              if (seen.length === 1000) break;
            }
          }
          second.abort();
          expect(seen.map((x) => x.id).sort()).toEqual([...ids].sort());
          expect(new Set(seen.map((x) => x.id)).size).toBe(1000);
          for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq > seen[i - 1]!.seq).toBe(true);
          const bySeq = new Map(sent.map((r) => [r.message!.messageId, r.message!.seq]));
          for (const x of seen) expect(x.seq).toBe(bySeq.get(x.id));
        }),
      120_000,
    );
  });
}
