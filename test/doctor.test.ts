// `dialtone-server doctor` and `dialtone-server migrate` as real processes: a wrong
// DIALTONE_DB_URL is one clear FAIL line and a non-zero exit; migrations pending then
// applied; TURN checked against coturn started from deploy/coturn/turnserver.conf.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { parseIceUrl, stunBinding } from "../server/cli/stun.js";
import { freePort } from "./support/ports.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";
import { cleanEnv, REPO, runServerCli, startServerProcess, tempDir } from "./support/process.js";

const PEPPER = "doctor-test-pepper-0123456789";
const ADMIN = "doctor-test-admin-token-0123456789";
const failLines = (out: string) => out.split("\n").filter((l) => l.startsWith("FAIL"));

let pg: TestPostgres;
let tmp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  pg = await startPostgres();
  tmp = tempDir("dialtone-doctor-");
}, 60_000);
afterAll(async () => {
  await pg?.stop();
  tmp?.remove();
});

const pgEnv = (url: string, extra: Record<string, string> = {}) =>
  cleanEnv({
    DIALTONE_DB_URL: url,
    DIALTONE_USERNAME_PEPPER: PEPPER,
    DIALTONE_ADMIN_TOKEN: ADMIN,
    DIALTONE_DATA_DIR: path.join(tmp.dir, "unused"),
    ...extra,
  });

describe("doctor: database", () => {
  test("a URL to a closed port: one FAIL line naming DIALTONE_DB_URL, exit 1", async () => {
    const port = await freePort();
    const r = await runServerCli(["doctor"], pgEnv(`postgres://dialtone:s3cret-pass@127.0.0.1:${port}/dialtone`));
    expect(r.code).toBe(1);
    expect(failLines(r.stdout)).toEqual([
      `FAIL  database: DIALTONE_DB_URL: cannot connect to 127.0.0.1:${port}: connection refused (is PostgreSQL running and listening there?)`,
    ]);
    expect(r.stdout).toMatch(/^skip {2}migrations: database unreachable$/m);
    expect(r.stdout + r.stderr).not.toContain("s3cret-pass");
  });

  test("a wrong database name: one FAIL line naming the database, exit 1", async () => {
    const url = pg.url.replace(/\/postgres$/, "/no_such_db");
    const r = await runServerCli(["doctor"], pgEnv(url));
    expect(r.code).toBe(1);
    expect(failLines(r.stdout)).toEqual([
      `FAIL  database: DIALTONE_DB_URL: database "no_such_db" does not exist on 127.0.0.1:${pg.port} (create it: createdb --owner postgres no_such_db)`,
    ]);
  });

  test("migrate refuses a wrong URL in one line too", async () => {
    const port = await freePort();
    const r = await runServerCli(["migrate"], pgEnv(`postgres://dialtone@127.0.0.1:${port}/dialtone`));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `dialtone-server migrate: DIALTONE_DB_URL: cannot connect to 127.0.0.1:${port}: connection refused (is PostgreSQL running and listening there?)`,
    );
  });

  test("pending migrations, then `migrate`, then all applied", async () => {
    const url = await pg.createDatabase();
    const before = await runServerCli(["doctor"], pgEnv(url));
    expect(before.stdout).toMatch(/^ok {4}database: PostgreSQL \d+/m);
    expect(before.stdout).toMatch(/^warn {2}migrations: \d+ pending \(0000_init, .*run: dialtone-server migrate$/m);
    expect(before.code).toBe(0);
    const m = await runServerCli(["migrate"], pgEnv(url));
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/^migrations: applied 0000_init, .* now at \d{4}_\w+$/m);
    const again = await runServerCli(["migrate"], pgEnv(url));
    expect(again.stdout).toMatch(/is up to date/);
    const after = await runServerCli(["doctor"], pgEnv(url));
    expect(after.stdout).toMatch(/^ok {4}migrations: all \d+ applied/m);
    expect(after.code).toBe(0);
  });

  test("an invalid configuration: FAIL config, exit 2", async () => {
    const r = await runServerCli(["doctor"], cleanEnv({ DIALTONE_DB_URL: "mysql://x", DIALTONE_DATA_DIR: tmp.dir }));
    expect(r.code).toBe(2);
    expect(r.stdout.trim()).toBe("FAIL  config: DIALTONE_DB_URL: expected a postgres:// or postgresql:// URL");
  });
});

