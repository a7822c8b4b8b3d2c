// Messages: idempotent insert with its event, and backwards paging by seq.
import { eq, sql } from "drizzle-orm";
import { isForeignKeyViolation, isUniqueViolation, type Db, type Executor } from "../client.js";
import { events as eventLog, messages } from "../schema.js";
import { appendEvents, type EventRow, type NewEvent } from "./events.js";

export type MessageRow = typeof messages.$inferSelect;

export async function findMessage(db: Executor, id: string): Promise<MessageRow | undefined> {
  const [row] = await db.select().from(messages).where(eq(messages.id, id));
  return row;
}

export type InsertMessageResult =
  | { kind: "created" | "exists"; message: MessageRow; events: EventRow[] }
  | { kind: "no_channel" }
  | { kind: "stale_epoch"; channelEpoch: number };

/**
 * Stores a message and its MessageCreated event in one statement: it reads the channel's key
 * epoch under a key-share lock — the one the foreign key check takes anyway, so it costs nothing
 * more; a rotation locks the row FOR UPDATE first, so it waits for the send, or the send for the
 * rotation and then reads the new epoch — takes the next seq only when the message is sealed at that epoch (row-locking
 * event_head until commit, so seqs become visible in commit order; no seq is taken for a refused
 * message, which would leave a gap in the feed), inserts the message with it, and inserts the
 * event under it (its payload carries no seq: readers stamp it). One round trip, so the locks are
 * held for the statement alone. When the id exists already, the statement fails as a whole (no
 * seq is used) and the stored row is returned; so is it when a retry comes after a rotation.
 */
export async function insertMessage(db: Db, row: Omit<MessageRow, "seq">, event: NewEvent): Promise<InsertMessageResult> {
  const at = row.createdAt.toISOString(); // raw parameters: postgres.js takes no Date here
  const statement = sql`
    WITH c AS (SELECT key_epoch FROM channels WHERE id = ${row.channelId} FOR KEY SHARE),
    h AS (UPDATE event_head SET seq = seq + 1 WHERE id = 1 AND (SELECT key_epoch FROM c) = ${row.keyEpoch} RETURNING seq),
    m AS (
      INSERT INTO messages (id, channel_id, sender_user_id, sender_device_id, encrypted_body, encrypted_sender_name, key_epoch, seq, created_at)
      SELECT ${row.id}, ${row.channelId}, ${row.senderUserId}, ${row.senderDeviceId}, ${row.encryptedBody}, ${row.encryptedSenderName}, ${row.keyEpoch}, h.seq, ${at}::timestamptz
      FROM h RETURNING seq),
    e AS (
      INSERT INTO events (seq, type, payload, created_at)
      SELECT m.seq, ${event.type}, ${event.payload}::bytea, ${at}::timestamptz
      FROM m RETURNING seq)
    SELECT (SELECT seq FROM e) AS seq, (SELECT key_epoch FROM c) AS channel_epoch`;
  let result: { seq: bigint | number | string | null; channel_epoch: number | null };
  try {
    const res = await db.execute(statement);
    result = ((Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as Array<typeof result>)[0]!;
  } catch (err) {
    // The channel row is share-locked first, so it cannot go before the insert; kept as a guard.
    if (isForeignKeyViolation(err, "messages_channel_id_channels_id_fk")) return { kind: "no_channel" };
    if (!isUniqueViolation(err)) throw err;
    const stored = await findMessage(db, row.id);
    if (!stored) throw err;
    return { kind: "exists", message: stored, events: [] };
  }
  if (result.seq === null) {
    // Refused (only now a second query): a retry of a message stored before a rotation is still that message.
    const stored = await findMessage(db, row.id);
    if (stored) return { kind: "exists", message: stored, events: [] };
    return result.channel_epoch === null ? { kind: "no_channel" } : { kind: "stale_epoch", channelEpoch: Number(result.channel_epoch) };
  }
  const seq = BigInt(result.seq);
  const message: MessageRow = { ...row, seq };
  const events: EventRow[] = [{ seq, payload: event.payload }];
  return { kind: "created", message, events };
}

export type DeleteMessageResult =
  | { kind: "deleted"; message: MessageRow; events: EventRow[] }
  | { kind: "not_found" }
  | { kind: "forbidden" };

/**
 * Deletes a message for good, in one transaction: the row, and the ciphertext's copy in the
 * event log (the MessageCreated event at the message's seq becomes the tombstone, so a feed
 * replayed from before it never hands the deleted body out again), then appends the tombstone
 * as a new event for those who saw the message. `mayDelete` decides on the locked row (its
 * sender, or an admin).
 */
export async function deleteMessage(
  db: Db,
  id: string,
  mayDelete: (row: MessageRow) => boolean,
  tombstone: (row: MessageRow) => NewEvent,
  now: Date,
): Promise<DeleteMessageResult> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(messages).where(eq(messages.id, id)).for("update");
    if (!row) return { kind: "not_found" as const };
    if (!mayDelete(row)) return { kind: "forbidden" as const };
    const event = tombstone(row);
    await tx.delete(messages).where(eq(messages.id, id));
    await tx.update(eventLog).set({ type: event.type, payload: event.payload }).where(eq(eventLog.seq, row.seq));
    return { kind: "deleted" as const, message: row, events: await appendEvents(tx, [event], now) };
  });
}

/**
 * One page of a channel's history, newest first; fetches limit + 1 to tell if more remain.
 * Plain SQL with the rows mapped here: the hottest read of the API, and drizzle's query
 * building and per-field mapping were most of its server CPU. The ORDER BY matches
 * messages_channel_seq_idx scanned backwards (migration 0004). The LIMIT is a literal (a
 * checked integer): as a parameter of this prepared statement, PostgreSQL's generic plan
 * (used after five runs) made a page ~40 % slower.
 */
export async function listMessages(db: Executor, channelId: string, beforeSeq: bigint | undefined, limit: number) {
  const res = await db.execute(sql`
    SELECT id, channel_id, sender_user_id, sender_device_id, encrypted_body, encrypted_sender_name, key_epoch, seq, created_at
    FROM messages
    WHERE channel_id = ${channelId} ${beforeSeq ? sql`AND seq < ${beforeSeq.toString()}::bigint` : sql``}
    ORDER BY seq DESC
    LIMIT ${sql.raw(String(Math.trunc(limit) + 1))}`);
  const raw = (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as RawMessage[];
  const rows: MessageRow[] = raw.slice(0, limit).map((r) => ({
    id: r.id,
    channelId: r.channel_id,
    senderUserId: r.sender_user_id,
    senderDeviceId: r.sender_device_id,
    encryptedBody: r.encrypted_body,
    encryptedSenderName: r.encrypted_sender_name,
    keyEpoch: Number(r.key_epoch),
    seq: BigInt(r.seq),
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
  }));
  return { messages: rows, hasMore: raw.length > limit };
}

/** A messages row as the drivers return it (postgres.js: bigint; PGlite: number). */
interface RawMessage {
  id: string;
  channel_id: string;
  sender_user_id: string;
  sender_device_id: string;
  encrypted_body: string;
  encrypted_sender_name: string;
  key_epoch: number;
  seq: bigint | number | string;
  created_at: Date | string;
}
