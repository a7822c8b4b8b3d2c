// The baseline: a minimal raw `ws` broadcast server. Subscribers connect to /sub, senders to
// /send; every frame a sender sends goes verbatim to every subscriber. Optional heartbeat:
// a small frame to each subscriber every heartbeatSeconds (a timer per connection, as ours).
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { childOptions, emit, serve } from "../lib/proc.js";

interface WsServerOptions {
  heartbeatSeconds?: number;
}

const o = childOptions<WsServerOptions>();
const subs = new Set<WebSocket>();
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, clientTracking: false });
// A heartbeat-sized frame (our Heartbeat response is ~14 bytes of protobuf).
const beat = Buffer.alloc(14, 0x1a);

wss.on("connection", (ws, req) => {
  if (req.url === "/send") {
    ws.on("message", (data: Buffer) => {
      for (const s of subs) s.send(data, { binary: true });
    });
    return;
  }
  subs.add(ws);
  const hb = o.heartbeatSeconds ? setInterval(() => ws.send(beat, { binary: true }), o.heartbeatSeconds * 1000) : undefined;
  ws.on("close", () => {
    subs.delete(ws);
    clearInterval(hb);
  });
  ws.on("error", () => {});
});

await new Promise<void>((resolve) => wss.once("listening", resolve));
const port = (wss.address() as AddressInfo).port;

serve(
  {
    stats: () => ({ streams: subs.size, memory: process.memoryUsage() }),
    gc: async () => {
      const gc = (globalThis as { gc?: () => void }).gc;
      for (let i = 0; i < 3 && gc; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 50));
      }
      return { streams: subs.size, memory: process.memoryUsage(), gc: !!gc };
    },
  },
  () => {
    for (const s of subs) s.terminate();
    wss.close();
  },
);

emit("ready", { port });