describe("doctor: embedded data dir", () => {
  test("a world-readable data dir fails; a running server's database is not opened", async () => {
    const dataDir = path.join(tmp.dir, "embedded");
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const env = cleanEnv({ DIALTONE_DATA_DIR: dataDir, DIALTONE_LISTEN_ADDR: "127.0.0.1:0" });
    const bad = await runServerCli(["doctor"], env);
    expect(bad.code).toBe(1);
    expect(failLines(bad.stdout)).toEqual([`FAIL  data dir: ${dataDir} has mode 0755: others may read its secrets; chmod 700 ${dataDir}`]);

    const server = await startServerProcess(env); // fixes the mode, holds the lock
    try {
      const r = await runServerCli(["doctor"], env);
      expect(r.stdout).toMatch(
        new RegExp(`^ok    database: embedded in .*, in use by the running server \\(pid ${server.proc.pid}\\); not opened$`, "m"),
      );
      expect(r.stdout).toMatch(/^ok {4}data dir: .* \(mode 0700/m);
      expect(r.code).toBe(0);
      const m = await runServerCli(["migrate"], env);
      expect(m.code).toBe(1);
      expect(m.stderr).toContain(`in use by process ${server.proc.pid} (stop that dialtone-server first)`);
      // A second server on the same embedded database is refused too.
      const second = await runServerCli([], env, 30_000);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain("in use by process");
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const after = await runServerCli(["doctor"], env);
    expect(after.stdout).toMatch(/^ok {4}database: embedded \(PGlite\)/m);
    expect(after.stdout).toMatch(/^ok {4}migrations: all \d+ applied/m);
  }, 90_000);
});

describe("doctor: TURN, against coturn started from deploy/coturn/turnserver.conf", () => {
  let coturn: ChildProcess | undefined;
  let port = 0;
  const secret = "doctor-turn-secret-0123456789";
  beforeAll(async () => {
    port = await freePort();
    const relay = 40000 + (port % 20000);
    // The shipped template with only what a test machine needs changed: ports, secret, loopback.
    const conf = readFileSync(path.join(REPO, "deploy/coturn/turnserver.conf"), "utf8")
      .replace(/^listening-port=3478$/m, `listening-port=${port}\nlistening-ip=127.0.0.1\nrelay-ip=127.0.0.1`)
      .replace(/^min-port=\d+$/m, `min-port=${relay}`)
      .replace(/^max-port=\d+$/m, `max-port=${relay + 20}`)
      .replace(/^static-auth-secret=.*$/m, `static-auth-secret=${secret}`);
    expect(conf).toContain(`static-auth-secret=${secret}`);
    const file = path.join(tmp.dir, "turnserver.conf");
    writeFileSync(file, conf);
    coturn = spawn("turnserver", ["-c", file, "--pidfile", path.join(tmp.dir, "turn.pid")], { stdio: "ignore" });
    coturn.once("error", (err) => {
      throw new Error(`turnserver could not start (${err.message}); install it with: apt-get install -y coturn`);
    });
    for (let i = 0; ; i++) {
      try {
        await stunBinding(parseIceUrl(`stun:127.0.0.1:${port}`), 300);
        break;
      } catch (err) {
        if (i > 50) throw err;
      }
    }
  }, 30_000);
  afterAll(() => void coturn?.kill("SIGTERM"));

  const turnEnv = (urls: string, turnSecret: string) =>
    cleanEnv({ DIALTONE_DATA_DIR: path.join(tmp.dir, "turn-data"), DIALTONE_TURN_URLS: urls, DIALTONE_TURN_SECRET: turnSecret });

  test("STUN binding over UDP and TCP, and TURN credentials from the shared secret", async () => {
    const r = await runServerCli(
      ["doctor"],
      turnEnv(`stun:127.0.0.1:${port},turn:127.0.0.1:${port},turn:127.0.0.1:${port}?transport=tcp`, secret),
    );
    const turn = r.stdout.split("\n").filter((l) => l.includes("  turn: "));
    expect(turn).toEqual([
      expect.stringMatching(
        new RegExp(`^ok    turn: stun:127.0.0.1:${port} answered a STUN binding over udp in \\d+ ms \\(sees us as 127.0.0.1:\\d+\\)$`),
      ),
      expect.stringMatching(/^ok {4}turn: turn:.* over udp .*; TURN credentials from DIALTONE_TURN_SECRET accepted$/),
      expect.stringMatching(/^ok {4}turn: turn:.*\?transport=tcp answered a STUN binding over tcp .*accepted$/),
    ]);
    expect(r.code).toBe(0);
  });

  test("a wrong secret and a dead port are FAIL lines", async () => {
    const dead = await freePort();
    const r = await runServerCli(["doctor"], turnEnv(`turn:127.0.0.1:${port},stun:127.0.0.1:${dead}`, "not-the-secret-0123456789"));
    expect(r.code).toBe(1);
    expect(failLines(r.stdout)).toEqual([
      `FAIL  turn: turn:127.0.0.1:${port} (127.0.0.1:${port} over udp): credentials refused (401): DIALTONE_TURN_SECRET differs from coturn's static-auth-secret`,
      `FAIL  turn: stun:127.0.0.1:${dead} (127.0.0.1:${dead} over udp): no STUN answer within 2 s`,
    ]);
  });
});
