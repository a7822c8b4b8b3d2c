// Opening the database for an operator command (migrate, backup): PostgreSQL from
// DIALTONE_DB_URL, or the embedded one, locked so no server runs on it meanwhile.
import { join } from "node:path";
import type { Config } from "../config.js";
import { lockDataDir } from "../datalock.js";
import { openDatabase, type Database } from "../db/client.js";
import { checkPostgres, describeUrl } from "../db/status.js";
import { ensureDataDir } from "../secrets.js";

export type Out = (line: string) => void;

export const pgdataOf = (config: Config) => join(config.dataDir, "pgdata");

/** Runs `fn` on the open database (locking the embedded data dir meanwhile). */
export async function openOffline(config: Config, fn: (db: Database, where: string) => Promise<number>): Promise<number> {
  if (config.dbUrl) {
    const where = describeUrl(config.dbUrl);
    await checkPostgres(config.dbUrl); // a clear line instead of a driver stack
    const database = await openDatabase({ kind: "postgres", url: config.dbUrl, maxConnections: 1 });
    try {
      return await fn(database, where);
    } finally {
      await database.close();
    }
  }
  await ensureDataDir(config.dataDir);
  const release = lockDataDir(config.dataDir);
  try {
    const database = await openDatabase({ kind: "pglite", dataDir: pgdataOf(config) });
    try {
      return await fn(database, `the embedded database in ${pgdataOf(config)}`);
    } finally {
      await database.close();
    }
  } finally {
    release();
  }
}
