// Key envelopes: first write wins per (kind, scope, epoch, recipient).
import { and, asc, eq, sql } from "drizzle-orm";
import type { Executor } from "../client.js";
import { envelopes } from "../schema.js";

export type EnvelopeRow = typeof envelopes.$inferSelect;

/** Inserts the rows that are not present yet; returns those actually stored. */
export async function insertEnvelopes(db: Executor, rows: EnvelopeRow[]): Promise<EnvelopeRow[]> {
  if (!rows.length) return [];
  return db.insert(envelopes).values(rows).onConflictDoNothing().returning();
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
 * Active devices lacking an envelope for the current epoch of a channel key (kind 1)
 * or of the directory key (kind 2, epoch 1 until rotation exists).
 */
export async function listMissingEnvelopes(db: Executor, kind: number | undefined, scopeId: string | undefined, limit: number) {
  const wantChannels = !kind || kind === 1;
  const wantDirectory = (!kind || kind === 2) && (!scopeId || scopeId === "directory");
  const parts = [];
  if (wantChannels) {
    parts.push(sql`
      SELECT 1 AS kind, c.id::text AS scope_id, c.key_epoch AS epoch, d.id::text AS device_id, d.user_id::text AS user_id, d.public_key
      FROM channels c CROSS JOIN devices d
      WHERE d.revoked_at IS NULL ${scopeId ? sql`AND c.id::text = ${scopeId}` : sql``}
        AND NOT EXISTS (SELECT 1 FROM envelopes e WHERE e.kind = 1 AND e.scope_id = c.id::text
                        AND e.epoch = c.key_epoch AND e.recipient_device_id = d.id)`);
  }
  if (wantDirectory) {
    parts.push(sql`
      SELECT 2 AS kind, 'directory' AS scope_id, 1 AS epoch, d.id::text AS device_id, d.user_id::text AS user_id, d.public_key
      FROM devices d
      WHERE d.revoked_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM envelopes e WHERE e.kind = 2 AND e.scope_id = 'directory'
                        AND e.epoch = 1 AND e.recipient_device_id = d.id)`);
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
