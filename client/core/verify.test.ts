import { afterAll, beforeAll, expect, test } from "@jest/globals";
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

test("both sides see the same 60 digits; a new device changes them and voids the verification", async () => {
  const fromAlice = await alice.client.safetyNumber(bob.client.me.userId);
  const fromBob = await bob.client.safetyNumber(alice.client.me.userId);
  expect(fromAlice.digits).toMatch(/^\d{60}$/);
  expect(fromBob.digits).toBe(fromAlice.digits);
  expect(fromAlice.formatted.split("\n")).toHaveLength(3);
  expect(fromAlice.verified).toBe(false);

  await bob.client.markVerified(fromBob);
  expect((await bob.client.safetyNumber(alice.client.me.userId)).verified).toBe(true);

  const alice2 = await h.newDevice("alice");
  const afterA = await alice.client.safetyNumber(bob.client.me.userId);
  const afterB = await bob.client.safetyNumber(alice.client.me.userId);
  const afterA2 = await alice2.client.safetyNumber(bob.client.me.userId);
  expect(afterA.digits).not.toBe(fromAlice.digits);
  expect(afterB.digits).toBe(afterA.digits);
  expect(afterA2.digits).toBe(afterA.digits);
  expect(afterB.devices.map((d) => d.deviceId)).toContain(alice2.client.me.deviceId);
  expect(afterB.verified).toBe(false); // the device set changed: compare again

  // The verification is stored in the keystore: another process of bob's install sees it too.
  await bob.client.markVerified(afterB);
  const bobAgain = await h.reopen(bob);
  expect((await bobAgain.safetyNumber(alice.client.me.userId)).verified).toBe(true);
});

test("a device whose key changed is left out of the number and blocks marking it verified", async () => {
  const carol = await h.register("carol");
  const carol2 = await h.newDevice(carol.username);
  // alice pinned carol2's device id with another key before: the server now shows a different one.
  alice.client.store.keystore.pinDevice(carol2.client.me.deviceId, carol.client.me.userId, new Uint8Array(32).fill(9));
  const r = await alice.client.safetyNumber(carol.client.me.userId);
  expect(r.refused.map((d) => d.deviceId)).toEqual([carol2.client.me.deviceId]);
  expect(r.devices.map((d) => d.deviceId)).not.toContain(carol2.client.me.deviceId);
  await expect(alice.client.markVerified(r)).rejects.toThrow(/changed key/);
  await expect(alice.client.safetyNumber(alice.client.me.userId)).rejects.toThrow(/someone else/);
});
