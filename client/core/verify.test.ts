import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { registerUser } from "../../test/support/api.js";
import { Harness, type TestInstall } from "../../test/support/client-harness.js";

let h: Harness;
let alice: TestInstall;
let bob: TestInstall;
beforeAll(async () => {
  h = await Harness.start();
  alice = await h.register("alice");
  bob = await h.register("bob");
}, 60_000);
afterAll(() => h?.close());

test("both sides see the same 60 digits over identity keys; a new device changes nothing, the verification holds", async () => {
  const fromAlice = await alice.client.safetyNumber(bob.client.me.userId);
  const fromBob = await bob.client.safetyNumber(alice.client.me.userId);
  expect(fromAlice.basis).toBe("identity");
  expect(fromAlice.digits).toMatch(/^\d{60}$/);
  expect(fromBob.digits).toBe(fromAlice.digits);
  expect(fromAlice.formatted.split("\n")).toHaveLength(3);
  expect(fromAlice.verified).toBe(false);

  await bob.client.markVerified(fromBob);
  expect((await bob.client.safetyNumber(alice.client.me.userId)).verified).toBe(true);

  // A device added (approved) or planted changes no identity: the number and the mark stay.
  const alice2 = await h.newDevice("alice");
  await alice2.client.reconcile();
  const afterA = await alice.client.safetyNumber(bob.client.me.userId);
  const afterB = await bob.client.safetyNumber(alice.client.me.userId);
  const afterA2 = await alice2.client.safetyNumber(bob.client.me.userId);
  expect(afterA.digits).toBe(fromAlice.digits);
  expect(afterB.digits).toBe(fromAlice.digits);
  expect(afterA2.digits).toBe(fromAlice.digits);
  expect(afterB.verified).toBe(true);

  // The verification is stored in the keystore: another process of bob's install sees it too.
  const bobAgain = await h.reopen(bob);
  expect((await bobAgain.safetyNumber(alice.client.me.userId)).verified).toBe(true);
});

test("an account without an identity yet gets the version-0 number over its devices; a changed device key is left out and blocks verification", async () => {
  // Registered through the API alone: no client ever created an identity for it (as before the upgrade).
  const legacy = await registerUser(h.url);
  const second = await legacy.api.auth.login({
    username: legacy.username,
    password: "correct horse battery",
    devicePublicKey: (await import("../../test/support/api.js")).devicePublicKey(),
  });
  const secondId = second.session!.deviceId;
  // alice pinned the second device's id with another key before: the server now shows a different one.
  alice.client.store.keystore.pinDevice(secondId, legacy.userId, new Uint8Array(32).fill(9));
  const r = await alice.client.safetyNumber(legacy.userId);
  expect(r.basis).toBe("devices");
  expect(r.refused.map((d) => d.deviceId)).toEqual([secondId]);
  expect(r.devices.map((d) => d.deviceId)).toContain(legacy.deviceId);
  expect(r.devices.map((d) => d.deviceId)).not.toContain(secondId);
  await expect(alice.client.markVerified(r)).rejects.toThrow(/changed key/);
  await expect(alice.client.safetyNumber(alice.client.me.userId)).rejects.toThrow(/someone else/);
});
