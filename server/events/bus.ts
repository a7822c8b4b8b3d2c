// The live bus tells every server process about committed durable events and
// carries ephemeral ones. This in-process implementation serves a single process;
// a PostgreSQL LISTEN/NOTIFY one (notifying seqs, readers load rows by seq) can
// implement the same interface for several processes on one database.
import type { EventRow } from "../db/repos/events.js";
import type { Event } from "../../gen/dialtone/v1/event_pb.js";

/** Who receives an ephemeral event. */
export type Audience =
  | { kind: "all" }
  | { kind: "device"; deviceId: string }
  | { kind: "stream"; streamId: string };

export interface EphemeralMessage {
  event: Event;
  audience: Audience;
}

export interface EventBus {
  publishDurable(rows: readonly EventRow[]): void;
  publishEphemeral(msg: EphemeralMessage): void;
  onDurable(handler: (rows: readonly EventRow[]) => void): void;
  onEphemeral(handler: (msg: EphemeralMessage) => void): void;
  close(): Promise<void>;
}

export class InProcessBus implements EventBus {
  private durable: Array<(rows: readonly EventRow[]) => void> = [];
  private ephemeral: Array<(msg: EphemeralMessage) => void> = [];

  publishDurable(rows: readonly EventRow[]) {
    if (rows.length) for (const h of this.durable) h(rows);
  }
  publishEphemeral(msg: EphemeralMessage) {
    for (const h of this.ephemeral) h(msg);
  }
  onDurable(handler: (rows: readonly EventRow[]) => void) {
    this.durable.push(handler);
  }
  onEphemeral(handler: (msg: EphemeralMessage) => void) {
    this.ephemeral.push(handler);
  }
  async close() {
    this.durable = [];
    this.ephemeral = [];
  }
}
