// The Connect frames of the fast path: each event is encoded once per codec (its frame is
// cached on the Event object, which the feed hands to every stream), heartbeats once per
// codec and second.
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { createEndStreamSerialization, endStreamFlag } from "@connectrpc/connect/protocol-connect";
import type { Event } from "../../../gen/dialtone/v1/event_pb.js";
import { SubscribeResponseSchema } from "../../../gen/dialtone/v1/event_service_pb.js";
import { envelope } from "../../http/envelope.js";
import { heartbeat, type Item } from "./items.js";

export type Codec = "proto" | "json";

const endStreams = createEndStreamSerialization(undefined);

export function frame(item: Item, codec: Codec): Uint8Array {
  const msg = create(SubscribeResponseSchema, item);
  return envelope(0, codec === "proto" ? toBinary(SubscribeResponseSchema, msg) : Buffer.from(toJsonString(SubscribeResponseSchema, msg)));
}

// One frame per Event object and codec: the feed hands the same Event to every stream.
const frames = { proto: new WeakMap<Event, Uint8Array>(), json: new WeakMap<Event, Uint8Array>() };

/** The enveloped SubscribeResponse carrying `event`, encoded once per codec. */
export function eventFrame(event: Event, codec: Codec): Uint8Array {
  let f = frames[codec].get(event);
  if (!f) frames[codec].set(event, (f = frame({ item: { case: "event", value: event } }, codec)));
  return f;
}

// The same frame as one HTTP/1.1 chunk (size line, frame, CRLF), for streams whose responses are
// written straight to their sockets (fast-path.ts): one socket write per delivery.
const chunks = { proto: new WeakMap<Event, Buffer>(), json: new WeakMap<Event, Buffer>() };

/** eventFrame(event, codec) in HTTP/1.1 chunked transfer coding. */
export function eventChunk(event: Event, codec: Codec): Buffer {
  let c = chunks[codec].get(event);
  if (!c) chunks[codec].set(event, (c = chunk(eventFrame(event, codec))));
  return c;
}

/** `bytes` as one chunk of HTTP/1.1's chunked transfer coding (RFC 9112 §7.1). */
export function chunk(bytes: Uint8Array): Buffer {
  const size = `${bytes.byteLength.toString(16)}\r\n`;
  const out = Buffer.allocUnsafe(size.length + bytes.byteLength + 2);
  out.write(size, 0, "latin1");
  out.set(bytes, size.length);
  out.write("\r\n", size.length + bytes.byteLength, "latin1");
  return out;
}

// Heartbeats carry the server time to the second: one frame per codec and second serves
// every idle stream whose timer fires in it.
const beats: Record<Codec, { at: number; frame: Uint8Array }> = {
  proto: { at: -1, frame: new Uint8Array() },
  json: { at: -1, frame: new Uint8Array() },
};

export function heartbeatFrame(now: Date, codec: Codec): Uint8Array {
  const second = Math.floor(now.getTime() / 1000);
  const b = beats[codec];
  if (b.at !== second) {
    b.at = second;
    b.frame = frame(heartbeat(new Date(second * 1000)), codec);
  }
  return b.frame;
}

export function endFrame(error: ConnectError | undefined): Uint8Array {
  return envelope(endStreamFlag, endStreams.serialize({ metadata: new Headers(), ...(error ? { error } : {}) }));
}
