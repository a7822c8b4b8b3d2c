// Registration invites; only the SHA-256 of a token is stored.
import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Executor } from "../client.js";
import { invites } from "../schema.js";

export type InviteRow = typeof invites.$inferSelect;

export async function insertInvite(db: Executor, row: typeof invites.$inferInsert): Promise<InviteRow> {
  const [inserted] = await db.insert(invites).values(row).returning();
  return inserted!;
}

export async function listInvites(db: Executor, includeInactive: boolean, now: Date): Promise<InviteRow[]> {
  const active = and(isNull(invites.revokedAt), gt(invites.expiresAt, now), sql`${invites.uses} < ${invites.maxUses}`);
  return db
    .select()
    .from(invites)
    .where(includeInactive ? undefined : active)
    .orderBy(desc(invites.createdAt), desc(invites.id));
}

/** Marks an invite revoked; returns false when it does not exist. */
export async function revokeInvite(db: Executor, id: string, now: Date): Promise<boolean> {
  await db
    .update(invites)
    .set({ revokedAt: now })
    .where(and(eq(invites.id, id), isNull(invites.revokedAt)));
  const [row] = await db.select({ id: invites.id }).from(invites).where(eq(invites.id, id));
  return !!row;
}
