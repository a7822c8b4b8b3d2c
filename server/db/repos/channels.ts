// Channels and their lifecycle events.
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Db, Executor } from "../client.js";
import { channels, keyStatements } from "../schema.js";
import { appendEvents, type EventRow, type NewEvent } from "./events.js";

/** key_statements.kind of channel keys (KeyKind.CHANNEL of the API). */
const CHANNEL_KEY_KIND = 1;

export type ChannelRow = typeof channels.$inferSelect;

export async function listChannels(db: Executor): Promise<ChannelRow[]> {
  return db.select().from(channels).orderBy(asc(channels.createdAt), asc(channels.id));
}

export async function findChannel(db: Executor, id: string): Promise<ChannelRow | undefined> {
  const [row] = await db.select().from(channels).where(eq(channels.id, id));
  return row;
}

/** Inserts a channel unless its id exists; returns the stored row and whether it is new. */
export async function createChannel(
  db: Db,
  row: { id: string; encryptedName: string; createdByUserId: string; now: Date },
  event: (channel: ChannelRow) => NewEvent,
) {
  return db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(channels)
      .values({
        id: row.id,
        encryptedName: row.encryptedName,
        createdByUserId: row.createdByUserId,
        createdAt: row.now,
        updatedAt: row.now,
      })
      .onConflictDoNothing()
      .returning();
    if (!inserted) return { channel: (await findChannel(tx, row.id))!, created: false, events: [] };
    const events = await appendEvents(tx, [event(inserted)], row.now);
    return { channel: inserted, created: true, events };
  });
}

export async function renameChannel(db: Db, id: string, encryptedName: string, now: Date, event: (channel: ChannelRow) => NewEvent) {
  return db.transaction(async (tx) => {
    const [updated] = await tx.update(channels).set({ encryptedName, updatedAt: now }).where(eq(channels.id, id)).returning();
    if (!updated) return undefined;
    const events = await appendEvents(tx, [event(updated)], now);
    return { channel: updated, events };
  });
}

export type RotateResult =
  | { kind: "not_found" }
  | { kind: "stale"; currentEpoch: number }
  | { kind: "rotated"; channel: ChannelRow; events: EventRow[] };

/**
 * Moves a channel from `keyEpoch - 1` to `keyEpoch` with its name sealed at it, and records the
 * event, in one transaction. The epoch is compared and set in one UPDATE: of two rotations to
 * the same epoch the second waits for the first's row lock, then matches nothing (stale).
 */
export async function rotateChannelKey(
  db: Db,
  id: string,
  keyEpoch: number,
  encryptedName: string,
  now: Date,
  event: (channel: ChannelRow) => NewEvent,
): Promise<RotateResult> {
  return db.transaction(async (tx) => {
    // FOR UPDATE conflicts with the key-share lock every send takes on the row (a plain UPDATE of
    // a non-key column would not): in-flight sends finish first, later ones read the new epoch.
    await tx.select({ id: channels.id }).from(channels).where(eq(channels.id, id)).for("update");
    const [updated] = await tx
      .update(channels)
      .set({ keyEpoch, encryptedName, updatedAt: now })
      .where(and(eq(channels.id, id), eq(channels.keyEpoch, keyEpoch - 1)))
      .returning();
    if (updated) return { kind: "rotated", channel: updated, events: await appendEvents(tx, [event(updated)], now) };
    const current = await findChannel(tx, id);
    return current ? { kind: "stale", currentEpoch: current.keyEpoch } : { kind: "not_found" };
  });
}

/** Deletes a channel; its messages and envelopes go with it (ON DELETE CASCADE), its key statements here. */
export async function deleteChannel(db: Db, id: string, now: Date, event: NewEvent) {
  return db.transaction(async (tx) => {
    const deleted = await tx.delete(channels).where(eq(channels.id, id)).returning({ id: channels.id });
    if (!deleted.length) return undefined;
    await tx.delete(keyStatements).where(and(eq(keyStatements.kind, CHANNEL_KEY_KIND), eq(keyStatements.scopeId, id)));
    return { events: await appendEvents(tx, [event], now) };
  });
}

export async function findChannelIds(db: Executor, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db.select({ id: channels.id }).from(channels).where(inArray(channels.id, ids));
  return new Set(rows.map((r) => r.id));
}
