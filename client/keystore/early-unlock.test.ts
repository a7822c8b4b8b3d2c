import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import { keystoreFileFor, startEarlyUnlock } from "./early-unlock.js";
import { Keystore, keystorePaths } from "./index.js";
import { earlyScryptPending, nodeScrypt } from "./scrypt.js";

const SERVER = "http://localhost:8123";
const OTHER = "https://chat.example.org";
const PASS = "correct horse battery staple";

let dir: string;
let env: Record<string, string>;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dialtone-early-"));
  env = { DIALTONE_CONFIG_DIR: dir, DIALTONE_PASSPHRASE: PASS };
});
afterEach(async () => {
  // Consume whatever a test left, so the next one starts clean.
  if (earlyScryptPending()) await Keystore.open(dir, SERVER, PASS).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

describe("which keystore a command line opens", () => {
  test("--server in either spelling, or the only keystore; nothing when it is not clear", async () => {
    const file = keystorePaths(dir, SERVER).file;
    expect(keystoreFileFor(["whoami"], env)).toBeUndefined(); // no keystore yet
    await Keystore.create(dir, SERVER, PASS);
    expect(keystoreFileFor(["whoami"], env)).toBe(file);
    expect(keystoreFileFor(["whoami", "--server", "localhost:8123"], env)).toBe(file);
    expect(keystoreFileFor(["whoami", `--server=${SERVER}`], env)).toBe(file);
    expect(keystoreFileFor(["whoami", "--server", OTHER], env)).toBeUndefined();
    await Keystore.create(dir, OTHER, PASS);
    expect(keystoreFileFor(["whoami"], env)).toBeUndefined(); // two: the command must say which
    expect(keystoreFileFor(["whoami", "--server", SERVER], env)).toBe(file);
  });
});

describe("the early scrypt", () => {
  test("is taken by the command's own open, which then works as without it", async () => {
    const made = await Keystore.create(dir, SERVER, PASS);
    startEarlyUnlock(["send", "general", "hi"], env);
    expect(earlyScryptPending()).toBe(true);
    const opened = await Keystore.open(dir, SERVER, PASS);
    expect(earlyScryptPending()).toBe(false);
    expect(opened.deviceKeyPair.publicKey).toEqual(made.deviceKeyPair.publicKey);
  });

  test("a wrong passphrase derives its own key and still fails to open", async () => {
    await Keystore.create(dir, SERVER, PASS);
    startEarlyUnlock(["whoami"], { ...env, DIALTONE_PASSPHRASE: "not the passphrase" });
    expect(earlyScryptPending()).toBe(true);
    await expect(Keystore.open(dir, SERVER, PASS)).resolves.toBeDefined(); // not fooled by the early one
    await expect(Keystore.open(dir, SERVER, "not the passphrase")).rejects.toThrow(/wrong passphrase/);
  });

  test("another salt or passphrase gets its own derivation, not the early one", async () => {
    await Keystore.create(dir, SERVER, PASS);
    startEarlyUnlock(["whoami"], env);
    const salt = new Uint8Array(16).fill(7);
    const pass = new TextEncoder().encode(PASS);
    const fresh = await nodeScrypt(pass, salt, 32768, 8, 1);
    expect(earlyScryptPending()).toBe(true);
    expect(fresh).toEqual(await nodeScrypt(pass, salt, 32768, 8, 1));
  });

  test("does not start without a passphrase, for help, register and login, or for other kdf parameters", async () => {
    await Keystore.create(dir, SERVER, PASS);
    for (const [argv, e] of [
      [["whoami"], { DIALTONE_CONFIG_DIR: dir }],
      [["whoami", "--help"], env],
      [["send", "-h"], env],
      [["register", "--server", SERVER], env],
      [["login"], env],
    ] as const) {
      startEarlyUnlock(argv, e);
      expect(earlyScryptPending()).toBe(false);
    }
    // A file naming a costlier derivation is refused when opened; the early start must not run it first.
    const file = keystorePaths(dir, SERVER).file;
    const doc = JSON.parse(await readFile(file, "utf8")) as { kdf: { N: number } };
    doc.kdf.N = 1 << 30;
    await writeFile(file, JSON.stringify(doc));
    startEarlyUnlock(["whoami"], env);
    expect(earlyScryptPending()).toBe(false);
    // And a config dir that is not there is no error here: the command reports it.
    expect(() => startEarlyUnlock(["whoami"], { ...env, DIALTONE_CONFIG_DIR: join(dir, "missing") })).not.toThrow();
    expect(earlyScryptPending()).toBe(false);
  });
});
