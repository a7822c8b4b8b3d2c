// Key envelopes: one per sender and (kind, scope, epoch, recipient); the recipient marks the
// one it accepted, and deletes those it refused.
import { and, asc, eq, or, sql } from "drizzle-orm";
import type { Db, Executor } from "../client.js";
import { envelopes } from "../schema.js";

export type EnvelopeRow = typeof envelopes.$inferSelect;

/**
 * Inserts the rows that are not present yet (per sender; for the directory key, also not when
 * another device created that epoch's key first); returns those actually stored.
 */
export async function insertEnvelopes(db: Executor, rows: EnvelopeRow[]): Promise<EnvelopeRow[]> {
  if (!rows.length) return [];
  return db.insert(envelopes).values(rows).onConflictDoNothing().returning();
}

export interface EnvelopeKey {
  kind: number;
  scopeId: string;
  epoch: number;
  senderDeviceId: string;
}

const matching = (recipientDeviceId: string, refs: EnvelopeKey[]) =>
  and(
    eq(envelopes.recipientDeviceId, recipientDeviceId),
    or(
      ...refs.map((r) =>
        and(
          eq(envelopes.kind, r.kind),
          eq(envelopes.scopeId, r.scopeId),
          eq(envelopes.epoch, r.epoch),
          eq(envelopes.senderDeviceId, r.senderDeviceId),
        ),
      ),
    ),
  );

/** Marks accepted envelopes (the first acceptance time is kept) and deletes rejected ones, in one transaction. */
export async function acknowledgeEnvelopes(db: Db, recipientDeviceId: string, accepted: EnvelopeKey[], rejected: EnvelopeKey[], at: Date) {
  return db.transaction(async (tx) => ({
    accepted: await acceptEnvelopes(tx, recipientDeviceId, accepted, at),
    rejected: await deleteEnvelopes(tx, recipientDeviceId, rejected),
  }));
}

async function acceptEnvelopes(db: Executor, recipientDeviceId: string, refs: EnvelopeKey[], at: Date): Promise<number> {
  if (!refs.length) return 0;
  const rows = await db
    .update(envelopes)
    .set({ acceptedAt: sql`coalesce(${envelopes.acceptedAt}, ${at.toISOString()}::timestamptz)` })
    .where(matching(recipientDeviceId, refs))
    .returning({ kind: envelopes.kind });
  return rows.length;
}

async function deleteEnvelopes(db: Executor, recipientDeviceId: string, refs: EnvelopeKey[]): Promise<number> {
  if (!refs.length) return 0;
  const rows = await db.delete(envelopes).where(matching(recipientDeviceId, refs)).returning({ kind: envelopes.kind });
  return rows.length;
}

export async function listEnvelopesFor(db: Executor, recipientDeviceId: string, kind?: number, scopeId?: string) {
  return db
    .select()
    .from(envelopes)
    .where(
      and(
        eq(envelopes.recipientDeviceId, recipientDeviceId),
        kind ? eq(envelopes.kind, kind) : undefined,
        scopeId ? eq(envelopes.scopeId, scopeId) : undefined,
      ),
    )
    .orderBy(asc(envelopes.kind), asc(envelopes.scopeId), asc(envelopes.epoch));
}

export interface MissingRow {
  kind: number;
  scopeId: string;
  epoch: number;
  deviceId: string;
  userId: string;
  publicKey: string;
}

/**
 * Active devices that have accepted no envelope for the current epoch of a channel key (kind 1)
 * or of the directory key (kind 2, epoch 1 until rotation exists), leaving out those the
 * caller's device has already written to: each key holder shares once per device.
 */
export async function listMissingEnvelopes(
  db: Executor,
  callerDeviceId: string,
  kind: number | undefined,
  scopeId: string | undefined,
  limit: number,
) {
  const wantChannels = !kind || kind === 1;
  const wantDirectory = (!kind || kind === 2) && (!scopeId || scopeId === "directory");
  const parts = [];
  if (wantChannels) {
    parts.push(sql`
      SELECT 1 AS kind, c.id::text AS scope_id, c.key_epoch AS epoch, d.id::text AS device_id, d.user_id::text AS user_id, d.public_key
      FROM channels c CROSS JOIN devices d
      WHERE d.revoked_at IS NULL ${scopeId ? sql`AND c.id::text = ${scopeId}` : sql``}
        AND NOT EXISTS (SELECT 1 FROM envelopes e WHERE e.kind = 1 AND e.scope_id = c.id::text
                        AND e.epoch = c.key_epoch AND e.recipient_device_id = d.id
                        AND (e.accepted_at IS NOT NULL OR e.sender_device_id = ${callerDeviceId}))`);
  }
  if (wantDirectory) {
    parts.push(sql`
      SELECT 2 AS kind, 'directory' AS scope_id, 1 AS epoch, d.id::text AS device_id, d.user_id::text AS user_id, d.public_key
      FROM devices d
      WHERE d.revoked_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM envelopes e WHERE e.kind = 2 AND e.scope_id = 'directory'
                        AND e.epoch = 1 AND e.recipient_device_id = d.id
                        AND (e.accepted_at IS NOT NULL OR e.sender_device_id = ${callerDeviceId}))`);
  }
  if (!parts.length) return [];
  const query = sql`SELECT * FROM (${sql.join(parts, sql` UNION ALL `)}) m ORDER BY kind, scope_id, device_id LIMIT ${limit}`;
  const result = await db.execute(query);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;
  return rows.map(
    (r): MissingRow => ({
      kind: Number(r.kind),
      scopeId: String(r.scope_id),
      epoch: Number(r.epoch),
      deviceId: String(r.device_id),
      userId: String(r.user_id),
      publicKey: String(r.public_key),
    }),
  );
}
