// EventService.Subscribe over the Connect protocol (binary and JSON, HTTP/1.1 and h2),
// served here instead of through connect-node's generic streaming pipeline. That pipeline
// cost ~100 µs of CPU per message per stream on the bench machine (a chain of down-levelled
// async generators, and a serialization per stream): a fan-out of one event to 1,000 streams
// paid it 1,000 times. Here an event is encoded once per codec (its enveloped frame is cached
// on the Event object, which the feed hands to every stream) and live events are written
// straight from the feed's dispatch into each response: no promise, timer or generator step
// per event per stream. A client that reads slowly fills its response; writes then pause
// (events queue in the Subscriber) until 'drain', and the feed's slow-subscriber rule ends
// the stream with resource_exhausted and the seq to resume from: nothing is dropped.
//
// gRPC, gRPC-Web, compressed requests and requests with a deadline go on to connect-node,
// which serves them with the same subscription (server/events/subscribe.ts).
import { create, fromBinary, fromJsonString, toBinary, toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString, createEndStreamSerialization, endStreamFlag, parseContentType } from "@connectrpc/connect/protocol-connect";
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import { SubscribeRequestSchema, SubscribeResponseSchema, type SubscribeRequest } from "../../gen/dialtone/v1/event_service_pb.js";
import type { Deps } from "../domain/deps.js";
import { heartbeat as heartbeatItem, openSubscription, type Subscription } from "../events/subscribe.js";
import { unauthenticatedError } from "./context.js";
import { envelope } from "./envelope.js";
import { toConnectError } from "./errors.js";
import type { NodeHandler } from "./listener.js";
import type { Metrics } from "./metrics.js";
import { sessionCache } from "./sessions.js";

type Codec = "proto" | "json";
type Req = Parameters<NodeHandler>[0];
type Res = Parameters<NodeHandler>[1];
type Item = MessageInitShape<typeof SubscribeResponseSchema>;

const PATH = "/dialtone.v1.EventService/Subscribe";
const METHOD = "dialtone.v1.EventService/Subscribe";
const endStreams = createEndStreamSerialization(undefined);

/** Serves Connect-protocol Subscribe calls; everything else goes to `next`. */
export function withEventStream(deps: Deps, metrics: Metrics, readMaxBytes: number, next: NodeHandler): NodeHandler {
  return (req, res) => {
    const codec = connectCodec(req);
    if (!codec) return next(req, res);
    void serve(deps, metrics, readMaxBytes, codec, req, res);
  };
}

function connectCodec(req: Req): Codec | undefined {
  if (req.method !== "POST" || (req.url !== PATH && !req.url?.startsWith(`${PATH}?`))) return undefined;
  const type = parseContentType(req.headers["content-type"] ?? null);
  if (!type?.stream) return undefined;
  const encoding = req.headers["connect-content-encoding"];
  if ((encoding !== undefined && encoding !== "identity") || req.headers["connect-timeout-ms"] !== undefined) return undefined;
  return type.binary ? "proto" : "json";
}

// ---- frames -------------------------------------------------------------------------------

function encode(item: Item, codec: Codec): Uint8Array {
  const msg = create(SubscribeResponseSchema, item);
  return envelope(0, codec === "proto" ? toBinary(SubscribeResponseSchema, msg) : Buffer.from(toJsonString(SubscribeResponseSchema, msg)));
}

// One frame per Event object and codec: the feed hands the same Event to every stream.
const frames = { proto: new WeakMap<Event, Uint8Array>(), json: new WeakMap<Event, Uint8Array>() };

/** The enveloped SubscribeResponse carrying `event`, encoded once per codec. */
export function eventFrame(event: Event, codec: Codec): Uint8Array {
  let f = frames[codec].get(event);
  if (!f) frames[codec].set(event, (f = encode({ item: { case: "event", value: event } }, codec)));
  return f;
}

// Heartbeats carry the server time to the second: one frame per codec and second serves
// every idle stream whose timer fires in it.
const beats: Record<Codec, { at: number; frame: Uint8Array }> = { proto: { at: -1, frame: new Uint8Array() }, json: { at: -1, frame: new Uint8Array() } };
function heartbeatFrame(deps: Deps, codec: Codec): Uint8Array {
  const now = deps.now();
  const second = Math.floor(now.getTime() / 1000);
  const b = beats[codec];
  if (b.at !== second) {
    b.at = second;
    b.frame = encode(heartbeatItem(new Date(second * 1000)), codec);
  }
  return b.frame;
}

