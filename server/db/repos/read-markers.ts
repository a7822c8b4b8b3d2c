// Read markers: per account and channel, the seq read to. Moves only forward.
import { eq, sql } from "drizzle-orm";
import { isForeignKeyViolation, type Executor } from "../client.js";
import { readMarkers } from "../schema.js";

export interface ReadMarkerRow {
  channelId: string;
  seq: bigint;
}

/**
 * Moves the marker to `seq` unless it stands further already; returns the marker as stored,
 * or undefined when the channel does not exist.
 */
export async function advanceReadMarker(db: Executor, userId: string, channelId: string, seq: bigint, now: Date) {
  try {
    const [row] = await db
      .insert(readMarkers)
      .values({ userId, channelId, seq, updatedAt: now })
      .onConflictDoUpdate({
        target: [readMarkers.userId, readMarkers.channelId],
        set: { seq: sql`GREATEST(${readMarkers.seq}, excluded.seq)`, updatedAt: now },
      })
      .returning({ channelId: readMarkers.channelId, seq: readMarkers.seq });
    return row;
  } catch (err) {
    if (isForeignKeyViolation(err, "read_markers_channel_id_channels_id_fk")) return undefined;
    throw err;
  }
}

export async function listReadMarkers(db: Executor, userId: string): Promise<ReadMarkerRow[]> {
  return db.select({ channelId: readMarkers.channelId, seq: readMarkers.seq }).from(readMarkers).where(eq(readMarkers.userId, userId));
}
