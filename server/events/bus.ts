// The live bus connects the server processes that share one database. It carries
// three things: announcements of committed durable events (receivers read the rows
// by seq), ephemeral events for an audience, and cluster state (which streams and
// voice members each process holds). InProcessBus serves a single process; PgBus
// (pg-bus.ts) uses PostgreSQL LISTEN/NOTIFY so any process can serve any client.
import type { EventRow } from "../db/repos/events.js";
import type { EphemeralMessage, Publisher, StateMessage } from "../domain/ports.js";

export type { Audience, EphemeralMessage, StateMessage } from "../domain/ports.js";

/** The domain's Publisher, with the receiving side for the feed and the cluster. */
export interface EventBus extends Publisher {
  /** This process's id in the cluster. */
  readonly processId: string;
  /** Committed durable events: delivered here at once, announced to other processes. */
  publishDurable(rows: readonly EventRow[]): void;
  publishEphemeral(msg: EphemeralMessage): void;
  /** Cluster state for the other processes (never delivered back to this one). */
  publishState(msg: StateMessage): void;
  onDurable(handler: (rows: readonly EventRow[]) => void): void;
  /** Another process committed durable events up to this seq. */
  onAnnounce(handler: (upToSeq: bigint) => void): void;
  onEphemeral(handler: (msg: EphemeralMessage) => void): void;
  onState(handler: (msg: StateMessage, fromProcess: string) => void): void;
  close(): Promise<void>;
}

/** Handler registration shared by the bus implementations. */
export abstract class BusBase {
  protected readonly h = {
    durable: [] as Array<(rows: readonly EventRow[]) => void>,
    announce: [] as Array<(upTo: bigint) => void>,
    ephemeral: [] as Array<(msg: EphemeralMessage) => void>,
    state: [] as Array<(msg: StateMessage, from: string) => void>,
  };

  onDurable(f: (rows: readonly EventRow[]) => void) {
    this.h.durable.push(f);
  }
  onAnnounce(f: (upTo: bigint) => void) {
    this.h.announce.push(f);
  }
  onEphemeral(f: (msg: EphemeralMessage) => void) {
    this.h.ephemeral.push(f);
  }
  onState(f: (msg: StateMessage, from: string) => void) {
    this.h.state.push(f);
  }
  protected clearHandlers() {
    for (const list of Object.values(this.h)) list.length = 0;
  }
}

export class InProcessBus extends BusBase implements EventBus {
  readonly processId = "local";

  publishDurable(rows: readonly EventRow[]) {
    if (rows.length) for (const f of this.h.durable) f(rows);
  }
  publishEphemeral(msg: EphemeralMessage) {
    for (const f of this.h.ephemeral) f(msg);
  }
  publishState(_msg: StateMessage) {}
  async close() {
    this.clearHandlers();
  }
}
