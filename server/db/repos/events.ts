// The durable event log. Seqs come from the single event_head row so that they
// become visible in commit order (see schema.ts). Payloads are stored without their seq
// (the row's key carries it); server/codec/event-log.ts reads them.
import { and, asc, eq, gt, lte, sql } from "drizzle-orm";
import type { Executor } from "../types.js";
import { eventHead, events } from "../schema.js";

/** A stored event: its seq and its payload (a seqless binary Event). */
export interface EventRow {
  seq: bigint;
  payload: Uint8Array;
}

/** An event to append: its payload case (for operators reading the table) and payload. */
export interface NewEvent {
  type: string;
  payload: Uint8Array;
}

/**
 * Reserves `count` consecutive seqs and returns the first. Call it late in a
 * transaction: the row lock it takes is held until commit.
 */
export async function reserveSeqs(tx: Executor, count: number): Promise<bigint> {
  const [row] = await tx
    .update(eventHead)
    .set({ seq: sql`${eventHead.seq} + ${count}` })
    .where(eq(eventHead.id, 1))
    .returning({ seq: eventHead.seq });
  if (!row) throw new Error("event_head row missing: migrations not applied");
  return row.seq - BigInt(count) + 1n;
}

/** Reserves seqs and writes the events in one go; returns the rows. */
export async function appendEvents(tx: Executor, list: readonly NewEvent[], createdAt: Date): Promise<EventRow[]> {
  if (!list.length) return [];
  const first = await reserveSeqs(tx, list.length);
  const rows = list.map(({ type, payload }, i) => ({ seq: first + BigInt(i), type, payload, createdAt }));
  await tx.insert(events).values(rows);
  return rows.map(({ seq, payload }) => ({ seq, payload }));
}

export async function readEventsAfter(db: Executor, afterSeq: bigint, limit: number, upTo?: bigint): Promise<EventRow[]> {
  return db
    .select({ seq: events.seq, payload: events.payload })
    .from(events)
    .where(upTo === undefined ? gt(events.seq, afterSeq) : and(gt(events.seq, afterSeq), lte(events.seq, upTo)))
    .orderBy(asc(events.seq))
    .limit(limit);
}

/** Rewrites one stored payload (the start-up data migration). */
export async function replacePayload(db: Executor, seq: bigint, payload: Uint8Array): Promise<void> {
  await db.update(events).set({ payload }).where(eq(events.seq, seq));
}

export async function headSeq(db: Executor): Promise<bigint> {
  const [row] = await db.select({ seq: eventHead.seq }).from(eventHead).where(eq(eventHead.id, 1));
  return row?.seq ?? 0n;
}
