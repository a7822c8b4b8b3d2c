// A sender load process, open loop: message i is due at start + i / rate whatever happened to
// the earlier ones (no coordinated omission). Each message id carries its send time.
//   kind "dialtone": MessageService.SendMessage through the generated stubs (connect-node,
//     HTTP/1.1 keep-alive or h2c), spread over `connections` clients (one account each);
//   kind "ws": the fan-out baseline, the same SubscribeResponse bytes a subscriber would get,
//     sent to the raw ws broadcast server;
//   kind "ws-store": the Send baseline, SendMessageRequest bytes to the raw ws server's /store,
//     each answered once its row is written (round trip timed like ours).
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import http from "node:http";
import WebSocket from "ws";
import { MessageService, SendMessageRequestSchema, SendMessageResponseSchema } from "../../gen/dialtone/v1/message_service_pb.js";
import { Histogram, nowUs } from "../lib/hist.js";
import { BODY_BYTES, baselineFrame, messageId, sealedField } from "../lib/payload.js";
import { childOptions, emit, serve } from "../lib/proc.js";

export interface SenderOptions {
  kind: "dialtone" | "ws" | "ws-store";
  port: number;
  /** dialtone: one token per connection. */
  tokens?: string[];
  channelId?: string;
  connections?: number;
  bodyBytes?: number;
  /** dialtone: "1.1" (default) or "2" (h2c). */
  http?: "1.1" | "2";
  /** ws-store: "store" (default) or "storecast" (store, then broadcast). */
  storePath?: string;
}

export interface RunArgs {
  rate: number;
  durationS: number;
  phase: number;
  /** How long to wait for answers still outstanding when the sending window ends (default 10 s). */
  tailS?: number;
}

const o = childOptions<SenderOptions>();
const host = "127.0.0.1";
const conns = Math.max(1, o.connections ?? 1);
const bodyBytes = o.bodyBytes ?? BODY_BYTES;

const clients: Client<typeof MessageService>[] = [];
/** ws-store: replies awaited, by message id. */
const awaiting = new Map<string, (err?: Error) => void>();
const sockets: WebSocket[] = [];
if (o.kind === "dialtone") {
  for (let c = 0; c < conns; c++) {
    const baseUrl = `http://${host}:${o.port}`;
    // HTTP/1.1 keep-alive, as the dialtone CLI; a few sockets per "connection" so an open loop is not
    // held behind one slow answer (HTTP/1.1 has no multiplexing). --set http=2: one h2c session each.
    const transport =
      o.http === "2"
        ? createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true })
        : createConnectTransport({
            baseUrl,
            httpVersion: "1.1",
            useBinaryFormat: true,
            nodeOptions: { agent: new http.Agent({ keepAlive: true, maxSockets: 8 }) },
          });
    clients.push(createClient(MessageService, transport));
  }
  // Warm each connection (and each session's lookup) once.
  await Promise.all(
    clients.map((c, i) =>
      c.listMessages({ channelId: o.channelId!, limit: 1 }, { headers: { authorization: `Bearer ${o.tokens![i % o.tokens!.length]}` } }),
    ),
  );
} else {
  for (let c = 0; c < conns; c++) {
    const ws = new WebSocket(`ws://${host}:${o.port}/${o.kind === "ws" ? "send" : (o.storePath ?? "store")}`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.on("message", (data: Buffer) => {
      const id = fromBinary(SendMessageResponseSchema, data).message?.messageId ?? "";
      const w = awaiting.get(id);
      awaiting.delete(id);
      w?.();
    });
    ws.on("close", () => {
      for (const w of awaiting.values()) w(new Error("baseline server closed the socket"));
      awaiting.clear();
    });
    sockets.push(ws);
  }
}

async function run({ rate, durationS, phase, tailS = 10 }: RunArgs) {
  const total = Math.round(rate * durationS);
  const rtt = new Histogram(); // from the actual call
  const rttSched = new Histogram(); // from the time the message was due (open-loop view)
  const lag = new Histogram(); // how late the call started against its due time
  const errors: Record<string, number> = {};
  const inflight: Promise<void>[] = [];
  const senderName = sealedField(49);
  const start = nowUs() + 2000;
  let i = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      for (let now = nowUs(); i < total && start + (i * 1e6) / rate <= now; now = nowUs(), i++) {
        const due = start + (i * 1e6) / rate;
        const t = nowUs();
        lag.record(t - due);
        const conn = i % conns;
        const id = messageId(i, phase, conn, t);
        const body = sealedField(bodyBytes);
        if (o.kind === "ws") {
          sockets[conn]!.send(baselineFrame(id, body, senderName, BigInt(i + 1)));
          continue;
        }
        const req = { messageId: id, channelId: o.channelId!, encryptedBody: body, encryptedSenderName: senderName, keyEpoch: 1 };
        const call =
          o.kind === "ws-store"
            ? new Promise<void>((resolve, reject) => {
                awaiting.set(id, (err) => (err ? reject(err) : resolve()));
                sockets[conn]!.send(toBinary(SendMessageRequestSchema, create(SendMessageRequestSchema, req)));
              })
            : clients[conn]!.sendMessage(req, { headers: { authorization: `Bearer ${o.tokens![conn % o.tokens!.length]}` } });
        inflight.push(
          call.then(
            () => {
              const end = nowUs();
              rtt.record(end - t);
              rttSched.record(end - due);
            },
            (err: Error) => {
              const k = err.message.slice(0, 80);
              errors[k] = (errors[k] ?? 0) + 1;
            },
          ),
        );
      }
      if (i >= total) return done();
      const wait = (start + (i * 1e6) / rate - nowUs()) / 1000;
      setTimeout(tick, Math.max(0, wait - 0.3));
    };
    setTimeout(tick, 2);
  });
  const sentS = (nowUs() - start) / 1e6;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(inflight), new Promise((r) => (timer = setTimeout(r, tailS * 1000)))]);
  clearTimeout(timer);
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  // Answers not back by the deadline: counted, never waited for (the server is overloaded).
  const unanswered = o.kind === "ws" ? 0 : total - rtt.count - failed;
  awaiting.clear();
  return { sent: total, sentS, answered: rtt.count, unanswered, rtt: rtt.toJSON(), rttSched: rttSched.toJSON(), lag: lag.toJSON(), errors };
}

serve({ run: (a: RunArgs) => run(a) }, () => {
  for (const s of sockets) s.terminate();
});
emit("ready", { pid: process.pid });
