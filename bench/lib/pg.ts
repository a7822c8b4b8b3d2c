// Throwaway PostgreSQL clusters for the bench.
//  - "fast": test/support/postgres.ts as the tests use it (fsync, synchronous_commit and
//    full_page_writes off): measures the server, not the disk;
//  - "durable": the same binaries with PostgreSQL's defaults (fsync on, synchronous_commit on),
//    as a production server runs: every commit waits for a WAL flush on this machine's disk.
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { findPostgresBinDir, startPostgres } from "../../test/support/postgres.js";
import { freePort } from "../../test/support/ports.js";
import { treeCpuSeconds } from "./proc.js";

const run = promisify(execFile);

export interface BenchPostgres {
  url: string;
  durable: boolean;
  /** CPU seconds of the postmaster and its backends so far. */
  cpu(): number;
  stop(): Promise<void>;
}

function postmasterCpu(dataDir: string): () => number {
  const pid = Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n", 1)[0]);
  return () => treeCpuSeconds(pid);
}

export async function benchPostgres(o: { durable?: boolean } = {}): Promise<BenchPostgres> {
  if (!o.durable) {
    const pg = await startPostgres();
    const url = await pg.createDatabase("bench");
    return { url, durable: false, cpu: postmasterCpu(path.join(pg.baseDir, "data")), stop: () => pg.stop() };
  }
  const bin = findPostgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PG")));
  env.LC_ALL = "C";
  const baseDir = await mkdtemp(path.join(os.tmpdir(), "dialtone-bench-pg-"));
  const dataDir = path.join(baseDir, "data");
  const sockDir = path.join(baseDir, "sock");
  await mkdir(sockDir);
  const runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].find((p) => existsSync(p));
  if (asRoot) {
    const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
    const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
    await chown(baseDir, uid, gid);
    await chown(sockDir, uid, gid);
  }
  const pgTool = (tool: string, args: string[]) =>
    asRoot
      ? run(runuser!, ["-u", "postgres", "--", path.join(bin, tool), ...args], { env, cwd: baseDir })
      : run(path.join(bin, tool), args, { env, cwd: baseDir });
  await pgTool("initdb", ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  await pgTool("pg_ctl", [
    "start",
    "-D",
    dataDir,
    "-l",
    path.join(baseDir, "postgres.log"),
    "-w",
    "-t",
    "30",
    "-s",
    "-o",
    `-p ${port} -h 127.0.0.1 -k ${sockDir}`,
  ]);
  const admin = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "bench"`);
  await admin.end({ timeout: 1 });
  // If the bench dies without stop(), a detached shell stops the cluster once we are gone.
  const q = (w: string) => `'${w.replaceAll("'", `'\\''`)}'`;
  const stopCmd = [
    ...(asRoot ? [runuser!, "-u", "postgres", "--"] : []),
    path.join(bin, "pg_ctl"),
    "stop",
    "-D",
    dataDir,
    "-m",
    "immediate",
    "-w",
    "-s",
  ];
  const watchdog = spawn(
    "/bin/sh",
    ["-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stopCmd.map(q).join(" ")}; rm -rf ${q(baseDir)}`],
    { detached: true, stdio: "ignore", env, cwd: "/" },
  );
  watchdog.unref();
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/bench`,
    durable: true,
    cpu: postmasterCpu(dataDir),
    stop: () =>
      (stopped ??= (async () => {
        watchdog.kill();
        await pgTool("pg_ctl", ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "30", "-s"]).catch(() => {});
        await rm(baseDir, { recursive: true, force: true });
      })()),
  };
}
