import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import { deriveKeystoreKey, generateSymmetricKey, generateX25519KeyPair, sealKeystore, utf8Encode } from "../crypto/index.js";
import { tempPathFor, writeFileAtomic } from "./atomic.js";
import { Keystore, KeystoreError, keystorePaths, nodeScrypt, resolveConfigDir, serverOrigin } from "./index.js";

const ORIGIN = "https://chat.example.org:8443";
const PASS = "correct horse battery staple";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dialtone-keystore-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe("Keystore round trip", () => {
  test("everything saved comes back after open", async () => {
    const store = await Keystore.create(dir, ORIGIN, PASS);
    const pair = store.deviceKeyPair;
    const k1 = generateSymmetricKey();
    const k2 = generateSymmetricKey();
    const dk = generateSymmetricKey();
    const bob = await generateX25519KeyPair();
    expect(store.setChannelKey("chan-1", 1, k1)).toBe("added");
    expect(store.setChannelKey("chan-1", 2, k2)).toBe("added");
    expect(store.setDirectoryKey(1, dk)).toBe("added");
    expect(store.pinDevice("dev-bob", "user-bob", bob.publicKey, new Date("2024-01-02T03:04:05.678Z"))).toBe("pinned");
    store.setDeviceVerified("dev-bob", true);
    store.setUserVerified("user-bob", "1".repeat(60), new Date("2024-02-03T00:00:00Z"));
    store.setSession({
      token: "session-token",
      userId: "user-me",
      deviceId: "dev-me",
      expiresAt: new Date("2030-01-01T00:00:00Z"),
      isAdmin: true,
    });
    store.setLastEventSeq(9007199254740993n); // above 2^53: must survive as a bigint
    await store.save();

    const again = await Keystore.open(dir, ORIGIN, PASS);
    expect(again.deviceKeyPair).toEqual(pair);
    expect(again.channelKey("chan-1", 1)).toEqual(k1);
    expect(again.latestChannelKey("chan-1")).toEqual({ epoch: 2, key: k2 });
    expect(again.channelKey("chan-1", 3)).toBeUndefined();
    expect(again.latestChannelKey("chan-2")).toBeUndefined();
    expect(again.channelIds()).toEqual(["chan-1"]);
    expect(again.latestDirectoryKey()).toEqual({ epoch: 1, key: dk });
    expect(again.pinnedDevice("dev-bob")).toEqual({
      deviceId: "dev-bob",
      userId: "user-bob",
      publicKey: bob.publicKey,
      firstSeen: new Date("2024-01-02T03:04:05.678Z"),
      verified: true,
    });
    expect(again.pinnedDevicesOf("user-bob")).toHaveLength(1);
    expect(again.isUserVerified("user-bob", "1".repeat(60))).toBe(true);
    expect(again.isUserVerified("user-bob", "2".repeat(60))).toBe(false);
    expect(again.verifiedUser("user-bob")?.verifiedAt).toEqual(new Date("2024-02-03T00:00:00Z"));
    expect(again.session).toEqual({
      token: "session-token",
      userId: "user-me",
      deviceId: "dev-me",
      expiresAt: new Date("2030-01-01T00:00:00Z"),
      isAdmin: true,
    });
    expect(again.lastEventSeq).toBe(9007199254740993n);

    again.clearSession();
    again.forgetChannel("chan-1");
    again.clearUserVerified("user-bob");
    await again.save();
    const third = await Keystore.open(dir, ORIGIN, PASS);
    expect(third.session).toBeUndefined();
    expect(third.channelIds()).toEqual([]);
    expect(third.verifiedUser("user-bob")).toBeUndefined();
  });

  test("layout: servers/<sha256(origin)[:32]>/keystore.json plus a clear-text origin file", async () => {
    const store = await Keystore.create(dir, `${ORIGIN}/some/path?q=1`, PASS);
    expect(store.origin).toBe(ORIGIN);
    expect(store.paths.file).toMatch(new RegExp(`^${dir}/servers/[0-9a-f]{32}/keystore\\.json$`));
    expect(await readFile(store.paths.originFile, "utf8")).toBe(`${ORIGIN}\n`);
    const doc = JSON.parse(await readFile(store.paths.file, "utf8")) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(["version", "kdf", "nonce", "ciphertext"]);
    expect(doc["kdf"]).toMatchObject({ name: "scrypt", N: 32768, r: 8, p: 1 });
    // Nothing secret in clear: the raw file never contains the base64 of the device key.
    const raw = await readFile(store.paths.file, "utf8");
    expect(raw).not.toContain(Buffer.from(store.deviceKeyPair.privateKey).toString("base64"));
  });

  test("returned keys are copies: mutating them does not change the store", async () => {
    const store = await Keystore.create(dir, ORIGIN, PASS);
    const key = generateSymmetricKey();
    store.setChannelKey("c", 1, key);
    key.fill(0);
    store.channelKey("c", 1)!.fill(0);
    store.deviceKeyPair.privateKey.fill(0);
    expect(store.channelKey("c", 1)).not.toEqual(new Uint8Array(32));
    expect(store.deviceKeyPair.privateKey).not.toEqual(new Uint8Array(32));
  });

  test("changePassphrase: the old passphrase stops working", async () => {
    const store = await Keystore.create(dir, ORIGIN, PASS);
    await store.changePassphrase("another long passphrase");
    await expect(Keystore.open(dir, ORIGIN, PASS)).rejects.toMatchObject({ code: "wrong-passphrase" });
    const again = await Keystore.open(dir, ORIGIN, "another long passphrase");
    expect(again.deviceKeyPair).toEqual(store.deviceKeyPair);
  });
});

