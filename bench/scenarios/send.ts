// Send round trip: MessageService.SendMessage at a fixed offered rate (open loop) on
// PostgreSQL (as the tests run it: fsync off; and durable: fsync + synchronous_commit on) and
// on PGlite, beside the bare SQL of the same transaction run inside the server process.
import { Histogram, msSummary, type HistogramData } from "../lib/hist.js";
import { list, num, type BenchOptions } from "../lib/options.js";
import { benchPostgres, type BenchPostgres } from "../lib/pg.js";
import { cpuSeconds, sleep, startChild, waitIdle } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";
import type { DialtoneReady } from "../servers/dialtone.js";

type Variant = "postgres" | "postgres-durable" | "pglite";

export async function send(o: BenchOptions): Promise<void> {
  const rate = num(o, "rate", 500);
  const durationS = num(o, "duration", o.quick ? 3 : 8);
  const tailS = num(o, "tail", 5);
  const warmupS = num(o, "warmup", o.quick ? 1 : 2);
  const conns = num(o, "senders", 10);
  const variants = (o.set.variants?.split(",") ?? ["postgres", "postgres-durable", "pglite"]) as Variant[];
  void list;
  const out: Record<string, unknown> = {};
  const rows: Row[] = [];

  for (const v of variants) {
    let pg: BenchPostgres | undefined;
    if (v !== "pglite") pg = await benchPostgres({ durable: v === "postgres-durable" });
    const { child: server, ready } = await startChild("servers/dialtone.ts", {
      label: `dialtone-server-${v}`,
      opts: { db: v === "pglite" ? "pglite" : "postgres", dbUrl: pg?.url, users: conns + 1 },
    });
    const r = ready as unknown as DialtoneReady;
    const { child: sender } = await startChild("clients/sender.ts", {
      label: `sender-${v}`,
      opts: { kind: "dialtone", port: r.port, tokens: r.tokens.slice(1), channelId: r.channelId, connections: conns },
    });
    try {
      await sender.call("run", { rate, durationS: warmupS, phase: 100, tailS });
      await waitIdle(server.pid, 20);
      await sleep(300);
      const c0 = cpuSeconds(server.pid);
      const d0 = pg?.cpu();
      const t0 = performance.now();
      const res = await sender.call<{ sent: number; sentS: number; answered: number; unanswered: number; rtt: HistogramData; rttSched: HistogramData; lag: HistogramData; errors: Record<string, number> }>("run", {
        rate,
        durationS,
        phase: 1,
        tailS,
      });
      const wall = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(server.pid) - c0;
      const dbCpu = pg ? pg.cpu() - d0! : undefined;
      const rtt = msSummary(Histogram.from([res.rtt]).summary());
      const sched = msSummary(Histogram.from([res.rttSched]).summary());
      const lag = msSummary(Histogram.from([res.lag]).summary());
      await waitIdle(server.pid, 20);
      type Probe = { hist: HistogramData; elapsedS: number; sent: number; unanswered: number };
      const probeS = Math.min(4, durationS);
      const one = await server.call<Probe>("probe-send", { rate, durationS: probeS, shape: "one-statement", tailS });
      await waitIdle(server.pid, 20);
      const floor = await server.call<Probe>("probe-send", { rate, durationS: probeS, shape: "server", tailS });
      const sql = msSummary(Histogram.from([floor.hist]).summary());
      const sql1 = msSummary(Histogram.from([one.hist]).summary());
      const ok = rtt.count;
      const errs = Object.values(res.errors).reduce((a, b) => a + b, 0);
      out[v] = {
        sent: res.sent,
        answered: ok,
        unansweredAfterTail: res.unanswered,
        errors: res.errors,
        answeredPerS: ok / res.sentS,
        rttMs: rtt,
        rttFromScheduleMs: sched,
        senderLagMs: lag,
        serverCpuPct: (100 * cpu) / wall,
        ...(dbCpu !== undefined ? { dbCpuPct: (100 * dbCpu) / wall } : {}),
        bareSql: { ms: sql, unanswered: floor.unanswered, sent: floor.sent },
        bareSqlOneStatement: { ms: sql1, unanswered: one.unanswered, sent: one.sent },
      };
      log(`send: ${v} @${rate}/s: p50 ${rtt.p50} ms, p99 ${rtt.p99} ms, ${res.unanswered} unanswered (bare SQL p99 ${sql.p99}, one statement p99 ${sql1.p99}), server CPU ${((100 * cpu) / wall).toFixed(0)} %`);
      rows.push(
        { metric: `${v}: Send p50`, ours: rtt.p50, baseline: sql.p50, unit: "ms" },
        { metric: `${v}: Send p99`, ours: rtt.p99, baseline: sql.p99, unit: "ms" },
        { metric: `${v}: Send max`, ours: rtt.max, baseline: sql.max, unit: "ms" },
        { metric: `${v}: p99 from scheduled time`, ours: sched.p99, unit: "ms", note: "open-loop view, includes sender lag" },
        { metric: `${v}: answered within run + ${tailS} s`, ours: ok, baseline: floor.sent - floor.unanswered, unit: "", note: `of ${res.sent} / ${floor.sent} sent; ${errs} errors` },
        { metric: `${v}: bare SQL as one statement p50 / p99`, ours: `${sql1.p50} / ${sql1.p99}`, unit: "ms", note: "the fix: event_head lock held one round trip" },
        { metric: `${v}: server CPU`, ours: (100 * cpu) / wall, unit: "% of a core" },
      );
      if (dbCpu !== undefined) rows.push({ metric: `${v}: PostgreSQL CPU`, ours: (100 * dbCpu) / wall, unit: "% of a core" });
    } finally {
      await sender.stop();
      await server.stop();
      await pg?.stop();
    }
  }
  printTable(`Send round trip, open loop at ${rate} msg/s from ${conns} h2c connections (300-byte body)`, rows, "bare SQL");
  const file = await writeResult("send", { config: { rate, durationS, warmupS, tailS, senderConnections: conns, variants, bodyBytes: 300 }, results: out, table: rows });
  log(`send: wrote ${file}`);
}
