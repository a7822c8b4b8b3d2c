// Sessions against a real server: a keystore belongs to one account. After a logout, logging in
// to another account from the same config dir is refused (its device key, channel keys and pins
// are the first account's) with a clear error, and the keystore is left as it was.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { keystorePaths } from "../keystore/index.js";
import { SessionError } from "./errors.js";
import { login, logout } from "./session.js";
import { Harness, PASSPHRASE, PASSWORD } from "../../test/support/client-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
}, 60_000);
afterAll(() => h?.close());

test("logging in to another account from a logged-out keystore is refused and changes nothing; its own account logs in again", async () => {
  const alice = await h.register();
  const bob = await h.register();
  await logout(alice.client.store);
  const file = keystorePaths(alice.configDir, h.url).file;
  const before = await readFile(file);

  const access = { server: h.url, configDir: alice.configDir, passphrase: PASSPHRASE };
  const err = await login(access, { username: bob.username, password: PASSWORD }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SessionError);
  expect((err as SessionError).code).toBe("keystore-of-another-account");
  expect((err as Error).message).toMatch(/belongs to another account.*DIALTONE_CONFIG_DIR/);
  expect((await readFile(file)).equals(before)).toBe(true);
  // Bob's account gained no device.
  expect((await bob.client.api.device.listDevices({ userIds: [bob.client.me.userId] })).devices).toHaveLength(1);

  const again = await login(access, { username: alice.username, password: PASSWORD });
  expect(again.session.userId).toBe(alice.client.me.userId);
  expect(again.session.deviceId).toBe(alice.client.me.deviceId);
  expect(again.deviceCreated).toBe(false);
}, 60_000);
