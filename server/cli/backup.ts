// `dialtone-server backup FILE` and `dialtone-server restore FILE`.
// Embedded: a consistent copy of the whole PGlite data dir (a tar, gzipped when FILE ends
// in .gz or .tgz), taken with the server stopped (the data dir lock guarantees it).
// PostgreSQL: backup runs pg_dump --format=custom (the server may keep running); restore
// with pg_restore into an empty database (docs/OPERATIONS.md).
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chmod, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import type { Config } from "../config.js";
import { lockDataDir } from "../datalock.js";
import { openDatabase } from "../db/client.js";
import { checkPostgres, describeUrl } from "../db/status.js";
import { ensureDataDir } from "../secrets.js";
import { openOffline, pgdataOf, type Out } from "./offline.js";

const run = promisify(execFile);

async function writeAtomically(file: string, data: Uint8Array) {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, file);
}

export async function runBackup(config: Config, file: string, out: Out): Promise<number> {
  if (config.dbUrl) return pgDump(config.dbUrl, file, out);
  if (!existsSync(join(pgdataOf(config), "PG_VERSION"))) {
    out(`backup: no embedded database in ${pgdataOf(config)} (DIALTONE_DATA_DIR); nothing to back up`);
    return 1;
  }
  return openOffline(config, async (database, where) => {
    const tar = new Uint8Array(await (await database.dump!()).arrayBuffer());
    await writeAtomically(file, /\.(gz|tgz)$/.test(file) ? gzipSync(tar) : tar);
    out(`backup: ${where} written to ${file} (${(await stat(file)).size} bytes)`);
    out(`backup: keep ${join(config.dataDir, "username-pepper")} with it: without the pepper nobody can log in`);
    return 0;
  });
}

/** pg_dump from PATH, or the newest Debian one in /usr/lib/postgresql/N/bin. */
export function findPgTool(tool: "pg_dump" | "pg_restore"): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) if (existsSync(join(root, v, "bin", tool))) return join(root, v, "bin", tool);
  return tool;
}

async function pgDump(url: string, file: string, out: Out): Promise<number> {
  await checkPostgres(url);
  // The password goes through the environment, not argv (other users can read argv).
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = "";
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await run(findPgTool("pg_dump"), ["--format=custom", "--no-owner", `--file=${tmp}`, `--dbname=${u.toString()}`], {
      env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
    });
  } catch (err) {
    await rm(tmp, { force: true });
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message)
      .trim()
      .split("\n")[0];
    out(`backup: pg_dump failed: ${stderr}`);
    return 1;
  }
  await chmod(tmp, 0o600); // it holds password hashes and every ciphertext
  await rename(tmp, file);
  out(`backup: ${describeUrl(url)} dumped to ${file} (${(await stat(file)).size} bytes, pg_dump custom format)`);
  out("backup: restore with: pg_restore --no-owner --dbname=postgres://... FILE (into an empty database)");
  return 0;
}

export async function runRestore(config: Config, file: string, out: Out): Promise<number> {
  if (config.dbUrl) {
    out("restore: with PostgreSQL use pg_restore into an empty database (see docs/OPERATIONS.md)");
    return 2;
  }
  let data = await readFile(file);
  if (data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
  const pgdata = pgdataOf(config);
  await ensureDataDir(config.dataDir);
  const release = lockDataDir(config.dataDir);
  try {
    if (existsSync(pgdata) && readdirSync(pgdata).length) {
      out(`restore: ${pgdata} is not empty; move it aside first (mv ${pgdata} ${pgdata}.old)`);
      return 1;
    }
    const database = await openDatabase({ kind: "pglite", dataDir: pgdata, loadDataDir: new Blob([data]) });
    await database.close();
    out(`restore: ${file} restored into ${pgdata}; start the server (pending migrations apply at start-up)`);
    return 0;
  } finally {
    release();
  }
}
