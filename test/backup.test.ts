// Backup and restore: a PostgreSQL dump (dialtone-server backup → pg_dump custom format,
// then pg_restore into a fresh database) and an embedded one (dialtone-server backup /
// restore); a server on the restored database serves the old history and sessions.
import { execFile } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { findPgTool } from "../server/cli/backup.js";
import { openDatabase } from "../server/db/client.js";
import { api, bearer, registerUser, sealedValue, type TestUser } from "./support/api.js";
import { codeOf } from "./support/assertions.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";
import { cleanEnv, runServerCli, startServerProcess, tempDir } from "./support/process.js";
import { startTestServer, TEST_ADMIN_TOKEN, TEST_PEPPER } from "./support/server.js";

const run = promisify(execFile);
let pg: TestPostgres;
let tmp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  pg = await startPostgres();
  tmp = tempDir("dialtone-backup-");
}, 60_000);
afterAll(async () => {
  await pg?.stop();
  tmp?.remove();
});

/** A channel with three messages from `user`; returns the channel id and message ids (oldest first). */
async function history(user: TestUser) {
  const channelId = randomUUID();
  await user.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await user.api.message.sendMessage({
      messageId: randomUUID(),
      channelId,
      encryptedBody: sealedValue(40),
      encryptedSenderName: sealedValue(),
      keyEpoch: 1,
    });
    ids.push(r.message!.messageId);
  }
  return { channelId, ids, page: await user.api.message.listMessages({ channelId }) };
}

test("PostgreSQL: backup with pg_dump, pg_restore into a fresh database, the old history is served", async () => {
  const url = await pg.createDatabase("live_db");
  const db = await openDatabase({ kind: "postgres", url, maxConnections: 4 });
  await db.migrate();
  const server = await startTestServer(db);
  const alice = await registerUser(server.url);
  const before = await history(alice);
  await server.close();
  await db.close();

  const file = path.join(tmp.dir, "dialtone.dump");
  const env = cleanEnv({ DIALTONE_DB_URL: url, DIALTONE_USERNAME_PEPPER: TEST_PEPPER, DIALTONE_ADMIN_TOKEN: TEST_ADMIN_TOKEN });
  const backup = await runServerCli(["backup", file], env);
  expect(backup.stderr).toBe("");
  expect(backup.code).toBe(0);
  expect(backup.stdout).toMatch(/dumped to .*dialtone\.dump \(\d+ bytes, pg_dump custom format\)/);

  // The restore as docs/OPERATIONS.md gives it: an empty database, then pg_restore.
  const restoredUrl = await pg.createDatabase("restored_db");
  await run(findPgTool("pg_restore"), ["--no-owner", "--exit-on-error", `--dbname=${restoredUrl}`, file]);
  const restored = await openDatabase({ kind: "postgres", url: restoredUrl, maxConnections: 4 });
  await restored.migrate(); // nothing to do: the dump carries the migration journal
  const again = await startTestServer(restored);
  try {
    const me = api(again.url, bearer(alice.token)); // sessions are in the database too
    const page = await me.message.listMessages({ channelId: before.channelId });
    expect(page.messages.map((m) => m.messageId)).toEqual([...before.ids].reverse());
    expect(page).toEqual(before.page);
    const login = await api(again.url).auth.login({
      username: alice.username,
      password: "correct horse battery",
      devicePublicKey: alice.publicKey,
    });
    expect(login.session!.userId).toBe(alice.userId);
    // New writes continue the event sequence after the restored one.
    const next = await me.message.sendMessage({
      messageId: randomUUID(),
      channelId: before.channelId,
      encryptedBody: sealedValue(),
      encryptedSenderName: sealedValue(),
      keyEpoch: 1,
    });
    expect(next.message!.seq).toBeGreaterThan(before.page.messages[0]!.seq);
  } finally {
    await again.close();
    await restored.close();
  }
}, 90_000);

test("embedded: backup refused while the server runs; backup, restore into a new data dir, the old history is served", async () => {
  const dataA = path.join(tmp.dir, "a");
  const envA = cleanEnv({ DIALTONE_DATA_DIR: dataA, DIALTONE_LISTEN_ADDR: "127.0.0.1:0" });
  const first = await startServerProcess(envA);
  let alice: TestUser;
  let before: Awaited<ReturnType<typeof history>>;
  const file = path.join(tmp.dir, "embedded.tar.gz");
  try {
    alice = await registerUser(first.url, "alice", /invite:\s+(\S+)/.exec(first.stdout())![1]);
    expect(alice.isAdmin).toBe(true);
    before = await history(alice);
    const busy = await runServerCli(["backup", file], envA);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("in use by process");
    expect(existsSync(file)).toBe(false);
  } finally {
    expect(await first.stop()).toBe(0);
  }
  const backup = await runServerCli(["backup", file], envA);
  expect(backup.code).toBe(0);
  expect(backup.stdout).toMatch(/written to .*embedded\.tar\.gz \(\d+ bytes\)/);
  expect(backup.stdout).toContain("username-pepper");

  const dataB = path.join(tmp.dir, "b");
  const envB = cleanEnv({ DIALTONE_DATA_DIR: dataB, DIALTONE_LISTEN_ADDR: "127.0.0.1:0" });
  const restore = await runServerCli(["restore", file], envB);
  expect(restore.stdout).toMatch(/restored into .*\/b\/pgdata/);
  expect(restore.code).toBe(0);
  expect((await runServerCli(["restore", file], envB)).code).toBe(1); // never over a database
  copyFileSync(path.join(dataA, "username-pepper"), path.join(dataB, "username-pepper"));
  const second = await startServerProcess(envB);
  try {
    const me = api(second.url, bearer(alice.token));
    const page = await me.message.listMessages({ channelId: before.channelId });
    expect(page).toEqual(before.page);
    const login = await api(second.url).auth.login({
      username: "alice",
      password: "correct horse battery",
      devicePublicKey: alice.publicKey,
    });
    expect(login.session!.userId).toBe(alice.userId);
    expect(
      await codeOf(api(second.url).auth.login({ username: "alice", password: "wrong password!", devicePublicKey: alice.publicKey })),
    ).toBe(Code.Unauthenticated);
  } finally {
    expect(await second.stop()).toBe(0);
  }
}, 120_000);
