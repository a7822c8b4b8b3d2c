import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
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

test("two processes saving at once both keep what they added (an invite secret lost is a member left pending)", async () => {
  const [a, b] = await Promise.all([KeystoreStore.open(dir, SERVER, PASS), KeystoreStore.open(dir, SERVER, PASS)]);
  const [secretA, secretB] = [generateSymmetricKey(), generateSymmetricKey()];
  a.keystore.addInviteSecret("invite-a", secretA);
  b.keystore.addInviteSecret("invite-b", secretB);
  await Promise.all([a.save(), b.save()]); // each reads the file, merges and writes: one at a time
  const disk = await Keystore.open(dir, SERVER, PASS);
  expect(disk.inviteSecret("invite-a")?.secret).toEqual(secretA);
  expect(disk.inviteSecret("invite-b")?.secret).toEqual(secretB);
  expect(await readdir(disk.paths.dir)).not.toContain("keystore.json.lock");
});

test("a lock left by a process that died does not block saves", async () => {
  const store = await KeystoreStore.open(dir, SERVER, PASS);
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
  await writeFile(`${store.keystore.paths.file}.lock`, `${dead}\n`);
  const key = generateSymmetricKey();
  store.keystore.setChannelKey("chan-c", 1, key);
  await store.save();
  expect((await Keystore.open(dir, SERVER, PASS)).channelKey("chan-c", 1)).toEqual(key);
});

test("scheduled saves are coalesced and flush writes pending changes", async () => {
  const store = await KeystoreStore.open(dir, SERVER, PASS);
  store.keystore.setLastEventSeq(50n);
  store.scheduleSave(60_000);
  store.scheduleSave(60_000);
  await store.flush();
  expect((await Keystore.open(dir, SERVER, PASS)).lastEventSeq).toBe(50n);
});

test("two processes asking for the search cache key at once get one key, kept on disk; a document without it opens", async () => {
  const own = await mkdtemp(join(dir, "cache-key-"));
  await KeystoreStore.openOrCreate(own, SERVER, PASS);
  const [a, b] = await Promise.all([KeystoreStore.open(own, SERVER, PASS), KeystoreStore.open(own, SERVER, PASS)]);
  // The keystore was just created without a cache key: the first to ask makes it, the other adopts it.
  expect(a.keystore.searchCacheKey).toBeUndefined();
  const [keyA, keyB] = await Promise.all([a.searchCacheKey(), b.searchCacheKey()]);
  expect(keyA).toHaveLength(32);
  expect(keyB).toEqual(keyA);
  expect((await Keystore.open(own, SERVER, PASS)).searchCacheKey).toEqual(keyA);
  // A later save by a third process that never asked keeps it.
  const c = await KeystoreStore.open(own, SERVER, PASS);
  c.keystore.setLastEventSeq(7n);
  await c.save();
  expect((await Keystore.open(own, SERVER, PASS)).searchCacheKey).toEqual(keyA);
});
