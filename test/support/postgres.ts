// A throwaway PostgreSQL cluster for tests: real server binaries, private data dir, free port.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { freePort } from "./ports.js";

const run = promisify(execFile);
const PG_ROOT = "/usr/lib/postgresql";
const INSTALL_HINT = "install it with: apt-get install -y postgresql";

export interface TestPostgres {
  /** Superuser URL of the `postgres` database (trust auth, 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  /** Where the cluster lives; removed by stop(). */
  readonly baseDir: string;
  /** Creates an empty database (random name by default) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server and removes its files. Safe to call twice. */
  stop(): Promise<void>;
}

/** Highest installed version's bin dir, or a clear error naming what is missing. */
export function findPostgresBinDir(root = PG_ROOT): string {
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(`PostgreSQL server binaries not found: ${root}/*/bin/initdb is missing; ${INSTALL_HINT}`);
  }
  const bin = path.join(root, versions[0]!, "bin");
  for (const tool of ["initdb", "pg_ctl", "postgres"]) {
    if (!existsSync(path.join(bin, tool))) {
      throw new Error(`PostgreSQL binary not found: ${path.join(bin, tool)} is missing; ${INSTALL_HINT}`);
    }
  }
  return bin;
}

function findRunuser(): string {
  const found = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].find((p) => existsSync(p));
  if (found === undefined)
    throw new Error("runuser not found (util-linux): needed to run PostgreSQL as the postgres user when running as root");
  return found;
}

async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  try {
    const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
    const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
    return { uid, gid };
  } catch {
    throw new Error(`running as root, but there is no "postgres" user to run PostgreSQL as; ${INSTALL_HINT}`);
  }
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBinDir();
  const asRoot = process.getuid?.() === 0;
  // PG* variables (PGDATA, PGPORT, ...) from the caller's shell must not leak into our cluster.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PG")));
  env.LC_ALL = "C";
  const baseDir = await mkdtemp(path.join(os.tmpdir(), "dialtone-pg-"));
  const dataDir = path.join(baseDir, "data");
  const socketDir = path.join(baseDir, "sock");
  const logFile = path.join(baseDir, "postgres.log");
  const runuser = asRoot ? findRunuser() : "";
  // PostgreSQL refuses to run as root: drop to the postgres user, which owns baseDir.
  const pg = (tool: string, args: string[]) => {
    const file = path.join(bin, tool);
    return asRoot ? run(runuser, ["-u", "postgres", "--", file, ...args], { env, cwd: baseDir }) : run(file, args, { env, cwd: baseDir });
  };

  await mkdir(socketDir, { mode: 0o700 });
  if (asRoot) {
    const { uid, gid } = await postgresUserIds();
    await chown(baseDir, uid, gid);
    await chown(socketDir, uid, gid);
  }

  let port = 0;
  try {
    await pg("initdb", ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]).catch((err: unknown) => {
      throw new Error(`initdb failed: ${errorOutput(err)}`);
    });
    // The port is free only "a moment ago": retry if another process grabs it first.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const opts = [
        `-p ${port}`,
        "-h 127.0.0.1",
        `-k ${socketDir}`,
        "-c fsync=off",
        "-c synchronous_commit=off",
        "-c full_page_writes=off",
      ].join(" ");
      try {
        await pg("pg_ctl", ["start", "-D", dataDir, "-l", logFile, "-w", "-t", "30", "-s", "-o", opts]);
        break;
      } catch (err) {
        const log = await readFile(logFile, "utf8").catch(() => "");
        if (attempt < 3 && /already in use|could not bind/i.test(log)) continue;
        throw new Error(`pg_ctl start failed: ${errorOutput(err)}\n${log.slice(-2000)}`);
      }
    }
  } catch (err) {
    await rm(baseDir, { recursive: true, force: true });
    throw err;
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let admin: postgres.Sql | undefined;
  let stopped: Promise<void> | undefined;
  // pg_ctl detaches the server. Jest's sandboxed `process` never sees the real exit, so a small
  // detached shell stops the cluster once this process is gone (forgotten stop(), killed worker).
  const sh = (words: string[]): string => words.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(" ");
  const stopCmd = [...(asRoot ? [runuser, "-u", "postgres", "--"] : []), path.join(bin, "pg_ctl")];
  const watchdog = spawn(
    "/bin/sh",
    [
      "-c",
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
        `${sh([...stopCmd, "stop", "-D", dataDir, "-m", "immediate", "-w", "-s"])}; rm -rf ${sh([baseDir])}`,
    ],
    { detached: true, stdio: "ignore", env, cwd: "/" },
  );
  watchdog.unref();

  return {
    url,
    port,
    baseDir,
    async createDatabase(name = `t_${randomBytes(6).toString("hex")}`) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`createDatabase: bad database name ${JSON.stringify(name)}`);
      admin ??= postgres(url, { max: 1, onnotice: () => {} });
      await admin.unsafe(`CREATE DATABASE "${name}"`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop() {
      stopped ??= (async () => {
        watchdog.kill();
        await admin?.end({ timeout: 1 });
        // immediate: the data is thrown away, so skip the shutdown checkpoint.
        await pg("pg_ctl", ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "30", "-s"]).catch(() => {});
        await rm(baseDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

function errorOutput(err: unknown): string {
  if (err instanceof Error) {
    const { stderr, stdout } = err as Error & { stderr?: string; stdout?: string };
    return [err.message, stderr, stdout].filter((s) => s !== undefined && s !== "").join("\n");
  }
  return String(err);
}
