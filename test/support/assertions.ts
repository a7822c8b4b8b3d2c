// Assertion helpers shared by the server suites: the Connect code of a call, the error it
// failed with, and a text dump of every table (to prove a rejected call wrote nothing).
import { type Code, ConnectError } from "@connectrpc/connect";
import { sql } from "drizzle-orm";
import type { Database } from "../../server/db/client.js";

/** The Connect code a call ended with, or "ok". */
export async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

/** The ConnectError a call failed with, or undefined when it succeeded. */
export async function errorOf(p: Promise<unknown>): Promise<ConnectError | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return ConnectError.from(err);
  }
}

/** Every row of every table, as text (bytea decoded as UTF-8 too). */
export async function dumpAllTables(database: Database): Promise<string> {
  const res = await database.db.execute(sql`SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ('public', 'drizzle')`);
  const rows = (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as Array<{ schemaname: string; tablename: string }>;
  // The tables are read concurrently (several connections on PostgreSQL) and joined in order.
  const parts = await Promise.all(
    rows.map(async ({ schemaname, tablename }) => {
      const data = await database.db.execute(sql.raw(`SELECT * FROM "${schemaname}"."${tablename}"`));
      const list = (Array.isArray(data) ? data : (data as { rows: unknown[] }).rows) as unknown[];
      return `${tablename}\n${JSON.stringify(list, (_k, v: unknown) => {
        if (typeof v === "bigint") return v.toString();
        if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
        if (v && typeof v === "object" && (v as { type?: string }).type === "Buffer")
          return Buffer.from((v as { data: number[] }).data).toString("utf8");
        return v;
      })}\n`;
    }),
  );
  return parts.join("");
}
