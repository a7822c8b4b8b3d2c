// A history reader: MessageService.ListMessages through the generated stubs (Connect over
// HTTP/1.1 keep-alive, as the dialtone CLI), one
// request at a time (closed loop), newest page or pages ending at random depths.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import http from "node:http";
import { MessageService } from "../../gen/dialtone/v1/message_service_pb.js";
import { Histogram, nowUs } from "../lib/hist.js";
import { childOptions, emit, serve } from "../lib/proc.js";

interface HistoryOptions {
  port: number;
  token: string;
  channelId: string;
  maxSeq: number;
}
const o = childOptions<HistoryOptions>();
const client = createClient(
  MessageService,
  createConnectTransport({
    baseUrl: `http://127.0.0.1:${o.port}`,
    httpVersion: "1.1",
    useBinaryFormat: true,
    nodeOptions: { agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) },
    // BENCH_NO_GZIP=1: do not offer gzip, so the server sends pages uncompressed (an experiment).
    ...(process.env.BENCH_NO_GZIP === "1" ? { acceptCompression: [] } : {}),
  }),
);
const headers = { authorization: `Bearer ${o.token}` };

async function run({ count, limit, mode, maxS = 20 }: { count: number; limit: number; mode: "newest" | "random"; maxS?: number }) {
  const h = new Histogram();
  let rows = 0;
  const end = performance.now() + maxS * 1000;
  for (let i = 0; i < count && performance.now() < end; i++) {
    const beforeSeq = mode === "newest" ? 0n : BigInt(limit + 1 + Math.floor(Math.random() * (o.maxSeq - limit)));
    const t = nowUs();
    const res = await client.listMessages({ channelId: o.channelId, beforeSeq, limit }, { headers });
    h.record(nowUs() - t);
    rows += res.messages.length;
    if (res.messages.length !== limit) throw new Error(`page of ${res.messages.length}, wanted ${limit}`);
  }
  return { hist: h.toJSON(), rows };
}

serve({ run });
emit("ready");