describe("wrong passphrase", () => {
  test("a clear error, and the file is byte-identical afterwards with the same mtime", async () => {
    const store = await Keystore.create(dir, ORIGIN, PASS);
    const before = await readFile(store.paths.file);
    const statBefore = await stat(store.paths.file);
    const listing = await readdir(store.paths.dir);
    await new Promise((r) => setTimeout(r, 20)); // a write would now show in mtime

    const err = await Keystore.open(dir, ORIGIN, "not the passphrase").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeystoreError);
    expect(err).toMatchObject({ code: "wrong-passphrase" });
    expect((err as Error).message).toBe(`wrong passphrase or corrupted keystore (${store.paths.file})`);
    expect((err as Error).message).not.toContain("not the passphrase");
    await expect(Keystore.open(dir, ORIGIN, "")).rejects.toMatchObject({ code: "wrong-passphrase" });

    expect(Buffer.compare(await readFile(store.paths.file), before)).toBe(0);
    const statAfter = await stat(store.paths.file);
    expect(statAfter.mtimeMs).toBe(statBefore.mtimeMs);
    expect(statAfter.ino).toBe(statBefore.ino);
    expect(await readdir(store.paths.dir)).toEqual(listing);
  });

  test("a keystore moved into another server's slot does not open (origin in the AAD)", async () => {
    const a = await Keystore.create(dir, "https://a.example", PASS);
    const b = keystorePaths(dir, "https://b.example");
    await mkdir(b.dir, { recursive: true });
    await writeFile(b.file, await readFile(a.paths.file));
    await expect(Keystore.open(dir, "https://b.example", PASS)).rejects.toMatchObject({ code: "wrong-passphrase" });
  });
});

