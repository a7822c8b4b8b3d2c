// The bench server: the real Dialtone server (server/app.ts + server/http/listener.ts) in its
// own process, over PGlite (in memory) or PostgreSQL, with bench fixtures written straight to
// its database (users, devices and sessions in bulk: registering through the API would spend
// ~100 ms of scrypt per account). Driven by the bench over IPC.
import { randomBytes, randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { createApp } from "../../server/app.js";
import { openDatabase } from "../../server/db/client.js";
import { listMessages } from "../../server/db/repos/messages.js";
import { channels, devices, sessions, users } from "../../server/db/schema.js";
import { hashToken, newToken } from "../../server/domain/tokens.js";
import { durable } from "../../server/domain/wire.js";
import { createListener } from "../../server/http/listener.js";
import { createLogger } from "../../server/log.js";
import { Histogram, nowUs } from "../lib/hist.js";
import { childOptions, emit, serve } from "../lib/proc.js";
import { sealedField } from "../lib/payload.js";

export interface DialtoneServerOptions {
  db: "pglite" | "postgres";
  dbUrl?: string;
  heartbeatSeconds?: number;
  /** Accounts to create, each with one device and one session. */
  users: number;
  /** Seed this many messages into the channel (INSERT ... SELECT generate_series). */
  historyMessages?: number;
}

export interface DialtoneReady {
  port: number;
  tokens: string[];
  channelId: string;
  seedMs: { users: number; history: number };
}

const o = childOptions<DialtoneServerOptions>();
const database = o.db === "postgres" ? await openDatabase({ kind: "postgres", url: o.dbUrl! }) : await openDatabase({ kind: "pglite" });
await database.migrate();
const db = database.db;

// ---- fixtures ---------------------------------------------------------------------------
const t0 = performance.now();
const now = new Date();
const tokens: string[] = [];
const userIds: string[] = [];
const deviceIds: string[] = [];
for (let start = 0; start < o.users; start += 1000) {
  const n = Math.min(1000, o.users - start);
  const u = [], d = [], s = [];
  for (let i = 0; i < n; i++) {
    const userId = randomUUID();
    const deviceId = randomUUID();
    const token = newToken();
    tokens.push(token);
    userIds.push(userId);
    deviceIds.push(deviceId);
    u.push({ id: userId, usernameHash: randomBytes(32).toString("hex"), passwordHash: "bench-no-login", isAdmin: start + i === 0, createdAt: now });
    d.push({ id: deviceId, userId, publicKey: randomBytes(32).toString("base64"), createdAt: now, lastSeenAt: now });
    s.push({ tokenHash: hashToken(token), userId, deviceId, createdAt: now, lastUsedAt: now, expiresAt: new Date(now.getTime() + 30 * 86400_000) });
  }
  await db.insert(users).values(u);
  await db.insert(devices).values(d);
  await db.insert(sessions).values(s);
}
const channelId = randomUUID();
await db.insert(channels).values({ id: channelId, encryptedName: sealedField(40), createdByUserId: userIds[0] ?? null, createdAt: now, updatedAt: now });
const usersMs = performance.now() - t0;

// History: one channel holding N messages, seqs 1..N; only the messages table is read by
// ListMessages, so no events rows are needed; event_head moves past N so new sends never collide.
// Ids are ascending (a random prefix + the seq) so the primary-key index fills in order: seeding
// is faster, and history reads never touch that index.
const t1 = performance.now();
if (o.historyMessages) {
  const n = o.historyMessages;
  await db.execute(sql`
    INSERT INTO messages (id, channel_id, sender_user_id, sender_device_id, encrypted_body, encrypted_sender_name, key_epoch, seq, created_at)
    SELECT (${randomUUID().slice(0, 18)} || lpad(to_hex(g), 16, '0'))::uuid, ${channelId}::uuid, ${userIds[0]}::uuid, ${deviceIds[0]}::uuid, ${sealedField(300)}, ${sealedField(49)}, 1, g,
           now() - make_interval(secs => ${n} - g)
    FROM generate_series(1, ${n}::bigint) AS g`);
  await db.execute(sql`UPDATE event_head SET seq = GREATEST(seq, ${n}::bigint) WHERE id = 1`);
  await db.execute(sql`VACUUM ANALYZE messages`);
}
const historyMs = performance.now() - t1;

// ---- the server -------------------------------------------------------------------------
const log = createLogger("warn");
const app = await createApp({
  database,
  secrets: { adminToken: randomBytes(24).toString("hex"), usernamePepper: randomBytes(24).toString("hex") },
  log,
  heartbeatSeconds: o.heartbeatSeconds ?? 15,
  authRatePerIp: 1_000_000,
});
const listener = createListener(app.handler);
await new Promise<void>((resolve) => listener.server.listen(0, "127.0.0.1", resolve));
const port = (listener.server.address() as AddressInfo).port;

let inspector: Session | undefined;
const post = <T>(method: string, params?: object) =>
  new Promise<T>((resolve, reject) => inspector!.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))));

