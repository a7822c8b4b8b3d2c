// Device listing and revocation.
import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import type { Db, Executor } from "../client.js";
import { devices, sessions, users } from "../schema.js";
import { appendEvents, type NewEvent } from "./events.js";

export async function listDevices(db: Executor, userIds: string[], includeRevoked: boolean) {
  return db
    .select()
    .from(devices)
    .where(and(userIds.length ? inArray(devices.userId, userIds) : undefined, includeRevoked ? undefined : isNull(devices.revokedAt)))
    .orderBy(asc(devices.createdAt), asc(devices.id));
}

export async function findDevice(db: Executor, id: string) {
  const [row] = await db.select().from(devices).where(eq(devices.id, id));
  return row;
}

/** Revokes a device (with its owner's signed revocation, when given), ends its sessions and records DeviceRevoked. */
export async function revokeDevice(db: Db, id: string, now: Date, event: NewEvent, revocation?: string) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(devices)
      .set({ revokedAt: now, ...(revocation ? { revocation } : {}) })
      .where(and(eq(devices.id, id), isNull(devices.revokedAt)))
      .returning();
    if (!row) return undefined;
    await tx.delete(sessions).where(eq(sessions.deviceId, id));
    return { device: row, events: await appendEvents(tx, [event], now) };
  });
}

export async function listUserAdminFlags(db: Executor, userIds: string[]) {
  return db
    .select({ id: users.id, isAdmin: users.isAdmin })
    .from(users)
    .where(userIds.length ? inArray(users.id, userIds) : undefined)
    .orderBy(asc(users.createdAt), asc(users.id));
}

export async function findDevicesByIds(db: Executor, ids: string[]) {
  if (!ids.length) return [];
  return db.select().from(devices).where(inArray(devices.id, ids));
}
