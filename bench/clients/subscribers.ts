// A subscriber load process: opens many event streams and records, for every MessageCreated
// it receives, send → receive latency (the send time travels in the message id).
//   kind "dialtone": EventService.Subscribe over HTTP/1.1 (a socket each), each frame decoded
//     with the generated schema in the socket's data callback, as the ws client gets a callback
//     per message: the same client work on both sides. With `stubs` (`--set client=stubs`), or
//     over h2c (streamsPerConn streams multiplexed on each connection), it goes through the
//     generated stubs with the lean transport of lean-transport.ts, or with connect-node's
//     transport (connectTransport): their async-iterator layers cost ~13 µs more client CPU per
//     message (a fan-out's load generators 107 % of a core against ws's 68 %), CPU the server
//     under test then lacks on this 2-core machine;
//   kind "ws": the raw ws baseline, one socket per subscriber, same payload decoded the same way.
import http from "node:http";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import WebSocket from "ws";
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import { create, toBinary } from "@bufbuild/protobuf";
import { EventService, SubscribeRequestSchema, SubscribeResponseSchema } from "../../gen/dialtone/v1/event_service_pb.js";
import { EnvelopeReader, endStreamError, envelope } from "../../server/http/envelope.js";
import { Histogram, nowUs, type HistogramData } from "../lib/hist.js";
import { parseMessageId } from "../lib/payload.js";
import { childOptions, emit, serve } from "../lib/proc.js";
import { leanTransport } from "./lean-transport.js";

export interface SubscribersOptions {
  kind: "dialtone" | "ws";
  port: number;
  tokens?: string[];
  http?: "2" | "1.1";
  /** connect-node's own transport (HTTP/1.1, as the dialtone CLI) instead of the lean one. */
  connectTransport?: boolean;
  /** HTTP/1.1 through the generated stubs and the lean transport, not a callback per frame. */
  stubs?: boolean;
  /** h2c only: streams multiplexed on one connection (1 = a connection per stream, like real clients). */
  streamsPerConn?: number;
  /** Source addresses, round-robin per connection (more than ~28k sockets to one port need several). */
  localAddresses?: string[];
  openConcurrency?: number;
}

export interface PhaseData {
  hist: HistogramData;
  /** Per message index: [index, max latency µs, deliveries, min latency µs]. */
  perMsg: Array<[number, number, number, number]>;
  deliveries: number;
}

export interface SubscriberCounters {
  open: number;
  failedOpen: number;
  ended: number;
  errors: Record<string, number>;
  heartbeats: number;
  presence: number;
  otherEvents: number;
}

const o = childOptions<SubscribersOptions>();
const host = "127.0.0.1";
const spc = o.http === "1.1" || o.kind === "ws" ? 1 : Math.max(1, o.streamsPerConn ?? 1);
const addrs = o.localAddresses?.length ? o.localAddresses : [undefined];

class Phase {
  hist = new Histogram();
  perMsg = new Map<number, { max: number; min: number; n: number }>();
  deliveries = 0;
  data(): PhaseData {
    return { hist: this.hist.toJSON(), perMsg: [...this.perMsg].map(([i, v]) => [i, v.max, v.n, v.min]), deliveries: this.deliveries };
  }
}
const phases = new Map<number, Phase>();
const counters: SubscriberCounters = { open: 0, failedOpen: 0, ended: 0, errors: {}, heartbeats: 0, presence: 0, otherEvents: 0 };
const aborts: AbortController[] = [];
const sockets: WebSocket[] = [];

function onEvent(ev: Event, at: number) {
  if (ev.payload.case === "messageCreated") {
    const { index, phase, sentUs } = parseMessageId(ev.payload.value.message!.messageId);
    const lat = at - sentUs;
    let p = phases.get(phase);
    if (!p) phases.set(phase, (p = new Phase()));
    p.hist.record(lat);
    p.deliveries++;
    const m = p.perMsg.get(index);
    if (!m) p.perMsg.set(index, { max: lat, min: lat, n: 1 });
    else {
      m.n++;
      if (lat > m.max) m.max = lat;
      if (lat < m.min) m.min = lat;
    }
  } else if (ev.payload.case === "presenceChanged") counters.presence++;
  else counters.otherEvents++;
}

const countError = (err: unknown) => {
  const key = err instanceof ConnectError ? `connect:${err.code}` : ((err as Error)?.message?.slice(0, 60) ?? String(err));
  counters.errors[key] = (counters.errors[key] ?? 0) + 1;
};

// ---- dialtone -----------------------------------------------------------------------------
type EventClient = Client<typeof EventService>;
const clients: EventClient[] = [];
function clientFor(conn: number): EventClient {
  if (clients[conn]) return clients[conn]!;
  const localAddress = addrs[conn % addrs.length];
  const baseUrl = `http://${host}:${o.port}`;
  const transport = o.connectTransport
    ? createConnectTransport({
        baseUrl,
        httpVersion: "1.1",
        useBinaryFormat: true,
        nodeOptions: { agent: new http.Agent({ keepAlive: true, maxSockets: Infinity }), ...(localAddress ? { localAddress } : {}) },
      })
    : leanTransport({ host, port: o.port, http: o.http ?? "2", ...(localAddress ? { localAddress } : {}) });
  return (clients[conn] = createClient(EventService, transport));
}

