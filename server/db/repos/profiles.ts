// Directory profiles: one sealed display name per account.
import { asc, eq } from "drizzle-orm";
import type { Db, Executor } from "../client.js";
import { profiles, users } from "../schema.js";
import { appendEvents, type NewEvent } from "./events.js";

export type ProfileRow = typeof profiles.$inferSelect;

/** Every account with its profile fields (empty name when never set). */
export async function listProfiles(db: Executor) {
  return db
    .select({
      userId: users.id,
      isAdmin: users.isAdmin,
      createdAt: users.createdAt,
      encryptedName: profiles.encryptedName,
      keyEpoch: profiles.keyEpoch,
      updatedAt: profiles.updatedAt,
      removedAt: users.removedAt,
    })
    .from(users)
    .leftJoin(profiles, eq(profiles.userId, users.id))
    .orderBy(asc(users.createdAt), asc(users.id));
}

export async function upsertProfile(db: Db, row: ProfileRow, event: (p: ProfileRow) => NewEvent) {
  return db.transaction(async (tx) => {
    const [stored] = await tx
      .insert(profiles)
      .values(row)
      .onConflictDoUpdate({
        target: profiles.userId,
        set: { encryptedName: row.encryptedName, keyEpoch: row.keyEpoch, updatedAt: row.updatedAt },
      })
      .returning();
    const events = await appendEvents(tx, [event(stored!)], row.updatedAt);
    return { profile: stored!, events };
  });
}

export async function findUserAdmin(db: Executor, userId: string): Promise<boolean | undefined> {
  const [row] = await db.select({ isAdmin: users.isAdmin }).from(users).where(eq(users.id, userId));
  return row?.isAdmin;
}
