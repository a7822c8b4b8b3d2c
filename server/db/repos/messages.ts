// Messages: idempotent insert with its event, and backwards paging by seq.
import { and, desc, eq, lt } from "drizzle-orm";
import type { Db, Executor } from "../client.js";
import { messages } from "../schema.js";
import { insertEvents, reserveSeqs, type EventBuilder } from "./events.js";

export type MessageRow = typeof messages.$inferSelect;

export async function findMessage(db: Executor, id: string): Promise<MessageRow | undefined> {
  const [row] = await db.select().from(messages).where(eq(messages.id, id));
  return row;
}

/**
 * Stores a message and its MessageCreated event in one transaction. When the id
 * exists already, nothing is written and the stored row is returned.
 */
export async function insertMessage(
  db: Db,
  row: Omit<MessageRow, "seq">,
  event: (message: MessageRow) => EventBuilder,
) {
  const fast = await findMessage(db, row.id);
  if (fast) return { message: fast, created: false, events: [] };
  try {
    return await db.transaction(async (tx) => {
      // Taking the seq first serialises senders, so the check below sees any
      // concurrent send of the same id that committed before us.
      const seq = await reserveSeqs(tx, 1);
      if (await findMessage(tx, row.id)) throw new DuplicateId();
      const [inserted] = await tx.insert(messages).values({ ...row, seq }).returning();
      const events = await insertEvents(tx, seq, [event(inserted!)], row.createdAt);
      return { message: inserted!, created: true, events };
    });
  } catch (err) {
    if (!(err instanceof DuplicateId)) throw err;
    return { message: (await findMessage(db, row.id))!, created: false, events: [] };
  }
}

class DuplicateId extends Error {}

/** One page of a channel's history, newest first; fetches limit + 1 to tell if more remain. */
export async function listMessages(db: Executor, channelId: string, beforeSeq: bigint | undefined, limit: number) {
  const rows = await db
    .select()
    .from(messages)
    .where(beforeSeq ? and(eq(messages.channelId, channelId), lt(messages.seq, beforeSeq)) : eq(messages.channelId, channelId))
    .orderBy(desc(messages.seq))
    .limit(limit + 1);
  return { messages: rows.slice(0, limit), hasMore: rows.length > limit };
}
