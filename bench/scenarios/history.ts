// History: ListMessages pages of 100 in a channel holding 1M messages (seeded with
// INSERT ... SELECT generate_series; ListMessages reads only the messages table, so no events
// rows are seeded), beside the bare SQL query and the repository call inside the server.
import { Histogram, msSummary, type HistogramData } from "../lib/hist.js";
import { num, type BenchOptions } from "../lib/options.js";
import { benchPostgres, type BenchPostgres } from "../lib/pg.js";
import { startChild } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";
import type { DialtoneReady } from "../servers/dialtone.js";

/** "Index Scan ..." or "Seq Scan ..." from an EXPLAIN. */
function planKind(plan: string[]): string {
  const scan = plan.find((l) => /Scan/.test(l))?.trim().replace(/^->\s*/, "").replace(/\s*\(.*$/, "") ?? "?";
  const sort = plan.some((l) => /Sort Key/.test(l)) ? " + Sort" : "";
  return scan.replace(/ on messages.*| using .*/, "") + sort;
}

export async function history(o: BenchOptions): Promise<void> {
  const messages = num(o, "messages", o.quick ? 100_000 : 1_000_000);
  const limit = num(o, "limit", 100);
  const count = num(o, "count", o.quick ? 300 : 2000);
  const maxS = num(o, "maxS", o.quick ? 4 : 6);
  const dbs = (o.set.dbs?.split(",") ?? ["postgres", "pglite"]) as Array<"postgres" | "pglite">;
  // PGlite inserts ~10k rows/s here: 1M would take ~100 s of the 10-minute budget.
  const pgliteMessages = num(o, "pgliteMessages", o.quick ? 50_000 : 200_000);
  const out: Record<string, unknown> = {};
  const rows: Row[] = [];
  for (const db of dbs) {
    const n = db === "pglite" ? pgliteMessages : messages;
    let pg: BenchPostgres | undefined;
    if (db === "postgres") pg = await benchPostgres();
    log(`history: ${db}: seeding ${n} messages`);
    const { child: server, ready } = await startChild("servers/dialtone.ts", {
      label: `dialtone-server-history-${db}`,
      opts: { db, dbUrl: pg?.url, users: 1, historyMessages: n },
    });
    const r = ready as unknown as DialtoneReady;
    log(`history: ${db}: seeded in ${(r.seedMs.history / 1000).toFixed(1)} s`);
    const { child: reader } = await startChild("clients/history.ts", {
      label: `history-${db}`,
      opts: { port: r.port, token: r.tokens[0], channelId: r.channelId, maxSeq: n },
    });
    try {
      await reader.call("run", { count: Math.min(100, count), limit, mode: "random", maxS: 3 }); // warm
      const newest = await reader.call<{ hist: HistogramData }>("run", { count, limit, mode: "newest", maxS });
      const random = await reader.call<{ hist: HistogramData }>("run", { count, limit, mode: "random", maxS });
      const floor = await server.call<{ raw: HistogramData; matched: HistogramData; repo: HistogramData; plan: string[]; planMatched: string[] }>("probe-history", {
        count,
        limit,
        maxSeq: n,
        maxS,
      });
      const s = (h: HistogramData) => msSummary(Histogram.from([h]).summary());
      const res = {
        messages: n,
        seedS: r.seedMs.history / 1000,
        newestMs: s(newest.hist),
        randomMs: s(random.hist),
        bareSqlMs: s(floor.raw),
        bareSqlIndexOrderMs: s(floor.matched),
        repoMs: s(floor.repo),
        plan: floor.plan,
        planIndexOrder: floor.planMatched,
      };
      out[db] = res;
      log(`history: ${db}: newest p50 ${res.newestMs.p50} p99 ${res.newestMs.p99} ms; random p50 ${res.randomMs.p50} p99 ${res.randomMs.p99} ms; bare SQL p99 ${res.bareSqlMs.p99} ms`);
      const ix = res.bareSqlIndexOrderMs;
      rows.push(
        { metric: `${db}: newest page p50`, ours: res.newestMs.p50, baseline: ix.p50, unit: "ms" },
        { metric: `${db}: newest page p99`, ours: res.newestMs.p99, baseline: ix.p99, unit: "ms" },
        { metric: `${db}: random-depth page p50`, ours: res.randomMs.p50, baseline: ix.p50, unit: "ms" },
        { metric: `${db}: random-depth page p99`, ours: res.randomMs.p99, baseline: ix.p99, unit: "ms" },
        { metric: `${db}: random-depth page max`, ours: res.randomMs.max, baseline: ix.max, unit: "ms" },
        { metric: `${db}: the server's SQL alone p50`, ours: res.bareSqlMs.p50, baseline: ix.p50, unit: "ms", note: "ORDER BY seq DESC (NULLS FIRST)" },
        { metric: `${db}: the server's SQL alone p99`, ours: res.bareSqlMs.p99, baseline: ix.p99, unit: "ms" },
        { metric: `${db}: repository call p99 (in server)`, ours: res.repoMs.p99, baseline: res.bareSqlMs.p99, unit: "ms", note: "ratio: drizzle vs the same SQL" },
        { metric: `${db}: plan of the server's query`, ours: planKind(res.plan), baseline: planKind(res.planIndexOrder), unit: "" },
        { metric: `${db}: seeding ${n.toLocaleString("en-US")} messages`, ours: res.seedS, unit: "s" },
      );
    } finally {
      await reader.stop();
      await server.stop();
      await pg?.stop();
    }
  }
  printTable(`history: ListMessages, ${limit} per page, channel of ${messages.toLocaleString("en-US")} messages (PGlite: ${pgliteMessages.toLocaleString("en-US")})`, rows, "SQL in index order");
  const file = await writeResult("history", { config: { messages, pgliteMessages, limit, count, maxSecondsPerMode: maxS, dbs, transport: "h2c, one request at a time" }, results: out, table: rows });
  log(`history: wrote ${file}`);
}
