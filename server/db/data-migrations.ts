// Data migrations: TypeScript steps that Database.migrate() runs after the SQL migrations,
// for rewrites SQL cannot do (protobuf payloads). Each runs once: the ones applied are
// recorded in data_migrations, and a step is written so that running it again changes nothing.
import { eq, sql } from "drizzle-orm";
import { toSeqless } from "../codec/event-log.js";
import { readEventsAfter, replacePayload } from "./repos/events.js";
import { dataMigrations } from "./schema.js";
import type { Db, Executor } from "./types.js";

export interface DataMigration {
  name: string;
  run(tx: Executor): Promise<void>;
}

const PAGE = 1000;

/** Event payloads written with their seq inside (before the seqless log) are rewritten without it. */
async function seqlessEventPayloads(tx: Executor): Promise<void> {
  for (let after = 0n; ; ) {
    const rows = await readEventsAfter(tx, after, PAGE);
    if (!rows.length) return;
    for (const r of rows) {
      const seqless = toSeqless(r.payload);
      if (seqless) await replacePayload(tx, r.seq, seqless);
    }
    after = rows.at(-1)!.seq;
  }
}

export const DATA_MIGRATIONS: readonly DataMigration[] = [{ name: "0001_seqless_event_payloads", run: seqlessEventPayloads }];

/** Runs the steps not yet recorded, each in a transaction with its record; returns their names. */
export async function runDataMigrations(db: Db, steps: readonly DataMigration[] = DATA_MIGRATIONS): Promise<string[]> {
  const applied: string[] = [];
  for (const step of steps) {
    const ran = await db.transaction(async (tx) => {
      // One process at a time: several may start together on one database.
      await tx.execute(sql`LOCK TABLE ${dataMigrations} IN SHARE ROW EXCLUSIVE MODE`);
      const [done] = await tx.select({ name: dataMigrations.name }).from(dataMigrations).where(eq(dataMigrations.name, step.name));
      if (done) return false;
      await step.run(tx);
      await tx.insert(dataMigrations).values({ name: step.name });
      return true;
    });
    if (ran) applied.push(step.name);
  }
  return applied;
}
