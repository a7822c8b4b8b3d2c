import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "@jest/globals";
import { defaultSocketPath } from "../../voiced/ipc/socket.js";
import { ensureDaemon, VoiceDaemon, VoiceDaemonError, voicedBinary, voicedSocketPath } from "./voice.js";

const dir = mkdtempSync(join(tmpdir(), "client-voice-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the client looks for the daemon where the daemon listens", () => {
  for (const env of [{ XDG_RUNTIME_DIR: "/run/user/1000" }, {}]) {
    expect(voicedSocketPath(env, 1000)).toBe(defaultSocketPath(env, 1000));
  }
});

test("the binary: explicit path, else DIALTONE_VOICED, else the package's bin", () => {
  expect(voicedBinary("/x/voiced", { DIALTONE_VOICED: "/y" })).toBe("/x/voiced");
  expect(voicedBinary(undefined, { DIALTONE_VOICED: "/y" })).toBe("/y");
  expect(voicedBinary(undefined, {})).toMatch(/bin\/dialtone-voiced\.js$/);
});

test("no daemon on a socket: connect says so", async () => {
  expect(await VoiceDaemon.connect(join(dir, "nothing.sock"))).toBeUndefined();
  expect(await VoiceDaemon.connect(join(dir, "no-such-dir", "voiced.sock"))).toBeUndefined();
});

test("a socket in a directory that is not the user's own is refused before anything is sent", async () => {
  // As root (CI) the directory changes hands; otherwise any user can make it world-writable.
  const asRoot = process.getuid?.() === 0;
  const planted = join(dir, "planted");
  mkdirSync(planted, { mode: 0o700 });
  const sock = join(planted, "voiced.sock");
  let connections = 0;
  const fake = createServer(() => void connections++);
  await new Promise<void>((r) => fake.listen(sock, r));
  try {
    if (asRoot) chownSync(planted, 65534, 65534);
    else chmodSync(planted, 0o777);
    const err = await VoiceDaemon.connect(sock).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VoiceDaemonError);
    expect((err as VoiceDaemonError).code).toBe("unsafe-socket");
    expect((err as VoiceDaemonError).message).toMatch(asRoot ? /owned by uid 65534, not by you/ : /other users may write to it/);
    expect(connections).toBe(0);
  } finally {
    await new Promise((r) => fake.close(r));
  }
});

test("a token among the forwarded flags is refused before anything starts", async () => {
  await expect(ensureDaemon({ socketPath: join(dir, "t.sock"), args: ["--token=abc"] })).rejects.toMatchObject({ code: "bad-flag" });
});

test("a daemon that fails to start is reported with its exit; it got the flags and --socket, not our secrets", async () => {
  const fake = join(dir, "fake-voiced.mjs");
  const record = join(dir, "fake.json");
  writeFileSync(
    fake,
    `import { writeFileSync } from "node:fs";
writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), env: Object.keys(process.env) }));
process.exit(3);
`,
  );
  const err = await ensureDaemon({
    socketPath: join(dir, "f.sock"),
    voicedPath: fake,
    args: ["--relay-only", "--ptt", ""],
    env: { ...process.env, DIALTONE_PASSWORD: "hunter22", DIALTONE_PASSPHRASE: "x", XDG_ACTIVATION_TOKEN: "y" },
    startTimeoutMs: 10_000,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(VoiceDaemonError);
  expect((err as VoiceDaemonError).code).toBe("spawn-failed");
  expect((err as Error).message).toMatch(/exited with code 3/);
  const seen = JSON.parse(readFileSync(record, "utf8")) as { argv: string[]; env: string[] };
  expect(seen.argv).toEqual(["--relay-only", "--ptt", "", "--socket", join(dir, "f.sock")]);
  expect(seen.env).not.toContain("DIALTONE_PASSWORD");
  expect(seen.env).not.toContain("DIALTONE_PASSPHRASE");
  expect(seen.env).not.toContain("XDG_ACTIVATION_TOKEN");
});
