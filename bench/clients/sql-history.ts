// The history baseline: the bare SQL of one page, from a client process of its own, over
// the same loopback TCP (PostgreSQL) or on the same data dir (PGlite, while no server runs),
// one query at a time: the floor under ListMessages. Also EXPLAINs the query.
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import type { DbTarget } from "../lib/dialtone.js";
import { Histogram, nowUs } from "../lib/hist.js";
import { childOptions, emit, serve } from "../lib/proc.js";

interface Options {
  db: DbTarget;
  channelId: string;
  maxSeq: number;
}
const o = childOptions<Options>();

type Query = (text: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;
let query: Query;
let close: () => Promise<void>;
if (o.db.kind === "postgres") {
  const sql = postgres(o.db.url, { max: 1, onnotice: () => {} });
  query = async (text, params) => [...(await sql.unsafe(text, params as never[]))];
  close = () => sql.end({ timeout: 1 });
} else {
  const pg = await PGlite.create({ dataDir: `${o.db.dataDir}/pgdata` });
  query = async (text, params) => (await pg.query<Record<string, unknown>>(text, params)).rows;
  close = () => pg.close();
}

const PAGE = `SELECT * FROM messages WHERE channel_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`;

async function run({ count, limit, mode, maxS = 20 }: { count: number; limit: number; mode: "newest" | "random"; maxS?: number }) {
  const h = new Histogram();
  const end = performance.now() + maxS * 1000;
  for (let i = 0; i < count && performance.now() < end; i++) {
    const before = mode === "newest" ? o.maxSeq + 1 : limit + 1 + Math.floor(Math.random() * (o.maxSeq - limit));
    const t = nowUs();
    const rows = await query(PAGE, [o.channelId, before, limit + 1]);
    h.record(nowUs() - t);
    if (rows.length !== limit + 1) throw new Error(`page of ${rows.length}, wanted ${limit + 1}`);
  }
  return { hist: h.toJSON() };
}

async function explain({ limit }: { limit: number }) {
  const rows = await query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${PAGE}`, [o.channelId, Math.floor(o.maxSeq / 2), limit + 1]);
  return rows.map((r) => String(Object.values(r)[0]));
}

serve({ run, explain }, () => close());
emit("ready");
