// A sender load process, open loop: message i is due at start + i / rate whatever happened to
// the earlier ones (no coordinated omission). Each message id carries its send time.
//   kind "dialtone": MessageService.SendMessage through the generated stubs over h2c, spread
//     over `connections` connections (one account each);
//   kind "ws": the baseline, the same SubscribeResponse bytes a subscriber would get, sent to
//     the raw ws broadcast server.
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import WebSocket from "ws";
import { MessageService } from "../../gen/dialtone/v1/message_service_pb.js";
import { Histogram, nowUs } from "../lib/hist.js";
import { BODY_BYTES, baselineFrame, messageId, sealedField } from "../lib/payload.js";
import { childOptions, emit, serve } from "../lib/proc.js";

export interface SenderOptions {
  kind: "dialtone" | "ws";
  port: number;
  /** dialtone: one token per connection. */
  tokens?: string[];
  channelId?: string;
  connections?: number;
  bodyBytes?: number;
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
const sockets: WebSocket[] = [];
if (o.kind === "dialtone") {
  for (let c = 0; c < conns; c++) {
    const transport = createConnectTransport({ baseUrl: `http://${host}:${o.port}`, httpVersion: "2", useBinaryFormat: true });
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
    const ws = new WebSocket(`ws://${host}:${o.port}/send`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => ws.once("open", resolve).once("error", reject));
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
        inflight.push(
          clients[conn]!.sendMessage(
            { messageId: id, channelId: o.channelId!, encryptedBody: body, encryptedSenderName: senderName, keyEpoch: 1 },
            { headers: { authorization: `Bearer ${o.tokens![conn % o.tokens!.length]}` } },
          ).then(
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
  return { sent: total, sentS, answered: rtt.count, unanswered, rtt: rtt.toJSON(), rttSched: rttSched.toJSON(), lag: lag.toJSON(), errors };
}

serve({ run: (a: RunArgs) => run(a) }, () => {
  for (const s of sockets) s.terminate();
});
emit("ready", { pid: process.pid });
