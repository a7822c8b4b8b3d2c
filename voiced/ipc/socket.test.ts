import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "@jest/globals";
import { defaultSocketPath, ensurePrivateDir, listenExclusive, probeSocket } from "./socket.js";

const root = mkdtempSync(join(tmpdir(), "voiced-sock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("the path: XDG_RUNTIME_DIR/dialtone/voiced.sock, else /tmp/dialtone-UID/voiced.sock", () => {
  expect(defaultSocketPath({ XDG_RUNTIME_DIR: "/run/user/1000" }, 1000)).toBe("/run/user/1000/dialtone/voiced.sock");
  expect(defaultSocketPath({}, 1000)).toBe("/tmp/dialtone-1000/voiced.sock");
});

test("the directory is made 0700, a loose one tightened, someone else's refused", () => {
  const dir = join(root, "a", "dialtone");
  ensurePrivateDir(dir);
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  chmodSync(dir, 0o755);
  ensurePrivateDir(dir);
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  const foreign = join(root, "foreign");
  mkdirSync(foreign, { mode: 0o700 });
  if (process.getuid?.() === 0) {
    chownSync(foreign, 4321, 4321);
    expect(() => ensurePrivateDir(foreign)).toThrow(/belongs to uid 4321/);
  } else {
    expect(() => ensurePrivateDir(foreign, 4321)).toThrow(/not to us/);
  }
});

test("listen: socket 0600; a second listener finds the live one and does not steal it; a stale socket is replaced", async () => {
  const path = join(root, "b", "dialtone", "voiced.sock");
  const first = createServer((_req, res) => res.end("first"));
  const r1 = await listenExclusive(first, path);
  expect(r1.kind).toBe("listening");
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(existsSync(`${path}.lock`)).toBe(true);

  const second = createServer();
  expect((await listenExclusive(second, path)).kind).toBe("running");
  expect(second.listening).toBe(false);
  expect(await probeSocket(path)).toBe("live");

  // A crash leaves the socket file (and the lock) behind: a process killed while listening.
  await new Promise<void>((r) => first.close(() => r()));
  if (r1.kind === "listening") r1.release();
  const crashed = spawnSync(process.execPath, [
    "-e",
    `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
  ]);
  expect(crashed.signal).toBe("SIGKILL");
  expect(await probeSocket(path)).toBe("stale");
  const third = createServer((_req, res) => res.end("third"));
  const r3 = await listenExclusive(third, path);
  expect(r3.kind).toBe("listening");
  expect(statSync(path).mode & 0o777).toBe(0o600);
  if (r3.kind === "listening") r3.release();
  await new Promise<void>((r) => third.close(() => r()));
  expect(existsSync(path)).toBe(false);
});

test("a lock left by a dead process is broken", async () => {
  const path = join(root, "c", "dialtone", "voiced.sock");
  ensurePrivateDir(join(root, "c", "dialtone"));
  writeFileSync(`${path}.lock`, "999999999");
  const s = createServer();
  const r = await listenExclusive(s, path, 500);
  expect(r.kind).toBe("listening");
  if (r.kind === "listening") r.release();
  await new Promise<void>((res) => s.close(() => res()));
});
