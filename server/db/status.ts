// Database checks for the operator commands (doctor, migrate): can we reach it, and
// which of the committed migrations has it applied.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { migrationsFolder, type Database } from "./client.js";

export interface MigrationStatus {
  /** Every migration this server ships, oldest first. */
  known: string[];
  applied: string[];
  pending: string[];
  /** Applied migrations whose file changed since (a corrupted checkout or an edited migration). */
  changed: string[];
  /** The database has migrations newer than this server knows: a newer version ran on it. */
  newerThanServer: boolean;
}

interface JournalEntry {
  tag: string;
  when: number;
}

function journal(): Array<JournalEntry & { hash: string }> {
  const j = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as { entries: JournalEntry[] };
  // drizzle records sha256 of each file's text and the journal's `when` as created_at.
  return j.entries.map((e) => ({
    ...e,
    hash: createHash("sha256")
      .update(readFileSync(join(migrationsFolder, `${e.tag}.sql`), "utf8"))
      .digest("hex"),
  }));
}

function rowsOf<T>(res: unknown): T[] {
  return (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as T[];
}

export async function migrationStatus(database: Database): Promise<MigrationStatus> {
  const entries = journal();
  const exists = rowsOf<{ t: string | null }>(
    await database.db.execute(sql`SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t`),
  );
  const recorded = exists[0]?.t
    ? rowsOf<{ hash: string; created_at: string | number | bigint }>(
        await database.db.execute(sql`SELECT hash, created_at FROM drizzle.__drizzle_migrations ORDER BY created_at`),
      )
    : [];
  const last = recorded.reduce((m, r) => Math.max(m, Number(r.created_at)), 0);
  const hashes = new Set(recorded.map((r) => r.hash));
  const applied = entries.filter((e) => e.when <= last);
  return {
    known: entries.map((e) => e.tag),
    applied: applied.map((e) => e.tag),
    pending: entries.filter((e) => e.when > last).map((e) => e.tag),
    changed: applied.filter((e) => !hashes.has(e.hash)).map((e) => e.tag),
    newerThanServer: last > Math.max(0, ...entries.map((e) => e.when)),
  };
}

export class DatabaseUnreachable extends Error {
  override readonly name = "DatabaseUnreachable";
}

/** Where a PostgreSQL URL points, without its password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const db = decodeURIComponent(u.pathname.slice(1)) || "(default database)";
    return `${u.username ? `${decodeURIComponent(u.username)}@` : ""}${u.hostname}:${u.port || 5432}/${db}`;
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * Connects once and runs `SELECT 1`; throws DatabaseUnreachable with one line saying
 * what went wrong (never the password).
 */
export async function checkPostgres(url: string, timeoutSeconds = 5): Promise<{ serverVersion: string }> {
  const where = describeUrl(url);
  const client = postgres(url, { max: 1, connect_timeout: timeoutSeconds, idle_timeout: 1, onnotice: () => {} });
  try {
    const rows = await client<{ v: string }[]>`SELECT current_setting('server_version') AS v`;
    return { serverVersion: rows[0]!.v };
  } catch (err) {
    throw new DatabaseUnreachable(explain(err, where, timeoutSeconds));
  } finally {
    await client.end({ timeout: 1 }).catch(() => {});
  }
}

function explain(err: unknown, where: string, timeoutSeconds: number): string {
  const e = err as { code?: string; errno?: string; message?: string };
  const host = where.replace(/^[^@]*@/, "").replace(/\/.*$/, "");
  const user = where.includes("@") ? where.slice(0, where.indexOf("@")) : "(default user)";
  const db = where.slice(where.lastIndexOf("/") + 1);
  switch (e.code ?? e.errno) {
    case "ECONNREFUSED":
      return `cannot connect to ${host}: connection refused (is PostgreSQL running and listening there?)`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot resolve the host of ${host}`;
    case "CONNECT_TIMEOUT":
    case "ETIMEDOUT":
      return `no answer from ${host} within ${timeoutSeconds} s`;
    case "3D000":
      return `database "${db}" does not exist on ${host} (create it: createdb --owner ${user} ${db})`;
    case "28P01":
    case "28000":
      return `authentication failed for user "${user}" on ${host} (check the password and pg_hba.conf)`;
    case "ECONNRESET":
      return `${host} closed the connection (TLS required? add ?sslmode=require)`;
    default:
      return `cannot use ${where}: ${e.code ?? e.errno ?? "error"}${e.message ? ` ${e.message.split("\n")[0]!.slice(0, 160)}` : ""}`;
  }
}
