// AdminService on both databases: removing an account ends its sessions, streams and
// voice membership at once; the admin flag can be granted and revoked, never from the
// last admin; any device can be revoked; every change is an event and an audit line.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Event } from "../gen/dialtone/v1/event_pb.js";
import type { SubscribeResponse } from "../gen/dialtone/v1/event_service_pb.js";
import { adminApi, api, devicePublicKey, mintInvite, registerUser, sealedValue, type TestUser } from "./support/api.js";
import { codeOf, errorOf } from "./support/assertions.js";
import { databaseSource, type DatabaseSource, type DbKind } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/server.js";

/** An open Subscribe stream whose items are collected in the background. */
function open(user: TestUser) {
  const ac = new AbortController();
  const items: SubscribeResponse[] = [];
  let ended: unknown;
  let endedAt = 0;
  const done = (async () => {
    try {
      for await (const item of user.api.event.subscribe({}, { signal: ac.signal })) items.push(item);
    } catch (err) {
      ended = err;
    } finally {
      endedAt = performance.now();
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
  const events = () => items.flatMap((i) => (i.item.case === "event" ? [i.item.value] : []));
  const streamId = async () => {
    const h = await waitFor((i) => i.item.case === "hello");
    return h.item.case === "hello" ? h.item.value.streamId : "";
  };
  return {
    items,
    events,
    waitFor,
    streamId,
    done,
    endedAt: () => endedAt,
    close: async () => (ac.abort(), await done),
    ended: () => ended,
  };
}

const payloadCase = (e: Event) => e.payload.case;

describe.each<DbKind>(["pglite", "postgres"])("AdminService on %s", (kind) => {
  let source: DatabaseSource;
  beforeAll(async () => {
    source = await databaseSource(kind);
  }, 60_000);
  afterAll(() => source?.stop());

  async function withServer<T>(fn: (s: TestServer) => Promise<T>): Promise<T> {
    const db = await source.fresh();
    const server = await startTestServer(db);
    try {
      return await fn(server);
    } finally {
      await server.close();
      await db.close();
    }
  }

  test("RemoveUser: the session is refused, the open stream ends within a second, voice membership ends", () =>
    withServer(async (s) => {
      const owner = await registerUser(s.url);
      const bob = await registerUser(s.url, `bob-${randomUUID().slice(0, 6)}`);
      const channelId = randomUUID();
      await owner.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
      const watcher = open(owner);
      const bobStream = open(bob);
      await bob.api.voice.join({ channelId, streamId: await bobStream.streamId() });
      await watcher.streamId();

      const t0 = performance.now();
      const res = await owner.api.admin.removeUser({ userId: bob.userId });
      expect(res.revokedDeviceIds).toEqual([bob.deviceId]);
      await bobStream.done;
      expect(bobStream.endedAt() - t0).toBeLessThan(1000);
      expect(ConnectError.from(bobStream.ended()).code).toBe(Code.PermissionDenied);
      expect(await codeOf(bob.api.auth.getSession({}))).toBe(Code.Unauthenticated);
      expect(await codeOf(bob.api.channel.listChannels({}))).toBe(Code.Unauthenticated);
      expect(
        await codeOf(api(s.url).auth.login({ username: bob.username, password: "correct horse battery", devicePublicKey: bob.publicKey })),
      ).toBe(Code.Unauthenticated);

      // Other subscribers learn it: DeviceRevoked then UserRemoved, and the voice room empties.
      await watcher.waitFor((i) => i.item.case === "event" && i.item.value.payload.case === "userRemoved");
      const durable = watcher.events().filter((e) => e.seq > 0n);
      expect(durable.slice(-2).map(payloadCase)).toEqual(["deviceRevoked", "userRemoved"]);
      const removed = durable.at(-1)!.payload;
      expect(removed.case === "userRemoved" && removed.value).toMatchObject({ userId: bob.userId, revokedDeviceIds: [bob.deviceId] });
      await watcher.waitFor(
        (i) =>
          i.item.case === "event" &&
          i.item.value.payload.case === "voiceLeft" &&
          i.item.value.payload.value.member?.deviceId === bob.deviceId,
      );
      expect((await owner.api.voice.listVoiceRooms({})).rooms).toEqual([]);

      // The account stays as a tombstone; its name is free again.
      expect((await owner.api.admin.listUsers({})).users.map((u) => u.userId)).toEqual([owner.userId]);
      const all = await owner.api.admin.listUsers({ includeRemoved: true });
      const tomb = all.users.find((u) => u.userId === bob.userId)!;
      expect(tomb.removedAt).toBeDefined();
      expect(tomb.devices.map((d) => [d.deviceId, !!d.revokedAt])).toEqual([[bob.deviceId, true]]);
      expect((await owner.api.admin.removeUser({ userId: bob.userId })).revokedDeviceIds).toEqual([]); // idempotent
      const again = await api(s.url).auth.register({
        username: bob.username,
        password: "correct horse battery",
        inviteToken: await mintInvite(s.url),
        devicePublicKey: devicePublicKey(),
      });
      expect(again.session!.userId).not.toBe(bob.userId);

      const audit = s.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "audit");
      expect(audit).toContainEqual(
        expect.objectContaining({ action: "remove_user", actor: owner.userId, target_user_id: bob.userId, changed: true }),
      );
      expect(s.logs.join("")).not.toContain(bob.username);
      await watcher.close();
    }));

  test("ListUsers: ids, admin flags, devices with last seen, creation times; never a username", () =>
    withServer(async (s) => {
      const alice = await registerUser(s.url);
      const bob = await registerUser(s.url);
      const second = await api(s.url).auth.login({
        username: bob.username,
        password: "correct horse battery",
        devicePublicKey: devicePublicKey(),
      });
      const stream = open(bob);
      await stream.streamId();
      const res = await adminApi(s.url).admin.listUsers({});
      expect(res.users.map((u) => [u.userId, u.isAdmin])).toEqual([
        [alice.userId, true],
        [bob.userId, false],
      ]);
      const b = res.users[1]!;
      expect(b.online).toBe(true);
      expect(b.createdAt).toBeDefined();
      expect(b.devices.map((d) => d.deviceId)).toEqual([bob.deviceId, second.session!.deviceId]);
      expect(b.devices.every((d) => d.lastSeenAt !== undefined && d.publicKey.length === 44)).toBe(true);
      const text = JSON.stringify(res, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
      expect(text).not.toContain(alice.username);
      expect(text).not.toContain(bob.username);
      await stream.close();
    }));

  test("SetAdmin grants and revokes, announces AdminChanged, and never revokes the last admin", () =>
    withServer(async (s) => {
      const alice = await registerUser(s.url);
      const bob = await registerUser(s.url);
      const watcher = open(bob);
      await watcher.streamId();
      expect(await codeOf(bob.api.channel.createChannel({ channelId: randomUUID(), encryptedName: sealedValue() }))).toBe(
        Code.PermissionDenied,
      );
      const granted = await alice.api.admin.setAdmin({ userId: bob.userId, isAdmin: true });
      expect(granted.user).toMatchObject({ userId: bob.userId, isAdmin: true, online: true });
      expect((await bob.api.auth.getSession({})).isAdmin).toBe(true); // at once, same session
      await bob.api.channel.createChannel({ channelId: randomUUID(), encryptedName: sealedValue() });
      const ev = await watcher.waitFor((i) => i.item.case === "event" && i.item.value.payload.case === "adminChanged");
      expect(ev.item.case === "event" && ev.item.value.payload.value).toMatchObject({ userId: bob.userId, isAdmin: true });

      await bob.api.admin.setAdmin({ userId: alice.userId, isAdmin: false });
      expect((await alice.api.auth.getSession({})).isAdmin).toBe(false);
      expect(await codeOf(alice.api.admin.listUsers({}))).toBe(Code.PermissionDenied);
      const last = await errorOf(adminApi(s.url).admin.setAdmin({ userId: bob.userId, isAdmin: false }));
      expect(last?.code).toBe(Code.FailedPrecondition);
      expect(last?.rawMessage).toMatch(/last admin/);
      expect(await codeOf(adminApi(s.url).admin.removeUser({ userId: bob.userId }))).toBe(Code.FailedPrecondition);
      expect((await adminApi(s.url).admin.setAdmin({ userId: bob.userId, isAdmin: true })).user?.isAdmin).toBe(true); // no-op

      // Two admins demoting each other at once: exactly one demotion wins.
      await adminApi(s.url).admin.setAdmin({ userId: alice.userId, isAdmin: true });
      const race = await Promise.all([
        codeOf(adminApi(s.url).admin.setAdmin({ userId: alice.userId, isAdmin: false })),
        codeOf(adminApi(s.url).admin.setAdmin({ userId: bob.userId, isAdmin: false })),
      ]);
      expect(race.sort()).toEqual(["ok", Code.FailedPrecondition].sort());
      expect((await adminApi(s.url).admin.listUsers({})).users.filter((u) => u.isAdmin)).toHaveLength(1);

      const audit = s.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "audit");
      expect(audit).toContainEqual(expect.objectContaining({ action: "grant_admin", actor: alice.userId, target_user_id: bob.userId }));
      expect(audit).toContainEqual(expect.objectContaining({ action: "revoke_admin", actor: "admin-token", changed: true }));
      await watcher.close();
    }));

  test("RevokeDevice: any device, with the admin token; its stream ends and its session stops", () =>
    withServer(async (s) => {
      await registerUser(s.url);
      const bob = await registerUser(s.url);
      const stream = open(bob);
      await stream.streamId();
      await adminApi(s.url).admin.revokeDevice({ deviceId: bob.deviceId.toUpperCase() });
      await stream.done;
      expect(ConnectError.from(stream.ended()).code).toBe(Code.PermissionDenied);
      expect(await codeOf(bob.api.auth.getSession({}))).toBe(Code.Unauthenticated);
      await adminApi(s.url).admin.revokeDevice({ deviceId: bob.deviceId }); // idempotent
      const audit = s.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "audit");
      expect(audit).toContainEqual(
        expect.objectContaining({
          action: "revoke_device",
          actor: "admin-token",
          target_device_id: bob.deviceId,
          target_user_id: bob.userId,
          changed: true,
        }),
      );
    }));

  test("bad input and missing rights on every AdminService RPC", () =>
    withServer(async (s) => {
      await registerUser(s.url);
      const member = await registerUser(s.url);
      const admin = adminApi(s.url).admin;
      const wrongToken = api(s.url, { "x-admin-token": "wrong-token-0123456789" }).admin;
      const anon = api(s.url).admin;
      const unknown = randomUUID();
      const calls = {
        setAdmin: {
          field: "user_id",
          call: (a: typeof admin, id: string) => a.setAdmin({ userId: id, isAdmin: true }),
        },
        removeUser: { field: "user_id", call: (a: typeof admin, id: string) => a.removeUser({ userId: id }) },
        revokeDevice: { field: "device_id", call: (a: typeof admin, id: string) => a.revokeDevice({ deviceId: id }) },
      };
      for (const [name, { field, call }] of Object.entries(calls)) {
        for (const bad of ["", "not-a-uuid", `${unknown}x`, "'; DROP TABLE users; --"]) {
          const err = await errorOf(call(admin, bad));
          expect([name, bad, err?.code]).toEqual([name, bad, Code.InvalidArgument]);
          expect(err?.rawMessage).toMatch(new RegExp(`^${field}: `));
        }
        expect([name, await codeOf(call(admin, unknown))]).toEqual([name, Code.NotFound]);
        expect([name, await codeOf(call(member.api.admin, member.userId))]).toEqual([name, Code.PermissionDenied]);
        expect([name, await codeOf(call(wrongToken, member.userId))]).toEqual([name, Code.PermissionDenied]);
        expect([name, await codeOf(call(anon, member.userId))]).toEqual([name, Code.Unauthenticated]);
      }
      expect(await codeOf(member.api.admin.listUsers({}))).toBe(Code.PermissionDenied);
      expect(await codeOf(wrongToken.listUsers({}))).toBe(Code.PermissionDenied);
      expect(await codeOf(anon.listUsers({}))).toBe(Code.Unauthenticated);
      // Nothing above changed the member.
      expect((await member.api.auth.getSession({})).isAdmin).toBe(false);
    }));
});
