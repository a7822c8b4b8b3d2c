// History: MessageService.ListMessages pages of 100 in a channel holding 1M messages
// (PostgreSQL, seeded by COPY; ListMessages reads only the messages table, so no events
// rows), newest page and pages at random depths, one request at a time, beside the bare
// SQL of the page from a client process of its own (same database, same indexes).
// PGlite on request (--set historyDbs=postgres,pglite): seeded in the engine, smaller.
import { Histogram, msSummary, type HistogramData } from "../lib/hist.js";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startDialtone, migrate, type DbTarget } from "../lib/dialtone.js";
import { num, type BenchOptions } from "../lib/options.js";
import { benchPostgres, type BenchPostgres } from "../lib/pg.js";
import { seed } from "../lib/seed.js";
import { BENCH_DIR, startChild, type Child } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";

/** "Index Scan Backward" or "Seq Scan + Sort" from an EXPLAIN. */
function planKind(plan: string[]): string {
  const scan =
    plan
      .find((l) => /Scan/.test(l))
      ?.trim()
      .replace(/^->\s*/, "")
      .replace(/\s*\(.*$/, "") ?? "?";
  const sort = plan.some((l) => /Sort Key/.test(l)) ? " + Sort" : "";
  return scan.replace(/ on messages.*| using .*/, "") + sort;
}

type Hist = { hist: HistogramData };

async function measure(c: Child, o: { count: number; limit: number; maxS: number }) {
  await c.call("run", { count: Math.min(100, o.count), limit: o.limit, mode: "random", maxS: 3 }); // warm
  const newest = await c.call<Hist>("run", { ...o, mode: "newest" });
  const random = await c.call<Hist>("run", { ...o, mode: "random" });
  const s = (h: HistogramData) => msSummary(Histogram.from([h]).summary());
  return { newestMs: s(newest.hist), randomMs: s(random.hist) };
}

export async function history(o: BenchOptions): Promise<void> {
  const messages = num(o, "messages", o.quick ? 100_000 : 1_000_000);
  const pgliteMessages = num(o, "pgliteMessages", o.quick ? 50_000 : 200_000);
  const limit = num(o, "limit", 100);
  const count = num(o, "count", o.quick ? 300 : 2000);
  const maxS = num(o, "maxS", o.quick ? 3 : 4);
  const dbs = (o.set.historyDbs?.split(",") ?? ["postgres"]) as Array<"postgres" | "pglite">;
  const out: Record<string, unknown> = {};
  const rows: Row[] = [];
  for (const kind of dbs) {
    const n = kind === "pglite" ? pgliteMessages : messages;
    let pg: BenchPostgres | undefined;
    let dir: string | undefined;
    let db: DbTarget;
    if (kind === "postgres") {
      pg = await benchPostgres();
      db = { kind, url: pg.url };
    } else {
      dir = await mkdtemp(path.join(os.tmpdir(), "dialtone-bench-"));
      db = { kind, dataDir: dir };
    }
    try {
      await migrate(db);
      log(`history: ${kind}: seeding ${n.toLocaleString("en-US")} messages${kind === "postgres" ? " by COPY" : ""}`);
      const fx = await seed(db, { accounts: 1, historyMessages: n });
      log(`history: ${kind}: seeded in ${fx.seedS.history.toFixed(1)} s`);
      const opts = { count, limit, maxS };
      // The baseline first: on PGlite it needs the data dir to itself.
      const { child: sql } = await startChild("clients/sql-history.ts", {
        label: `sql-history-${kind}`,
        opts: { db, channelId: fx.channelId, maxSeq: n },
      });
      let base: Awaited<ReturnType<typeof measure>>, plan: string[];
      try {
        base = await measure(sql, opts);
        plan = await sql.call<string[]>("explain", { limit });
      } finally {
        await sql.stop();
      }
      const server = await startDialtone(db, { label: `dialtone-server-history-${kind}`, inspect: o.profile });
      const { child: reader } = await startChild("clients/history.ts", {
        label: `history-${kind}`,
        opts: { port: server.port, token: fx.tokens[0], channelId: fx.channelId, maxSeq: n },
      });
      let ours: Awaited<ReturnType<typeof measure>>;
      try {
        if (o.profile) await server.profileStart();
        ours = await measure(reader, opts);
        if (o.profile) await server.profileStop(path.join(BENCH_DIR, "results", `history-${kind}-server.cpuprofile`));
      } finally {
        await reader.stop();
        await server.stop();
      }
      out[kind] = { messages: n, seedS: fx.seedS.history, ours, bareSql: base, plan };
      log(
        `history: ${kind}: random page p50 ${ours.randomMs.p50} p99 ${ours.randomMs.p99} ms; bare SQL p50 ${base.randomMs.p50} p99 ${base.randomMs.p99} ms; ${planKind(plan)}`,
      );
      rows.push(
        { metric: `${kind}: newest page p50`, ours: ours.newestMs.p50, baseline: base.newestMs.p50, unit: "ms" },
        { metric: `${kind}: newest page p99`, ours: ours.newestMs.p99, baseline: base.newestMs.p99, unit: "ms" },
        { metric: `${kind}: random-depth page p50`, ours: ours.randomMs.p50, baseline: base.randomMs.p50, unit: "ms" },
        { metric: `${kind}: random-depth page p99`, ours: ours.randomMs.p99, baseline: base.randomMs.p99, unit: "ms" },
        { metric: `${kind}: random-depth page max`, ours: ours.randomMs.max, baseline: base.randomMs.max, unit: "ms" },
        {
          metric: `${kind}: pages measured`,
          ours: ours.randomMs.count + ours.newestMs.count,
          baseline: base.randomMs.count + base.newestMs.count,
          unit: "",
        },
        { metric: `${kind}: plan of the page query`, ours: planKind(plan), unit: "" },
        {
          metric: `${kind}: seeding ${n.toLocaleString("en-US")} messages`,
          ours: fx.seedS.history,
          unit: "s",
          note: kind === "postgres" ? "COPY" : "INSERT … SELECT generate_series",
        },
      );
    } finally {
      await pg?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }
  printTable(
    `history: ListMessages, ${limit} per page, channel of ${messages.toLocaleString("en-US")} messages (closed loop, Connect over HTTP/1.1)`,
    rows,
    "bare SQL",
  );
  const file = await writeResult("history", {
    config: {
      messages,
      pgliteMessages,
      limit,
      count,
      maxSecondsPerMode: maxS,
      dbs,
      transport: "Connect over HTTP/1.1 keep-alive, one request at a time",
    },
    results: out,
    table: rows,
  });
  log(`history: wrote ${file}`);
}