serve(
  {
    stats: () => ({ streams: app.deps.feed.streamCount, memory: process.memoryUsage() }),
    gc: async () => {
      const gc = (globalThis as { gc?: () => void }).gc;
      for (let i = 0; i < 3 && gc; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 50));
      }
      return { streams: app.deps.feed.streamCount, memory: process.memoryUsage(), gc: !!gc };
    },
    "heap-snapshot": async ({ file }: { file: string }) => {
      const { createWriteStream } = await import("node:fs");
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const session = new Session();
      session.connect();
      const out = createWriteStream(file);
      session.on("HeapProfiler.addHeapSnapshotChunk", (m) => out.write((m.params as { chunk: string }).chunk));
      await new Promise<void>((resolve, reject) => session.post("HeapProfiler.takeHeapSnapshot", { reportProgress: false }, (err) => (err ? reject(err) : resolve())));
      session.disconnect();
      await new Promise<void>((resolve) => out.end(resolve));
      return { file };
    },
    "profile-start": async () => {
      inspector = new Session();
      inspector.connect();
      await post("Profiler.enable");
      await post("Profiler.setSamplingInterval", { interval: 500 });
      await post("Profiler.start");
      return {};
    },
    "profile-stop": async ({ file }: { file: string }) => {
      const { profile } = await post<{ profile: unknown }>("Profiler.stop");
      inspector!.disconnect();
      await writeFile(file, JSON.stringify(profile));
      return { file };
    },
    // Database floors, run inside this process with the server's own pool/instance.
    "probe-history": async ({ count, limit, maxSeq, maxS = 20 }: { count: number; limit: number; maxSeq: number; maxS?: number }) => {
      // The query ListMessages runs (drizzle orders by `seq DESC`, i.e. NULLS FIRST), the same
      // with NULLS LAST (the order of messages_channel_seq_idx), and the repository call.
      const raw = new Histogram();
      const matched = new Histogram();
      const repo = new Histogram();
      const end = performance.now() + maxS * 1000;
      const before = () => BigInt(maxSeq > limit ? limit + 1 + Math.floor(Math.random() * (maxSeq - limit)) : 0);
      for (let i = 0; i < count && performance.now() < end; i++) {
        const b = before();
        let t = nowUs();
        await db.execute(sql`SELECT * FROM messages WHERE channel_id = ${channelId} AND seq < ${b} ORDER BY seq DESC LIMIT ${limit + 1}`);
        raw.record(nowUs() - t);
        t = nowUs();
        await db.execute(sql`SELECT * FROM messages WHERE channel_id = ${channelId} AND seq < ${b} ORDER BY seq DESC NULLS LAST LIMIT ${limit + 1}`);
        matched.record(nowUs() - t);
        t = nowUs();
        await listMessages(db, channelId, b, limit);
        repo.record(nowUs() - t);
      }
      const explain = async (q: ReturnType<typeof sql>) => {
        const plan = await db.execute(q);
        const rows = (Array.isArray(plan) ? plan : (plan as { rows: unknown[] }).rows) as Array<Record<string, string>>;
        return rows.map((r) => Object.values(r)[0]!);
      };
      const mid = BigInt(Math.floor(maxSeq / 2));
      const plan = await explain(
        sql`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM messages WHERE channel_id = ${channelId} AND seq < ${mid} ORDER BY seq DESC LIMIT ${limit + 1}`,
      );
      const planMatched = await explain(
        sql`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM messages WHERE channel_id = ${channelId} AND seq < ${mid} ORDER BY seq DESC NULLS LAST LIMIT ${limit + 1}`,
      );
      return { raw: raw.toJSON(), matched: matched.toJSON(), repo: repo.toJSON(), plan, planMatched };
    },
    // The Send transaction as bare SQL (seq, message row, event row), open loop at `rate`:
    //  "server": the statements the server runs (seq first, then the rows, in one transaction);
    //  "one-statement": the same rows in one statement (a CTE), so the event_head row lock is
    //  held for one round trip instead of five.
    "probe-send": async ({ rate, durationS, shape = "server", tailS = 10 }: { rate: number; durationS: number; shape?: "server" | "one-statement"; tailS?: number }) => {
      const h = new Histogram();
      const total = Math.round(rate * durationS);
      const body = sealedField(300);
      const name = sealedField(49);
      // A real MessageCreated payload (the feed decodes any events row it reads to fill a gap).
      const payload = durable({ case: "messageCreated", value: { message: { messageId: randomUUID(), channelId, encryptedBody: body, encryptedSenderName: name, keyEpoch: 1 } } }, new Date())(0n).payload;
      const inflight: Promise<void>[] = [];
      const start = nowUs();
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1e6) / rate;
        const wait = due - nowUs();
        if (wait > 1000) await new Promise((r) => setTimeout(r, wait / 1000));
        const t = nowUs();
        if (shape === "one-statement") {
          inflight.push(
            db
              .execute(
                sql`WITH h AS (UPDATE event_head SET seq = seq + 1 WHERE id = 1 RETURNING seq),
                  m AS (INSERT INTO messages (id, channel_id, sender_user_id, sender_device_id, encrypted_body, encrypted_sender_name, key_epoch, seq, created_at)
                        SELECT ${randomUUID()}, ${channelId}, ${userIds[0]}, ${deviceIds[0]}, ${body}, ${name}, 1, h.seq, now() FROM h RETURNING seq)
                  INSERT INTO events (seq, type, payload, created_at) SELECT m.seq, 'messageCreated', ${payload}, now() FROM m`,
              )
              .then(() => h.record(nowUs() - t)),
          );
          continue;
        }
        inflight.push(
          db
            .transaction(async (tx) => {
              const r = await tx.execute(sql`UPDATE event_head SET seq = seq + 1 WHERE id = 1 RETURNING seq`);
              const seq = ((Array.isArray(r) ? r : (r as { rows: unknown[] }).rows)[0] as { seq: string | bigint }).seq;
              await tx.execute(sql`INSERT INTO messages (id, channel_id, sender_user_id, sender_device_id, encrypted_body, encrypted_sender_name, key_epoch, seq, created_at)
                VALUES (${randomUUID()}, ${channelId}, ${userIds[0]}, ${deviceIds[0]}, ${body}, ${name}, 1, ${seq}, now())`);
              await tx.execute(sql`INSERT INTO events (seq, type, payload, created_at) VALUES (${seq}, 'messageCreated', ${payload}, now())`);
            })
            .then(() => h.record(nowUs() - t)),
        );
      }
      const elapsedS = (nowUs() - start) / 1e6;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(inflight), new Promise((r) => (timer = setTimeout(r, tailS * 1000)))]);
      clearTimeout(timer);
      return { hist: h.toJSON(), elapsedS, sent: total, unanswered: total - h.count };
    },
  },
  async () => {
    // Exit without draining: a saturated run leaves work queued, and closing the pool under it
    // only logs errors. The bench throws the database away anyway.
    app.endStreams();
    await Promise.race([listener.close(500), new Promise((r) => setTimeout(r, 1000))]);
  },
);

emit("ready", { port, tokens, channelId, seedMs: { users: usersMs, history: historyMs } } satisfies DialtoneReady & { type?: never });