function openDialtone(i: number): Promise<void> {
  const tokens = o.tokens!;
  const client = clientFor(Math.floor(i / spc));
  const ac = new AbortController();
  aborts.push(ac);
  return new Promise<void>((resolve, reject) => {
    let opened = false;
    void (async () => {
      try {
        const stream = client.subscribe({}, { headers: { authorization: `Bearer ${tokens[i % tokens.length]}` }, signal: ac.signal });
        for await (const res of stream) {
          const at = nowUs();
          const item = res.item;
          if (item.case === "event") onEvent(item.value, at);
          else if (item.case === "heartbeat") counters.heartbeats++;
          else if (item.case === "hello" && !opened) {
            opened = true;
            counters.open++;
            resolve();
          }
        }
        counters.ended++;
      } catch (err) {
        if (!ac.signal.aborted) countError(err);
        if (!opened) reject(err);
        else counters.ended++;
      } finally {
        if (opened) counters.open--;
      }
    })();
  });
}

// HTTP/1.1, a callback per frame: what a lean client written from the protos does.
const SUBSCRIBE_PATH = `/${EventService.typeName}/${EventService.method.subscribe.name}`;
const SUBSCRIBE_BODY = envelope(0, toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, {})));

function openDialtoneH1(i: number): Promise<void> {
  const tokens = o.tokens!;
  const localAddress = addrs[i % addrs.length];
  const ac = new AbortController();
  aborts.push(ac);
  return new Promise<void>((resolve, reject) => {
    let opened = false;
    let closed = false;
    const req = http.request({
      host,
      port: o.port,
      method: "POST",
      path: SUBSCRIBE_PATH,
      headers: {
        "content-type": "application/connect+proto",
        "connect-protocol-version": "1",
        authorization: `Bearer ${tokens[i % tokens.length]}`,
      },
      agent: false,
      ...(localAddress ? { localAddress } : {}),
    });
    ac.signal.addEventListener("abort", () => req.destroy(), { once: true });
    const ended = (err?: unknown) => {
      if (closed) return;
      closed = true;
      if (err !== undefined && !ac.signal.aborted) countError(err);
      if (!opened) return reject(err ?? new Error("stream ended before its hello"));
      counters.open--;
      counters.ended++;
    };
    req.on("error", (err) => ended(err));
    req.on("response", (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return ended(new ConnectError(`HTTP ${res.statusCode}`, Code.Unknown));
      }
      const reader = new EnvelopeReader();
      res.on("data", (chunk: Buffer) =>
        reader.push(chunk, (flags, data) => {
          if (flags !== 0) {
            const err = endStreamError(data);
            if (err) ended(err);
            return;
          }
          // Decode first, then take the time, as the ws client does.
          const item = fromBinary(SubscribeResponseSchema, data).item;
          const at = nowUs();
          if (item.case === "event") onEvent(item.value, at);
          else if (item.case === "heartbeat") counters.heartbeats++;
          else if (item.case === "hello" && !opened) {
            opened = true;
            counters.open++;
            resolve();
          }
        }),
      );
      res.on("error", (err) => ended(err));
      res.on("close", () => ended());
    });
    req.end(SUBSCRIBE_BODY);
  });
}

// ---- ws baseline --------------------------------------------------------------------------
function openWs(i: number): Promise<void> {
  const localAddress = addrs[i % addrs.length];
  return new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}:${o.port}/sub`, { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
    let opened = false;
    ws.binaryType = "nodebuffer";
    ws.on("open", () => {
      opened = true;
      counters.open++;
      sockets.push(ws);
      resolve();
    });
    ws.on("message", (data: Buffer) => {
      if (data.length === 14 && data[0] === 0x1a && data[13] === 0x1a) {
        counters.heartbeats++;
        return;
      }
      // Decode first, then take the time: the connect client hands us decoded messages too.
      const res = fromBinary(SubscribeResponseSchema, data);
      if (res.item.case === "event") onEvent(res.item.value, nowUs());
    });
    ws.on("error", (err) => {
      countError(err);
      if (!opened) reject(err);
    });
    ws.on("close", () => {
      if (opened) {
        counters.open--;
        counters.ended++;
      }
    });
  });
}

// ---- commands -----------------------------------------------------------------------------
let started = 0;
async function openUpTo(total: number): Promise<{ open: number; failed: number; ms: number }> {
  const t = performance.now();
  const conc = o.openConcurrency ?? 200;
  let failed = 0;
  const next = () => (started < total ? started++ : -1);
  const worker = async () => {
    for (let i = next(); i >= 0; i = next()) {
      try {
        await (o.kind === "ws" ? openWs(i) : o.http === "1.1" && !o.stubs && !o.connectTransport ? openDialtoneH1(i) : openDialtone(i));
      } catch {
        failed++;
        counters.failedOpen++;
      }
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
  return { open: counters.open, failed, ms: performance.now() - t };
}

serve(
  {
    open: ({ total }: { total: number }) => openUpTo(total),
    counters: () => counters,
    memory: () => process.memoryUsage(),
    phases: ({ list }: { list: number[] }) => Object.fromEntries(list.map((p) => [p, (phases.get(p) ?? new Phase()).data()])),
    reset: () => {
      phases.clear();
      counters.heartbeats = counters.presence = counters.otherEvents = 0;
      counters.errors = {};
      return {};
    },
  },
  () => {
    for (const a of aborts) a.abort();
    for (const s of sockets) s.terminate();
  },
);
emit("ready", { pid: process.pid });
