// Each account's encrypted key backup, replaced by compare-and-set on its version.
import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../client.js";
import { keyBackups } from "../schema.js";

export type KeyBackupRow = typeof keyBackups.$inferSelect;

export async function findKeyBackup(db: Executor, userId: string): Promise<KeyBackupRow | undefined> {
  const [row] = await db.select().from(keyBackups).where(eq(keyBackups.userId, userId));
  return row;
}

export type PutBackupResult = { kind: "stored"; version: bigint } | { kind: "conflict"; current: bigint };

/**
 * Writes version expected + 1 if the stored version is still `expected` (0: none stored), in one
 * statement, so of two racing writers exactly one wins. The loser learns the current version.
 */
export async function putKeyBackup(
  db: Executor,
  userId: string,
  expected: bigint,
  ciphertext: string,
  now: Date,
): Promise<PutBackupResult> {
  const [row] =
    expected === 0n
      ? await db
          .insert(keyBackups)
          .values({ userId, version: 1n, ciphertext, updatedAt: now })
          .onConflictDoNothing()
          .returning({ version: keyBackups.version })
      : await db
          .update(keyBackups)
          .set({ version: sql`${keyBackups.version} + 1`, ciphertext, updatedAt: now })
          .where(and(eq(keyBackups.userId, userId), eq(keyBackups.version, expected)))
          .returning({ version: keyBackups.version });
  if (row) return { kind: "stored", version: BigInt(row.version) };
  const [current] = await db.select({ version: keyBackups.version }).from(keyBackups).where(eq(keyBackups.userId, userId));
  return { kind: "conflict", current: current ? BigInt(current.version) : 0n };
}
