// The durable event log. Seqs come from the single event_head row so that they
// become visible in commit order (see schema.ts).
import { and, asc, eq, gt, lte, sql } from "drizzle-orm";
import type { Executor } from "../client.js";
import { eventHead, events } from "../schema.js";

export interface EventRow {
  seq: bigint;
  payload: Uint8Array;
}

/** Builds one event's payload once its seq is known. */
export type EventBuilder = (seq: bigint) => { type: string; payload: Uint8Array };

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

/** Writes events with consecutive seqs starting at `first`; returns the rows. */
export async function insertEvents(
  tx: Executor,
  first: bigint,
  builders: EventBuilder[],
  createdAt: Date,
): Promise<EventRow[]> {
  const rows = builders.map((build, i) => {
    const seq = first + BigInt(i);
    const { type, payload } = build(seq);
    return { seq, type, payload, createdAt };
  });
  if (rows.length) await tx.insert(events).values(rows);
  return rows.map(({ seq, payload }) => ({ seq, payload }));
}

/** Reserves seqs and writes the events in one go. */
export async function appendEvents(tx: Executor, builders: EventBuilder[], createdAt: Date) {
  const first = await reserveSeqs(tx, builders.length);
  return insertEvents(tx, first, builders, createdAt);
}

export async function readEventsAfter(db: Executor, afterSeq: bigint, limit: number, upTo?: bigint) {
  return db
    .select({ seq: events.seq, payload: events.payload })
    .from(events)
    .where(upTo === undefined ? gt(events.seq, afterSeq) : and(gt(events.seq, afterSeq), lte(events.seq, upTo)))
    .orderBy(asc(events.seq))
    .limit(limit);
}

export async function headSeq(db: Executor): Promise<bigint> {
  const [row] = await db.select({ seq: eventHead.seq }).from(eventHead).where(eq(eventHead.id, 1));
  return row?.seq ?? 0n;
}
