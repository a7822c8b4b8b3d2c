import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkOwnPath, currentUid } from "./ownership.js";
import { KeystoreError } from "./errors.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dialtone-own-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const me = currentUid()!;
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: unknown) => (e instanceof KeystoreError ? `${e.code}: ${e.message}` : `other: ${String(e)}`),
  );

describe("checkOwnPath", () => {
  test("this process has a uid to compare with (Linux)", () => {
    expect(typeof me).toBe("number");
  });

  test("own private directory, file and socket pass; a missing path is reported as missing", async () => {
    await chmod(dir, 0o700);
    await writeFile(join(dir, "f"), "x", { mode: 0o600 });
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(join(dir, "s.sock"), r));
    try {
      expect(await checkOwnPath(dir, "the dir", "directory")).toBe(true);
      expect(await checkOwnPath(join(dir, "f"), "the file", "file")).toBe(true);
      expect(await checkOwnPath(join(dir, "s.sock"), "the socket", "socket")).toBe(true);
      expect(await checkOwnPath(join(dir, "nope"), "the dir", "directory")).toBe(false);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test("a directory of another uid is refused, naming both uids", async () => {
    const other = me + 1;
    expect(await refusal(checkOwnPath(dir, "the keystore directory", "directory", { uid: other }))).toBe(
      `unsafe-path: refusing the keystore directory ${dir}: it is owned by uid ${me}, not by you (uid ${other}); another user could read or replace what it holds. Use one of your own (mode 0700).`,
    );
    expect(await refusal(checkOwnPath(dir, "the dir", "directory", { uid: other, ownerOnly: true }))).toMatch(
      /^unsafe-path: .*owned by uid/,
    );
  });

  test("group- or world-writable directories are refused unless the caller fixes the mode itself", async () => {
    for (const m of [0o770, 0o707, 0o777]) {
      await chmod(dir, m);
      expect(await refusal(checkOwnPath(dir, "the dir", "directory"))).toMatch(
        /^unsafe-path: .*other users may write to it \(mode 0\d{3}\)/,
      );
      expect(await checkOwnPath(dir, "the dir", "directory", { ownerOnly: true })).toBe(true);
    }
    await chmod(dir, 0o755); // readable by others is not a write: the keystore itself is 0600
    expect(await checkOwnPath(dir, "the dir", "directory")).toBe(true);
  });

  test("symbolic links and the wrong kind are refused", async () => {
    await mkdir(join(dir, "real"));
    await symlink(join(dir, "real"), join(dir, "link"));
    expect(await refusal(checkOwnPath(join(dir, "link"), "the dir", "directory"))).toMatch(/symbolic link/);
    await writeFile(join(dir, "f"), "x");
    expect(await refusal(checkOwnPath(join(dir, "f"), "the socket", "socket"))).toMatch(/it is not a socket/);
  });
});
