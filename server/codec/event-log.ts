// The byte format of the durable event log, and the one place that reads it. A stored payload
// is a binary dialtone.v1.Event without its seq: the seq is the row's key (events.seq), known
// only once the row is written, and stamped here on the way out (Event.seq, and Message.seq
// inside MessageCreated). Rows written before this format carry the seq in the payload too;
// stamping overwrites it with the same value, so both shapes read alike (and the start-up
// data migration, server/db/data-migrations.ts, rewrites them with toSeqless()).
// Imports only gen/ and protobuf: the database layer and the domain both use it.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../gen/dialtone/v1/event_pb.js";

/** A durable event as it goes into the log: its payload case (for operators) and seqless bytes. */
export interface StoredEvent {
  type: string;
  payload: Uint8Array;
}

/** Encodes a durable event for the log. It must carry no seq: the log assigns it. */
export function encodeStored(event: Event): StoredEvent {
  const p = event.payload;
  if (event.seq !== 0n || (p.case === "messageCreated" && (p.value.message?.seq ?? 0n) !== 0n)) {
    throw new Error("a stored event carries no seq: the log assigns it");
  }
  return { type: p.case ?? "unknown", payload: toBinary(EventSchema, event) };
}

/** The event stored as `payload` under `seq`, with its seq stamped. Every reader of the log uses this. */
export function decodeStored(seq: bigint, payload: Uint8Array): Event {
  const ev = fromBinary(EventSchema, payload);
  ev.seq = seq;
  if (ev.payload.case === "messageCreated" && ev.payload.value.message) ev.payload.value.message.seq = seq;
  return ev;
}

/** The payload without its seq fields, or undefined when it has none (already the stored shape). */
export function toSeqless(payload: Uint8Array): Uint8Array | undefined {
  const ev = fromBinary(EventSchema, payload);
  const message = ev.payload.case === "messageCreated" ? ev.payload.value.message : undefined;
  if (ev.seq === 0n && (message?.seq ?? 0n) === 0n) return undefined;
  ev.seq = 0n;
  if (message) message.seq = 0n;
  return toBinary(EventSchema, ev);
}