describe("permissions", () => {
  test("dirs 0700 and files 0600 even with a permissive umask and a pre-existing 0755 dir", async () => {
    const config = join(dir, "config");
    await mkdir(config, { mode: 0o755 });
    const previous = process.umask(0o000);
    try {
      const store = await Keystore.create(config, ORIGIN, PASS);
      await store.save();
      expect(await mode(config)).toBe(0o700);
      expect(await mode(join(config, "servers"))).toBe(0o700);
      expect(await mode(store.paths.dir)).toBe(0o700);
      expect(await mode(store.paths.file)).toBe(0o600);
      expect(await mode(store.paths.originFile)).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  test("a restrictive umask does not lock the owner out", async () => {
    const previous = process.umask(0o277);
    try {
      const store = await Keystore.create(dir, ORIGIN, PASS);
      expect(await mode(store.paths.file)).toBe(0o600);
      expect(await mode(store.paths.dir)).toBe(0o700);
      await Keystore.open(dir, ORIGIN, PASS);
    } finally {
      process.umask(previous);
    }
  });
});

describe("another user's directories", () => {
  // As root (CI) the directory really changes hands; otherwise a group-writable directory is the
  // case any user can set up. The owner comparison itself is tested in ownership.test.ts.
  const asRoot = process.getuid?.() === 0;
  const hijack = async (path: string) => (asRoot ? chown(path, 65534, 65534) : chmod(path, 0o777));
  const why = asRoot ? /owned by uid 65534, not by you \(uid 0\)/ : /other users may write to it/;

  test("open refuses a keystore directory that is not the user's own, and reads nothing", async () => {
    const store = await Keystore.create(dir, ORIGIN, PASS);
    await hijack(store.paths.dir);
    const err = await Keystore.open(dir, ORIGIN, PASS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeystoreError);
    expect((err as KeystoreError).code).toBe("unsafe-path");
    expect((err as KeystoreError).message).toMatch(why);
    expect((err as KeystoreError).message).toContain(store.paths.dir);
  });

  test("save refuses a keystore directory another user took over, and writes nothing into it", async () => {
    const store = await Keystore.create(dir, ORIGIN, PASS);
    await rm(store.paths.dir, { recursive: true });
    await mkdir(store.paths.dir, { mode: 0o777 });
    await hijack(store.paths.dir);
    await chmod(store.paths.dir, 0o777); // mkdir's mode went through the umask
    const err = await store.save().catch((e: unknown) => e);
    if (asRoot) {
      expect((err as KeystoreError).code).toBe("unsafe-path");
      expect((err as KeystoreError).message).toMatch(/refusing the keystore directory .*owned by uid 65534/);
      expect(await readdir(store.paths.dir)).toEqual([]);
    } else {
      // Our own directory, made group/world-writable: save makes it private again, then writes.
      expect(err).toBeUndefined();
      expect(await mode(store.paths.dir)).toBe(0o700);
    }
  });
});

describe("one keystore per server origin", () => {
  test("two origins: two files, two different device keys", async () => {
    const a = await Keystore.create(dir, "https://one.example", PASS);
    const b = await Keystore.create(dir, "https://two.example:8443", PASS);
    expect(a.paths.file).not.toBe(b.paths.file);
    expect(a.devicePublicKey).not.toEqual(b.devicePublicKey);
    a.setChannelKey("c", 1, generateSymmetricKey());
    await a.save();
    const b2 = await Keystore.open(dir, "https://two.example:8443", PASS);
    expect(b2.channelIds()).toEqual([]);
    expect((await Keystore.open(dir, "https://one.example", PASS)).devicePublicKey).toEqual(a.devicePublicKey);
  });

  test("spellings of one origin share a keystore; create refuses to overwrite it", async () => {
    await Keystore.create(dir, "https://Chat.Example.org:443/", PASS);
    expect(await Keystore.exists(dir, "https://chat.example.org")).toBe(true);
    expect(await Keystore.exists(dir, "http://chat.example.org")).toBe(false);
    await expect(Keystore.create(dir, "https://chat.example.org/x", PASS)).rejects.toMatchObject({ code: "exists" });
    await expect(Keystore.open(dir, "http://chat.example.org", PASS)).rejects.toMatchObject({ code: "not-found" });
  });

  test("origins, passphrases and inputs are checked", async () => {
    await expect(Keystore.create(dir, "ftp://x.example", PASS)).rejects.toMatchObject({ code: "invalid-origin" });
    await expect(Keystore.create(dir, "not a url", PASS)).rejects.toMatchObject({ code: "invalid-origin" });
    await expect(Keystore.create(dir, ORIGIN, "short")).rejects.toMatchObject({ code: "weak-passphrase" });
    expect(await Keystore.exists(dir, ORIGIN)).toBe(false);
  });
});

describe("interrupted writes", () => {
  test("a stray temp file (a write that died before rename) changes nothing", async () => {
    const store = await Keystore.create(dir, ORIGIN, PASS);
    const good = await readFile(store.paths.file);
    // A crashed save: a half-written temp file with the name a save uses, never renamed.
    await writeFile(tempPathFor(store.paths.file), good.subarray(0, good.length / 2), { mode: 0o600 });
    store.setChannelKey("c", 1, generateSymmetricKey());
    expect(Buffer.compare(await readFile(store.paths.file), good)).toBe(0);
    const reopened = await Keystore.open(dir, ORIGIN, PASS);
    expect(reopened.channelIds()).toEqual([]);
    // The next save replaces the real file; the stray one is left alone and harms nothing.
    await store.save();
    expect((await Keystore.open(dir, ORIGIN, PASS)).channelIds()).toEqual(["c"]);
    expect((await readdir(store.paths.dir)).filter((f) => f.endsWith(".tmp"))).toHaveLength(1);
  });

  test("writeFileAtomic: a failed rename leaves the target untouched and no temp file", async () => {
    const target = join(dir, "target");
    await mkdir(target); // renaming a file over a directory fails
    await expect(writeFileAtomic(target, "data")).rejects.toThrow();
    expect(await readdir(dir)).toEqual(["target"]);
    const file = join(dir, "file");
    await writeFileAtomic(file, "one");
    await writeFileAtomic(file, "two");
    expect(await readFile(file, "utf8")).toBe("two");
    expect(await readdir(dir)).toEqual(["file", "target"]);
  });
});

describe("trust on first use and key conflicts", () => {
  test("pinDevice: pinned, known, changed (and a change is not stored)", async () => {
    const store = await Keystore.create(dir, ORIGIN, PASS);
    const k = (await generateX25519KeyPair()).publicKey;
    const other = (await generateX25519KeyPair()).publicKey;
    expect(store.pinDevice("d1", "u1", k)).toBe("pinned");
    expect(store.pinDevice("d1", "u1", k)).toBe("known");
    expect(store.pinDevice("d1", "u1", other)).toBe("changed");
    expect(store.pinDevice("d1", "u2", k)).toBe("changed");
    expect(store.pinnedDevice("d1")?.publicKey).toEqual(k);
    expect(store.pinnedDevice("d1")?.verified).toBe(false);
    expect(() => store.setDeviceVerified("nope", true)).toThrow(KeystoreError);
  });

  test("the first key per epoch wins", async () => {
    const store = await Keystore.create(dir, ORIGIN, PASS);
    const key = generateSymmetricKey();
    expect(store.setChannelKey("c", 1, key)).toBe("added");
    expect(store.setChannelKey("c", 1, Uint8Array.from(key))).toBe("unchanged");
    expect(() => store.setChannelKey("c", 1, generateSymmetricKey())).toThrow(
      expect.objectContaining({ code: "key-conflict" }) as unknown as Error,
    );
    expect(store.setDirectoryKey(3, key)).toBe("added");
    expect(() => store.setDirectoryKey(3, generateSymmetricKey())).toThrow(KeystoreError);
    expect(() => store.setChannelKey("c", 0, key)).toThrow("setChannelKey: epoch must be an integer in 1..4294967295");
    expect(() => store.setChannelKey("c", 2, new Uint8Array(16))).toThrow("setChannelKey: key must be 32 bytes");
    expect(() => store.setLastEventSeq(-1n)).toThrow(KeystoreError);
    expect(() => store.setUserVerified("u", "123")).toThrow(KeystoreError);
  });
});

describe("damaged contents", () => {
  test("a valid encryption of an invalid document is reported as corrupted, naming no value", async () => {
    const paths = keystorePaths(dir, ORIGIN);
    await mkdir(paths.dir, { recursive: true });
    const fileKey = await deriveKeystoreKey(PASS, nodeScrypt);
    const write = async (doc: string): Promise<void> => writeFile(paths.file, await sealKeystore(fileKey, ORIGIN, utf8Encode(doc)));

    await write('{"version":1}');
    await expect(Keystore.open(dir, ORIGIN, PASS)).rejects.toMatchObject({
      code: "corrupted",
      message: `keystore ${paths.file} decrypted but is not valid: device is not an object`,
    });
    await write('{"version":7}');
    await expect(Keystore.open(dir, ORIGIN, PASS)).rejects.toMatchObject({ code: "unsupported-version" });
    await write("not json");
    await expect(Keystore.open(dir, ORIGIN, PASS)).rejects.toMatchObject({ code: "corrupted" });

    // A device public key that is not the private key's.
    const store = await Keystore.create(join(dir, "other"), ORIGIN, PASS);
    const pair = store.deviceKeyPair;
    const wrong = (await generateX25519KeyPair()).publicKey;
    const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");
    await write(
      JSON.stringify({
        version: 1,
        device: { privateKey: b64(pair.privateKey), publicKey: b64(wrong) },
        channelKeys: {},
        directoryKeys: {},
        pinnedDevices: {},
        verifiedUsers: {},
        session: null,
        lastEventSeq: "0",
      }),
    );
    await expect(Keystore.open(dir, ORIGIN, PASS)).rejects.toMatchObject({
      code: "corrupted",
      message: `keystore ${paths.file}: device public key does not match the private key`,
    });
  });

  test("a version-2 document written before the search cache (no searchCacheKey) opens without one; a damaged one is named", async () => {
    const paths = keystorePaths(dir, ORIGIN);
    await mkdir(paths.dir, { recursive: true });
    const fileKey = await deriveKeystoreKey(PASS, nodeScrypt);
    const write = async (doc: string): Promise<void> => writeFile(paths.file, await sealKeystore(fileKey, ORIGIN, utf8Encode(doc)));
    const pair = await generateX25519KeyPair();
    const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");
    const doc = {
      version: 2,
      device: { privateKey: b64(pair.privateKey), publicKey: b64(pair.publicKey) },
      channelKeys: {},
      directoryKeys: {},
      pinnedDevices: {},
      verifiedUsers: {},
      session: null,
      lastEventSeq: "0",
      identity: null,
      backupKey: null,
      root: null,
      pinnedIdentities: {},
      inviteSecrets: {},
      pendingAdmissionSecret: null,
      upgradedAt: null,
    };
    await write(JSON.stringify(doc));
    const store = await Keystore.open(dir, ORIGIN, PASS);
    expect(store.searchCacheKey).toBeUndefined();
    const key = new Uint8Array(32).fill(11);
    expect(store.setSearchCacheKey(key)).toBe("added");
    expect(() => store.setSearchCacheKey(new Uint8Array(32).fill(12))).toThrow(expect.objectContaining({ code: "key-conflict" }));
    await store.save();
    expect((await Keystore.open(dir, ORIGIN, PASS)).searchCacheKey).toEqual(key);
    await write(JSON.stringify({ ...doc, searchCacheKey: "AAAA" }));
    await expect(Keystore.open(dir, ORIGIN, PASS)).rejects.toMatchObject({
      code: "corrupted",
      message: `keystore ${paths.file} decrypted but is not valid: searchCacheKey is not 32 bytes`,
    });
  });

  test("a file that is not a keystore", async () => {
    const paths = keystorePaths(dir, ORIGIN);
    await mkdir(paths.dir, { recursive: true });
    await writeFile(paths.file, "{}");
    await expect(Keystore.open(dir, ORIGIN, PASS)).rejects.toMatchObject({ code: "unsupported-version" });
    await writeFile(paths.file, "garbage");
    await expect(Keystore.open(dir, ORIGIN, PASS)).rejects.toMatchObject({ code: "corrupted" });
  });
});

describe("paths", () => {
  test("resolveConfigDir: DIALTONE_CONFIG_DIR, then absolute XDG_CONFIG_HOME, then ~/.config", () => {
    expect(resolveConfigDir({ DIALTONE_CONFIG_DIR: "/x/y", XDG_CONFIG_HOME: "/xdg" }, "/home/u")).toBe("/x/y");
    expect(resolveConfigDir({ XDG_CONFIG_HOME: "/xdg" }, "/home/u")).toBe("/xdg/dialtone");
    expect(resolveConfigDir({ XDG_CONFIG_HOME: "relative" }, "/home/u")).toBe("/home/u/.config/dialtone");
    expect(resolveConfigDir({ XDG_CONFIG_HOME: "", DIALTONE_CONFIG_DIR: "" }, "/home/u")).toBe("/home/u/.config/dialtone");
    expect(resolveConfigDir({}, "/home/u")).toBe("/home/u/.config/dialtone");
  });

  test("serverOrigin canonicalises", () => {
    expect(serverOrigin("https://Chat.Example.ORG:443/a/b?c#d")).toBe("https://chat.example.org");
    expect(serverOrigin("http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080");
    expect(serverOrigin("http://[::1]:8080/")).toBe("http://[::1]:8080");
    expect(() => serverOrigin("file:///etc")).toThrow(KeystoreError);
  });
});
