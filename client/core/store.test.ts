import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSymmetricKey } from "../crypto/index.js";
import { Keystore } from "../keystore/index.js";
import { KeystoreStore } from "./store.js";

const SERVER = "http://chat.example:8080";
const PASS = "keystore passphrase";
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "dialtone-store-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test("two processes on one keystore: each save keeps what the other saved", async () => {
  const { store: a, created } = await KeystoreStore.openOrCreate(dir, SERVER, PASS);
  expect(created).toBe(true);
  a.setSession({ token: "t1", userId: "u1", deviceId: "d1", isAdmin: false, expiresAt: new Date(Date.now() + 3_600_000) });
  await a.save();
  const b = await KeystoreStore.open(dir, SERVER, PASS);

  const keyA = generateSymmetricKey();
  const keyB = generateSymmetricKey();
  a.keystore.setChannelKey("chan-a", 1, keyA);
  a.keystore.pinDevice("dev-x", "user-x", new Uint8Array(32).fill(1));
  a.keystore.setLastEventSeq(40n);
  await a.save();
  b.keystore.setChannelKey("chan-b", 1, keyB);
  b.keystore.setDirectoryKey(1, keyB);
  await b.save(); // without the merge, this would drop chan-a and the pin
  a.forgetChannel("chan-b"); // a saw the channel deleted: its key must not come back from disk
  await a.save();

  const disk = await Keystore.open(dir, SERVER, PASS);
  expect(disk.channelKey("chan-a", 1)).toEqual(keyA);
  expect(disk.channelKey("chan-b", 1)).toBeUndefined();
  expect(disk.directoryKey(1)).toEqual(keyB);
  expect(disk.pinnedDevice("dev-x")?.userId).toBe("user-x");
  expect(disk.lastEventSeq).toBe(40n);
  expect(disk.session?.token).toBe("t1");

  // A logout by one process is adopted by another that did not touch the session.
  const c = await KeystoreStore.open(dir, SERVER, PASS);
  b.clearSession();
  await b.save();
  c.keystore.setLastEventSeq(42n);
  await c.save();
  expect((await Keystore.open(dir, SERVER, PASS)).session).toBeUndefined();
});

test("scheduled saves are coalesced and flush writes pending changes", async () => {
  const store = await KeystoreStore.open(dir, SERVER, PASS);
  store.keystore.setLastEventSeq(50n);
  store.scheduleSave(60_000);
  store.scheduleSave(60_000);
  await store.flush();
  expect((await Keystore.open(dir, SERVER, PASS)).lastEventSeq).toBe(50n);
});
