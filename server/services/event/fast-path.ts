// EventService.Subscribe over the Connect protocol (binary and JSON, HTTP/1.1 and h2),
// served here instead of through connect-node's generic streaming pipeline. That pipeline
// cost ~100 µs of CPU per message per stream on the bench machine (a chain of down-levelled
// async generators, and a serialization per stream): a fan-out of one event to 1,000 streams
// paid it 1,000 times. Here an event is encoded once per codec (frames.ts) and live events are
// written straight from the feed's dispatch into each response: no promise, timer or generator
// step per event per stream. A client that reads slowly fills its response; writes then pause
// (events queue in the stream) until 'drain', and the feed's slow-subscriber rule ends the
// stream with resource_exhausted and the seq to resume from: nothing is dropped.
//
// The call is authenticated (before its body is read) and finished (log line, metrics, error mapping) by the same
// functions as connect-node's calls (server/http/sessions.ts, server/http/calls.ts).
import type { ConnectError } from "@connectrpc/connect";
import type { Deps } from "../../domain/deps.js";
import { openSubscription, type Subscription } from "../../domain/subscriptions.js";
import { finishCall } from "../../http/calls.js";
import { unauthenticatedError } from "../../http/context.js";
import { toConnectError } from "../../http/errors.js";
import type { NodeHandler } from "../../http/listener.js";
import type { Metrics } from "../../http/metrics.js";
import { authenticate, type SessionCache } from "../../http/sessions.js";
import type { Socket } from "node:net";
import { endFrame, eventChunk, eventFrame, frame, heartbeatFrame, type Codec } from "./frames.js";
import { hello } from "./items.js";
import { connectCodec, readRequest, type Req } from "./request.js";

type Res = Parameters<NodeHandler>[1];

const METHOD = "dialtone.v1.EventService/Subscribe";

export interface FastPathOptions {
  sessions: SessionCache;
  metrics: Metrics;
  readMaxBytes: number;
}

/** Serves Connect-protocol Subscribe calls; everything else goes to `next`. */
export function withEventStream(deps: Deps, o: FastPathOptions, next: NodeHandler): NodeHandler {
  return (req, res) => {
    const codec = connectCodec(req);
    if (!codec) return next(req, res);
    void serve(deps, o, codec, req, res);
  };
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

/**
 * The socket of an HTTP/1.1 chunked response whose headers are out, to write pre-framed chunks
 * to directly: ServerResponse.write frames each write in three socket writes, corks the socket
 * and uncorks it a tick later, per delivery. Nothing for HTTP/2 (its own framing) or HTTP/1.0.
 */
function directSocket(req: Req, res: Res): Socket | undefined {
  if (req.httpVersion !== "1.1" || !("chunkedEncoding" in res) || !res.chunkedEncoding || !res.headersSent) return undefined;
  return res.socket ?? undefined;
}

async function serve(deps: Deps, o: FastPathOptions, codec: Codec, req: Req, res: Res) {
  const start = performance.now();
  let gone = false;
  let subscription: Subscription | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let direct: Socket | undefined;
  const resume = () => subscription?.stream.resume();
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
    // The session first, as connect-node's request gate does: no body is read for a stranger.
    const caller = await authenticate(o.sessions, req.headers.authorization);
    if (!caller) throw unauthenticatedError(!!req.headers.authorization);
    const request = await readRequest(req, codec, o.readMaxBytes);
    if (gone) return;
    const s = (subscription = openSubscription(deps, caller, request.afterSeq));
    res.write(frame(hello(s, deps.heartbeatSeconds, deps.now()), codec));
    for await (const ev of s.replay()) {
      if (gone) return;
      o.metrics.delivered(true);
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
        res.write(heartbeatFrame(deps.now(), codec)); // a full response pauses the next event write
      }
      heartbeat = setTimeout(beat, Math.max(1, idleMs - (performance.now() - lastWrite)));
    };
    heartbeat = setTimeout(beat, idleMs);
    // Heartbeats and the end still go through res: on HTTP/1.1 it writes to the same socket, in order.
    direct = directSocket(req, res);
    (direct ?? res).on("drain", resume);
    s.stream.attach({
      write(ev) {
        if (gone) return true;
        lastWrite = performance.now();
        o.metrics.delivered(ev.seq !== 0n);
        return direct ? direct.write(eventChunk(ev, codec)) : res.write(eventFrame(ev, codec));
      },
      end: (err) => ended(err),
    });
    const err = await live;
    if (err) throw err;
  } catch (err) {
    error = toConnectError(err, deps.log, METHOD);
  } finally {
    clearTimeout(heartbeat);
    direct?.off("drain", resume); // a kept-alive socket serves the next request
    subscription?.close();
    if (!gone && !res.writableEnded) res.end(endFrame(error));
    finishCall(deps.log, o.metrics, METHOD, gone ? "canceled" : (error ?? "ok"), start);
  }
}
