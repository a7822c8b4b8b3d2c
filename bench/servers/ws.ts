// The baseline: a minimal raw `ws` server, the simplest competitor doing the same work.
//  /sub    subscribers: every frame a /send client sends goes verbatim to every subscriber;
//          optional heartbeat: a small frame to each subscriber every heartbeatSeconds
//          (a timer per connection, as ours);
//  /send   broadcast senders;
//  /store  (with a database) each frame is a SendMessageRequest: one SQL statement takes
//          the next seq and writes the message row and its event row (the least durable
//          work a Send needs), then the reply carries the stored id and seq. No auth, no
//          validation, no idempotency check.
//  /storecast  the same, then the stored message goes to every /sub subscriber (one encoding
//          of the SubscribeResponse for all) before the reply: a persisting broadcaster.
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { WebSocketServer, type WebSocket } from "ws";
import { EventSchema } from "../../gen/dialtone/v1/event_pb.js";
import { SubscribeResponseSchema } from "../../gen/dialtone/v1/event_service_pb.js";
import { SendMessageRequestSchema, SendMessageResponseSchema } from "../../gen/dialtone/v1/message_service_pb.js";
import type { DbTarget } from "../lib/dialtone.js";
import { childOptions, emit, serve } from "../lib/proc.js";

export interface WsServerOptions {
  heartbeatSeconds?: number;
  db?: DbTarget;
  /** The account /store writes as. */
  userId?: string;
  deviceId?: string;
}

const o = childOptions<WsServerOptions>();
const subs = new Set<WebSocket>();
// A heartbeat-sized frame (our Heartbeat response is ~14 bytes of protobuf).
const beat = Buffer.alloc(14, 0x1a);

const STORE = `WITH h AS (UPDATE event_head SET seq = seq + 1 WHERE id = 1 RETURNING seq),
  m AS (INSERT INTO messages (id, channel_id, sender_user_id, sender_device_id, encrypted_body, encrypted_sender_name, key_epoch, seq, created_at)
        SELECT $1, $2, $3, $4, $5, $6, $7, h.seq, now() FROM h RETURNING seq, created_at)
  INSERT INTO events (seq, type, payload, created_at) SELECT m.seq, 'messageCreated', $8, m.created_at FROM m RETURNING seq`;

let store: ((params: unknown[]) => Promise<bigint>) | undefined;
let closeDb = async () => {};
if (o.db?.kind === "postgres") {
  const sql = postgres(o.db.url, { max: 10, onnotice: () => {}, types: { bigint: postgres.BigInt } });
  store = async (p) => ((await sql.unsafe(STORE, p as never[]))[0] as unknown as { seq: bigint }).seq;
  closeDb = () => sql.end({ timeout: 1 });
} else if (o.db?.kind === "pglite") {
  const pg = await PGlite.create({ dataDir: `${o.db.dataDir}/pgdata` });
  store = async (p) => BigInt((await pg.query<{ seq: string | number }>(STORE, p)).rows[0]!.seq);
  closeDb = () => pg.close();
}

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, clientTracking: false });
const listening = new Promise<void>((resolve) => wss.once("listening", resolve));
wss.on("connection", (ws, req) => {
  ws.on("error", () => {});
  if (req.url === "/send") {
    ws.on("message", (data: Buffer) => {
      for (const s of subs) s.send(data, { binary: true });
    });
    return;
  }
  if ((req.url === "/store" || req.url === "/storecast") && store) {
    const save = store;
    const cast = req.url === "/storecast";
    ws.on("message", (data: Buffer) => {
      const m = fromBinary(SendMessageRequestSchema, data);
      const at = timestampFromDate(new Date());
      const message = {
        messageId: m.messageId,
        channelId: m.channelId,
        senderUserId: o.userId!,
        senderDeviceId: o.deviceId!,
        encryptedBody: m.encryptedBody,
        encryptedSenderName: m.encryptedSenderName,
        keyEpoch: m.keyEpoch,
        createdAt: at,
      };
      const payload = toBinary(
        EventSchema,
        create(EventSchema, { createdAt: at, payload: { case: "messageCreated", value: { message } } }),
      );
      save([m.messageId, m.channelId, o.userId, o.deviceId, m.encryptedBody, m.encryptedSenderName, m.keyEpoch, payload]).then(
        (seq) => {
          if (cast) {
            const frame = toBinary(
              SubscribeResponseSchema,
              create(SubscribeResponseSchema, {
                item: {
                  case: "event",
                  value: { seq, createdAt: at, payload: { case: "messageCreated", value: { message: { ...message, seq } } } },
                },
              }),
            );
            for (const s of subs) s.send(frame, { binary: true });
          }
          ws.send(toBinary(SendMessageResponseSchema, create(SendMessageResponseSchema, { message: { ...message, seq } })));
        },
        () => ws.close(1011),
      );
    });
    return;
  }
  subs.add(ws);
  const hb = o.heartbeatSeconds ? setInterval(() => ws.send(beat, { binary: true }), o.heartbeatSeconds * 1000) : undefined;
  ws.on("close", () => {
    subs.delete(ws);
    clearInterval(hb);
  });
});

await listening;
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
  async () => {
    for (const s of subs) s.terminate();
    wss.close();
    await closeDb();
  },
);

emit("ready", { port });
