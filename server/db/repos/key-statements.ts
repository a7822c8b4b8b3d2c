// Signed key statements: one per (kind, scope, epoch, signer); a repeat is not stored.
import { and, asc, eq } from "drizzle-orm";
import type { Executor } from "../client.js";
import { keyStatements } from "../schema.js";

export type KeyStatementRow = typeof keyStatements.$inferSelect;

/** Inserts the statements not present yet; returns how many were stored. */
export async function insertKeyStatements(db: Executor, rows: KeyStatementRow[]): Promise<number> {
  if (!rows.length) return 0;
  const stored = await db.insert(keyStatements).values(rows).onConflictDoNothing().returning({ kind: keyStatements.kind });
  return stored.length;
}

/** Statements of one kind and scope (either may be unset: all), oldest first. */
export async function listKeyStatements(db: Executor, kind: number | undefined, scopeId: string | undefined): Promise<KeyStatementRow[]> {
  return db
    .select()
    .from(keyStatements)
    .where(and(kind ? eq(keyStatements.kind, kind) : undefined, scopeId ? eq(keyStatements.scopeId, scopeId) : undefined))
    .orderBy(
      asc(keyStatements.createdAt),
      asc(keyStatements.kind),
      asc(keyStatements.scopeId),
      asc(keyStatements.epoch),
      asc(keyStatements.signerUserId),
    );
}
