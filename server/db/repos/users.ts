// Accounts as admins manage them: listing, the admin flag, removal (a tombstone).
import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db, Executor } from "../client.js";
import { devices, removals, sessions, users } from "../schema.js";
import type { DeviceRow, UserRow } from "./accounts.js";
import { appendEvents, type EventRow, type NewEvent } from "./events.js";

export type UserWithDevices = Omit<UserRow, "usernameHash" | "passwordHash" | "inviteId"> & { devices: DeviceRow[] };

const userColumns = { id: users.id, isAdmin: users.isAdmin, createdAt: users.createdAt, removedAt: users.removedAt };

/** Every account (removed ones too when asked) with all its devices, oldest first. */
export async function listUsers(db: Executor, includeRemoved: boolean): Promise<UserWithDevices[]> {
  const rows = await db
    .select(userColumns)
    .from(users)
    .where(includeRemoved ? undefined : isNull(users.removedAt))
    .orderBy(asc(users.createdAt), asc(users.id));
  return attachDevices(db, rows);
}

export async function findUser(db: Executor, id: string): Promise<UserWithDevices | undefined> {
  const rows = await db.select(userColumns).from(users).where(eq(users.id, id));
  return (await attachDevices(db, rows))[0];
}

async function attachDevices(db: Executor, rows: Array<Omit<UserWithDevices, "devices">>): Promise<UserWithDevices[]> {
  if (!rows.length) return [];
  const all = await db
    .select()
    .from(devices)
    .where(
      inArray(
        devices.userId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(devices.createdAt), asc(devices.id));
  const byUser = new Map<string, DeviceRow[]>();
  for (const d of all) {
    let list = byUser.get(d.userId);
    if (!list) byUser.set(d.userId, (list = []));
    list.push(d);
  }
  return rows.map((r) => ({ ...r, devices: byUser.get(r.id) ?? [] }));
}

/**
 * Locks every admin row (so concurrent demotions and removals queue) and tells whether
 * `userId` is the only admin left.
 */
async function isLastAdmin(tx: Executor, userId: string): Promise<boolean> {
  const admins = await tx.execute(
    sql`SELECT ${users.id} AS id FROM ${users} WHERE ${users.isAdmin} AND ${users.removedAt} IS NULL FOR UPDATE`,
  );
  const ids = (Array.isArray(admins) ? admins : (admins as { rows: unknown[] }).rows) as Array<{ id: string }>;
  return ids.length <= 1 && ids.some((r) => r.id === userId);
}

export type SetAdminResult =
  | { kind: "last_admin" }
  | { kind: "not_found" }
  | { kind: "removed" }
  | { kind: "unchanged" }
  | { kind: "changed"; events: EventRow[] };

/** Sets the admin flag and records AdminChanged, in one transaction. */
export async function setAdmin(db: Db, userId: string, isAdmin: boolean, now: Date, event: NewEvent): Promise<SetAdminResult> {
  return db.transaction(async (tx) => {
    if (!isAdmin && (await isLastAdmin(tx, userId))) return { kind: "last_admin" };
    const [user] = await tx.select(userColumns).from(users).where(eq(users.id, userId)).for("update");
    if (!user) return { kind: "not_found" };
    if (user.removedAt) return { kind: "removed" };
    if (user.isAdmin === isAdmin) return { kind: "unchanged" };
    await tx.update(users).set({ isAdmin }).where(eq(users.id, userId));
    return { kind: "changed", events: await appendEvents(tx, [event], now) };
  });
}

export type RemoveUserResult =
  | { kind: "last_admin" }
  | { kind: "not_found" }
  | { kind: "already_removed"; removalStored: boolean; events: EventRow[] }
  | { kind: "removed"; revokedDeviceIds: string[]; removalStored: boolean; events: EventRow[] };

/** A signed removal to store with the account's tombstone, and its event. */
export interface SignedRemoval {
  row: typeof removals.$inferInsert;
  event: NewEvent;
}

/**
 * Tombstones an account in one transaction: revokes its live devices, deletes its
 * sessions, frees its username hash, clears its password and admin flag, and records
 * one DeviceRevoked per device plus UserRemoved. A signed removal is stored with it (or, for an
 * account removed before, alone), unless one is stored already.
 */
export async function removeUser(
  db: Db,
  userId: string,
  now: Date,
  events: (revokedDeviceIds: string[]) => NewEvent[],
  removal?: SignedRemoval,
): Promise<RemoveUserResult> {
  return db.transaction(async (tx) => {
    if (await isLastAdmin(tx, userId)) return { kind: "last_admin" };
    const [user] = await tx.select(userColumns).from(users).where(eq(users.id, userId)).for("update");
    if (!user) return { kind: "not_found" };
    const removalStored = removal ? (await tx.insert(removals).values(removal.row).onConflictDoNothing().returning()).length > 0 : false;
    const removalEvents = removalStored ? [removal!.event] : [];
    if (user.removedAt) return { kind: "already_removed", removalStored, events: await appendEvents(tx, removalEvents, now) };
    const revoked = await tx
      .update(devices)
      .set({ revokedAt: now })
      .where(and(eq(devices.userId, userId), isNull(devices.revokedAt)))
      .returning({ id: devices.id });
    await tx.delete(sessions).where(eq(sessions.userId, userId));
    await tx
      .update(users)
      .set({ removedAt: now, isAdmin: false, usernameHash: `removed:${userId}`, passwordHash: "" })
      .where(eq(users.id, userId));
    const revokedDeviceIds = revoked.map((d) => d.id).sort();
    return {
      kind: "removed",
      revokedDeviceIds,
      removalStored,
      events: await appendEvents(tx, [...events(revokedDeviceIds), ...removalEvents], now),
    };
  });
}
