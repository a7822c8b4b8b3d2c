// Membership news as members see it: the admin flag follows the server (an AdminChanged event,
// or the session read at each connect, not only the flag saved at login), and a removed account
// leaves member lists at once and for good, with a notice.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { deviceFingerprint } from "../crypto/index.js";
import type { ClientEvents } from "./events.js";
import { eventually, Harness, type TestInstall } from "../../test/support/client-harness.js";

let h: Harness;
let admin: TestInstall;
let bob: TestInstall;

beforeAll(async () => {
  h = await Harness.start();
  admin = await h.register("admin");
  bob = await h.register("bob");
}, 90_000);
afterAll(() => h?.close());

test("a member promoted while online is an admin at once, and everyone's directory shows it", async () => {
  const seen: ClientEvents["admin-changed"][] = [];
  bob.client.on("admin-changed", (a) => void seen.push(a));
  bob.client.start();
  await bob.client.waitOnline();
  expect(bob.client.me.isAdmin).toBe(false);
  await admin.client.api.admin.setAdmin({ userId: bob.client.me.userId, isAdmin: true });
  // The flag may come first from the session read at connect (racing the promotion), the event
  // a moment later: wait for each.
  await eventually(() => bob.client.me.isAdmin || undefined, 10_000, "bob's admin flag");
  await eventually(() => (seen.length > 0 ? true : undefined), 10_000, "the admin-changed event");
  expect(seen).toContainEqual(expect.objectContaining({ userId: bob.client.me.userId, isAdmin: true, me: true }));
  expect(bob.client.users().find((u) => u.userId === bob.client.me.userId)?.isAdmin).toBe(true);
  await bob.client.close();
});

test("a saved session resumed after a promotion reads the flag from the server when it connects", async () => {
  const carol = await h.register("carol");
  await carol.client.close();
  await admin.client.api.admin.setAdmin({ userId: carol.client.me.userId, isAdmin: true });
  const again = await h.reopen(carol); // the keystore still says what it said at login: a member
  expect(again.me.isAdmin).toBe(false);
  again.start();
  await again.waitOnline();
  await eventually(() => again.me.isAdmin || undefined, 10_000, "the flag read at connect");
});

test("a removed account is announced and leaves the member list, live and after a restart", async () => {
  const dave = await h.register("dave");
  const alice = await h.register("alice");
  const removed: ClientEvents["user-removed"][] = [];
  alice.client.on("user-removed", (u) => void removed.push(u));
  alice.client.start();
  await alice.client.waitOnline();
  await admin.client.removeUser(dave.client.me.userId);
  await eventually(() => removed.find((u) => u.userId === dave.client.me.userId), 10_000, "the removal notice");
  expect(alice.client.users().find((u) => u.userId === dave.client.me.userId)?.removed).toBe(true);
  const fresh = await h.reopen(alice);
  expect(fresh.users().find((u) => u.userId === dave.client.me.userId)?.removed).toBe(true);
  expect(fresh.users().find((u) => u.userId === alice.client.me.userId)?.removed).toBe(false);
});

test("a device of yours you do not recognise is revoked by its fingerprint, with a signed revocation", async () => {
  const eve = await h.register("eve");
  const stranger = await h.newDevice("eve", { approve: false });
  const fp = await deviceFingerprint(stranger.client.store.keystore.devicePublicKey);
  await expect(eve.client.rejectDevice("0000 0000 0000 0000 0000")).rejects.toThrow(/no other device of yours/);
  const r = await eve.client.rejectDevice(fp.toUpperCase());
  expect(r.deviceId).toBe(stranger.client.me.deviceId);
  const { devices } = await eve.client.api.device.listDevices({ userIds: [eve.client.me.userId], includeRevoked: true });
  const listed = devices.find((d) => d.deviceId === stranger.client.me.deviceId);
  expect(listed?.revokedAt).toBeDefined();
  expect(listed?.revocation).toMatch(/^[A-Za-z0-9+/]{86}==$/);
  expect((await eve.client.trustSnapshot()).devices.get(stranger.client.me.deviceId)?.trust).toBe("revoked");
});