function endFrame(error: ConnectError | undefined): Uint8Array {
  return envelope(endStreamFlag, endStreams.serialize({ metadata: new Headers(), ...(error ? { error } : {}) }));
}

// ---- the call -----------------------------------------------------------------------------

async function readRequest(req: Req, codec: Codec, readMaxBytes: number): Promise<SubscribeRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > readMaxBytes + 5) throw new ConnectError(`message size is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  if (body.length < 5) throw new ConnectError("protocol error: missing input message for server-streaming method", Code.InvalidArgument);
  const flags = body[0]!;
  const len = body.readUInt32BE(1);
  if (flags !== 0) throw new ConnectError(`protocol error: unexpected envelope flags ${flags}`, Code.InvalidArgument);
  if (body.length !== 5 + len) {
    throw new ConnectError(`protocol error: ${body.length > 5 + len ? "received extra input message" : "promised more bytes"} for server-streaming method`, Code.InvalidArgument);
  }
  const data = body.subarray(5);
  try {
    return codec === "proto" ? fromBinary(SubscribeRequestSchema, data) : fromJsonString(SubscribeRequestSchema, data.toString("utf8"));
  } catch (err) {
    throw ConnectError.from(err, Code.InvalidArgument);
  }
}

/** Resolves when the response can take more bytes, or has closed. */
function drained(res: Res): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

async function serve(deps: Deps, metrics: Metrics, readMaxBytes: number, codec: Codec, req: Req, res: Res) {
  const start = performance.now();
  let gone = false;
  let subscription: Subscription | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let ended: (err?: Error) => void = () => {};
  const live = new Promise<Error | undefined>((resolve) => (ended = resolve));
  res.once("close", () => {
    gone = true;
    ended();
  });
  res.on("error", () => {}); // a write racing the client's reset; 'close' follows
  let error: ConnectError | undefined;
  try {
    res.writeHead(200, { "content-type": codec === "proto" ? "application/connect+proto" : "application/connect+json" });
    const request = await readRequest(req, codec, readMaxBytes);
    const m = /^bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? "").trim());
    const caller = m ? await sessionCache(deps).resolve(m[1]!) : undefined;
    if (!caller) throw unauthenticatedError(!!req.headers.authorization);
    if (gone) return;
    const s = (subscription = openSubscription(deps, caller, request.afterSeq));
    res.write(encode(s.hello, codec));
    for await (const ev of s.replay()) {
      if (gone) return;
      metrics.delivered(true);
      if (!res.write(eventFrame(ev, codec))) await drained(res);
    }
    if (gone) return;
    // Live: the feed calls write() for each event; a full response pauses it until 'drain'.
    const idleMs = deps.heartbeatSeconds * 1000;
    let lastWrite = performance.now();
    const beat = () => {
      const quiet = performance.now() - lastWrite;
      if (quiet >= idleMs - 1) {
        lastWrite = performance.now();
        res.write(heartbeatFrame(deps, codec)); // a full response pauses the next event write
      }
      heartbeat = setTimeout(beat, Math.max(1, idleMs - (performance.now() - lastWrite)));
    };
    heartbeat = setTimeout(beat, idleMs);
    res.on("drain", () => s.sub.resume());
    s.sub.attach({
      write(ev) {
        lastWrite = performance.now();
        metrics.delivered(ev.seq !== 0n);
        return res.write(eventFrame(ev, codec));
      },
      end: (err) => ended(err),
    });
    const err = await live;
    if (err) throw err;
  } catch (err) {
    error = toConnectError(err, deps.log, METHOD);
  } finally {
    clearTimeout(heartbeat);
    subscription?.close();
    const code = gone ? "canceled" : error ? codeToString(error.code) : "ok";
    if (!gone && !res.writableEnded) res.end(endFrame(error));
    deps.log.debug("rpc", { method: METHOD, code, ms: Math.round((performance.now() - start) * 10) / 10 });
    metrics.recordCall(METHOD, code, (performance.now() - start) / 1000);
  }
}
