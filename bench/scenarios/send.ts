// Send round trip: MessageService.SendMessage at a fixed offered rate (open loop) on
// PostgreSQL (as the tests run it: fsync off; and durable: fsync + synchronous_commit on) and
// on PGlite, beside the bare SQL of the same transaction run inside the server process.
import { Histogram, msSummary, type HistogramData } from "../lib/hist.js";
import { list, num, type BenchOptions } from "../lib/options.js";
import { benchPostgres, type BenchPostgres } from "../lib/pg.js";
import path from "node:path";
import { BENCH_DIR, cpuSeconds, sleep, startChild, waitIdle } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";
import type { DialtoneReady } from "../servers/dialtone.js";

type Variant = "postgres" | "postgres-durable" | "pglite";

export async function send(o: BenchOptions): Promise<void> {
  const rate = num(o, "rate", 500);
  // A rate the server sustains first (its latency and CPU per Send), then the target rate.
  const rates = [...new Set([...list(o, "rates", [100]), rate])];
  const durationS = num(o, "duration", o.quick ? 3 : 5);
  const tailS = num(o, "tail", 3);
  const probeS = num(o, "probe", 3);
  const warmupS = num(o, "warmup", 1);
  const conns = num(o, "senders", 10);
  const variants = (o.set.variants?.split(",") ?? ["postgres", "postgres-durable", "pglite"]) as Variant[];
  const out: Record<string, unknown> = {};
  const rows: Row[] = [];

  for (const v of variants) {
    let pg: BenchPostgres | undefined;
    if (v !== "pglite") pg = await benchPostgres({ durable: v === "postgres-durable" });
    const startServer = async (users: number) => {
      const { child, ready } = await startChild("servers/dialtone.ts", {
        label: `dialtone-server-${v}`,
        opts: { db: v === "pglite" ? "pglite" : "postgres", dbUrl: pg?.url, users },
      });
      return { server: child, r: ready as unknown as DialtoneReady };
    };
    try {
      // 1. the API, open loop
      const { server, r } = await startServer(conns + 1);
      const { child: sender } = await startChild("clients/sender.ts", {
        label: `sender-${v}`,
        opts: { kind: "dialtone", port: r.port, tokens: r.tokens.slice(1), channelId: r.channelId, connections: conns },
      });
      type RunRes = { sent: number; sentS: number; answered: number; unanswered: number; rtt: HistogramData; rttSched: HistogramData; lag: HistogramData; errors: Record<string, number> };
      const api: Array<{ rate: number; res: RunRes; cpu: number; dbCpu?: number; wall: number }> = [];
      try {
        await sender.call("run", { rate: Math.min(rate, 100), durationS: warmupS, phase: 100, tailS });
        for (const [k, rt] of rates.entries()) {
          await waitIdle(server.pid, 10);
          const prof = o.profile && v === variants[0] && rt === rate;
          if (prof) await server.call("profile-start");
          const c0 = cpuSeconds(server.pid);
          const d0 = pg?.cpu();
          const t0 = performance.now();
          const res = await sender.call<RunRes>("run", { rate: rt, durationS, phase: k + 1, tailS });
          const wall = (performance.now() - t0) / 1000;
          api.push({ rate: rt, res, cpu: cpuSeconds(server.pid) - c0, wall, ...(pg ? { dbCpu: pg.cpu() - d0! } : {}) });
          if (prof) await server.call("profile-stop", { file: path.join(BENCH_DIR, "results", "send-server.cpuprofile") });
        }
      } finally {
        // Killing the server drops its backlog (at most a pool's worth of transactions lingers in PostgreSQL).
        await sender.stop();
        await server.stop();
      }
      // 2. the same transaction as bare SQL, in a fresh server process on the same database
      const probe = await startServer(1);
      type Probe = { hist: HistogramData; elapsedS: number; sent: number; unanswered: number };
      let one: Probe, floor: Probe;
      try {
        await sleep(500);
        one = await probe.server.call<Probe>("probe-send", { rate, durationS: probeS, shape: "one-statement", tailS });
        await waitIdle(probe.server.pid, 10);
        floor = await probe.server.call<Probe>("probe-send", { rate, durationS: probeS, shape: "server", tailS });
      } finally {
        await probe.server.stop();
      }
      const sum = (h: HistogramData) => msSummary(Histogram.from([h]).summary());
      const sql = sum(floor.hist);
      const sql1 = sum(one.hist);
      const perRate = api.map(({ rate: rt, res, cpu, dbCpu, wall }) => {
        const rtt = sum(res.rtt);
        return {
          rate: rt,
          sent: res.sent,
          answered: rtt.count,
          unansweredAfterTail: res.unanswered,
          errors: res.errors,
          answeredPerS: rtt.count / (res.sentS + tailS),
          rttMs: rtt,
          rttFromScheduleMs: sum(res.rttSched),
          senderLagMs: sum(res.lag),
          serverCpuPct: (100 * cpu) / wall,
          serverCpuMsPerSend: (1000 * cpu) / Math.max(1, rtt.count),
          ...(dbCpu !== undefined ? { dbCpuPct: (100 * dbCpu) / wall } : {}),
        };
      });
      out[v] = { rates: perRate, bareSql: { rate, ms: sql, unanswered: floor.unanswered, sent: floor.sent }, bareSqlOneStatement: { rate, ms: sql1, unanswered: one.unanswered, sent: one.sent } };
      for (const r of perRate) {
        const at = `${v} @${r.rate}/s`;
        const base = r.rate === rate ? sql : undefined;
        const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
        log(`send: ${at}: p50 ${r.rttMs.p50} ms, p99 ${r.rttMs.p99} ms, ${r.unansweredAfterTail} unanswered, server CPU ${r.serverCpuPct.toFixed(0)} %`);
        rows.push(
          { metric: `${at}: Send p50`, ours: r.rttMs.p50, ...(base ? { baseline: base.p50 } : {}), unit: "ms" },
          { metric: `${at}: Send p99`, ours: r.rttMs.p99, ...(base ? { baseline: base.p99 } : {}), unit: "ms" },
          { metric: `${at}: Send max`, ours: r.rttMs.max, ...(base ? { baseline: base.max } : {}), unit: "ms" },
          { metric: `${at}: answered within run + ${tailS} s`, ours: r.answered, ...(base ? { baseline: floor.sent - floor.unanswered } : {}), unit: "", note: `of ${r.sent}${base ? ` / ${floor.sent}` : ""} sent; ${errs} errors` },
          { metric: `${at}: server CPU`, ours: r.serverCpuPct, unit: "% of a core", note: `${r.serverCpuMsPerSend.toFixed(2)} ms per answered Send` },
        );
        if (r.dbCpuPct !== undefined) rows.push({ metric: `${at}: PostgreSQL CPU`, ours: r.dbCpuPct, unit: "% of a core" });
      }
      rows.push({
        metric: `${v} @${rate}/s: bare SQL as one statement p50 / p99`,
        ours: `${sql1.p50} / ${sql1.p99}`,
        unit: "ms",
        note: `the fix: event_head locked for one statement; ${one.sent - one.unanswered} of ${one.sent} answered`,
      });
      log(`send: ${v}: bare SQL @${rate}/s p99 ${sql.p99} ms; as one statement p99 ${sql1.p99} ms`);
    } finally {
      await pg?.stop();
    }
  }
  printTable(`Send round trip, open loop at ${rates.join(" and ")} msg/s from ${conns} h2c connections (300-byte body)`, rows, "bare SQL");
  const file = await writeResult("send", { config: { rate, rates, durationS, warmupS, tailS, probeS, senderConnections: conns, variants, bodyBytes: 300 }, results: out, table: rows });
  log(`send: wrote ${file}`);
}
