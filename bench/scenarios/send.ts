// Send round trip: MessageService.SendMessage at a fixed offered rate (open loop: message i
// is due at i / rate whatever happened to the others) from 10 clients (Connect over HTTP/1.1
// keep-alive, as the dialtone CLI; --set http=2 for h2c), on
// PostgreSQL (the test cluster's settings: fsync off; and PostgreSQL's defaults: fsync and
// synchronous_commit on) and on PGlite (its files, as the embedded server runs it).
// Baseline, same run, same database kind: a raw ws server whose /store runs one statement
// per message (take the seq, write the message row and its event row) and answers; the
// least work a durable Send needs, without auth, validation or idempotency.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { migrate, startDialtone, type DbTarget } from "../lib/dialtone.js";
import { Histogram, msSummary, type HistogramData } from "../lib/hist.js";
import { list, num, type BenchOptions } from "../lib/options.js";
import { benchPostgres, type BenchPostgres } from "../lib/pg.js";
import { BENCH_DIR, cpuSeconds, startChild, waitIdle, type Child } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";
import { seed } from "../lib/seed.js";

type Variant = "postgres" | "postgres-durable" | "pglite";
type RunRes = {
  sent: number;
  sentS: number;
  answered: number;
  unanswered: number;
  rtt: HistogramData;
  rttSched: HistogramData;
  lag: HistogramData;
  errors: Record<string, number>;
};

const sum = (h: HistogramData) => msSummary(Histogram.from([h]).summary());

interface Target {
  db: DbTarget;
  pg?: BenchPostgres;
  dir?: string;
  /** Server CPU seconds so far (the process under test, plus PostgreSQL when there is one). */
  dbCpu(): number;
  stop(): Promise<void>;
}

async function target(v: Variant): Promise<Target> {
  if (v === "pglite") {
    const dir = await mkdtemp(path.join(os.tmpdir(), "dialtone-bench-"));
    return { db: { kind: "pglite", dataDir: dir }, dir, dbCpu: () => 0, stop: () => rm(dir, { recursive: true, force: true }) };
  }
  const pg = await benchPostgres({ durable: v === "postgres-durable" });
  return { db: { kind: "postgres", url: pg.url }, pg, dbCpu: () => pg.cpu(), stop: () => pg.stop() };
}

/** Warm-up, then each rate in turn; CPU of the server process and of the database. */
async function drive(
  sender: Child,
  serverPid: number,
  t: Target,
  o: { rates: number[]; durationS: number; warmupS: number; tailS: number },
) {
  // Warm-up: a few hundred calls, so the JIT has compiled the hot path (it keeps compiling for
  // the first thousand or so, and those compiles count as server CPU).
  await sender.call("run", { rate: 200, durationS: o.warmupS, phase: 100, tailS: o.tailS });
  const out: Array<{ rate: number; res: RunRes; cpu: number; dbCpu: number; wall: number }> = [];
  for (const [k, rate] of o.rates.entries()) {
    await waitIdle(serverPid, 10);
    const c0 = cpuSeconds(serverPid);
    const d0 = t.dbCpu();
    const t0 = performance.now();
    const res = await sender.call<RunRes>("run", { rate, durationS: o.durationS, phase: k + 1, tailS: o.tailS });
    const wall = (performance.now() - t0) / 1000;
    out.push({ rate, res, cpu: cpuSeconds(serverPid) - c0, dbCpu: t.dbCpu() - d0, wall });
  }
  return out;
}

export async function send(o: BenchOptions): Promise<void> {
  const rate = num(o, "rate", 500);
  // Rates the server sustains (100/s: its latency unloaded; 200/s: issue 14's target), then
  // issue 7's rate; PostgreSQL with its default settings at that rate only (time budget).
  const rates = [...new Set([...list(o, "rates", [100, 200]), rate])];
  const ratesOf = (v: Variant) => (v === "postgres-durable" && !o.set.rates ? [rate] : rates);
  const durationS = num(o, "duration", o.quick ? 3 : 4);
  const tailS = num(o, "tail", 2);
  const warmupS = num(o, "warmup", o.quick ? 1 : 2);
  const conns = num(o, "senders", 10);
  const variants = (o.set.variants?.split(",") ?? ["postgres", "postgres-durable", "pglite"]) as Variant[];
  const drv = (v: Variant) => ({ rates: ratesOf(v), durationS, warmupS, tailS });
  const out: Record<string, unknown> = {};
  const rows: Row[] = [];

  for (const v of variants) {
    // ours
    let t = await target(v);
    let ours: Awaited<ReturnType<typeof drive>>;
    try {
      await migrate(t.db);
      const fx = await seed(t.db, { accounts: conns });
      const server = await startDialtone(t.db, { label: `dialtone-server-${v}`, inspect: o.profile && v === variants[0] });
      const { child: sender } = await startChild("clients/sender.ts", {
        label: `sender-${v}`,
        opts: {
          kind: "dialtone",
          port: server.port,
          tokens: fx.tokens,
          channelId: fx.channelId,
          connections: conns,
          http: o.set.http === "2" ? "2" : "1.1",
        },
      });
      try {
        if (o.profile && v === variants[0]) await server.profileStart();
        ours = await drive(sender, server.pid, t, drv(v));
        if (o.profile && v === variants[0]) await server.profileStop(path.join(BENCH_DIR, "results", "send-server.cpuprofile"));
      } finally {
        await sender.stop();
        await server.stop();
      }
    } finally {
      await t.stop();
    }
    // the baseline, on a fresh database of the same kind
    t = await target(v);
    let base: Awaited<ReturnType<typeof drive>>;
    try {
      await migrate(t.db);
      const fx = await seed(t.db, { accounts: 1 });
      const { child: ws, ready } = await startChild("servers/ws.ts", {
        label: `ws-store-${v}`,
        opts: { db: t.db, userId: fx.userIds[0], deviceId: fx.deviceIds[0] },
      });
      const { child: sender } = await startChild("clients/sender.ts", {
        label: `ws-sender-${v}`,
        opts: { kind: "ws-store", port: (ready as unknown as { port: number }).port, channelId: fx.channelId, connections: conns },
      });
      try {
        base = await drive(sender, ws.pid, t, drv(v));
      } finally {
        await sender.stop();
        await ws.stop();
      }
    } finally {
      await t.stop();
    }

    const summarize = (r: (typeof ours)[number]) => {
      const rtt = sum(r.res.rtt);
      return {
        rate: r.rate,
        sent: r.res.sent,
        answered: rtt.count,
        unansweredAfterTail: r.res.unanswered,
        errors: r.res.errors,
        rttMs: rtt,
        rttFromScheduleMs: sum(r.res.rttSched),
        senderLagMs: sum(r.res.lag),
        serverCpuPct: (100 * r.cpu) / r.wall,
        serverCpuMsPerSend: (1000 * r.cpu) / Math.max(1, rtt.count),
        dbCpuPct: (100 * r.dbCpu) / r.wall,
      };
    };
    const a = ours.map(summarize);
    const b = base.map(summarize);
    out[v] = { ours: a, baseline: b };
    for (const [i, x] of a.entries()) {
      const y = b[i]!;
      const at = `${v} @${x.rate}/s`;
      const errs = Object.values(x.errors).reduce((p, q) => p + q, 0);
      log(
        `send: ${at}: p50 ${x.rttMs.p50} ms, p99 ${x.rttMs.p99} ms (baseline ${y.rttMs.p50} / ${y.rttMs.p99} ms), ${x.unansweredAfterTail} unanswered, server CPU ${x.serverCpuPct.toFixed(0)} %`,
      );
      rows.push(
        { metric: `${at}: Send p50`, ours: x.rttMs.p50, baseline: y.rttMs.p50, unit: "ms" },
        { metric: `${at}: Send p99`, ours: x.rttMs.p99, baseline: y.rttMs.p99, unit: "ms" },
        { metric: `${at}: Send max`, ours: x.rttMs.max, baseline: y.rttMs.max, unit: "ms" },
        {
          metric: `${at}: answered in time`,
          ours: x.answered,
          baseline: y.answered,
          unit: "",
          note: `of ${x.sent} sent, within the run + ${tailS} s; ${errs} errors`,
        },
        {
          metric: `${at}: server CPU per Send`,
          ours: x.serverCpuMsPerSend,
          baseline: y.serverCpuMsPerSend,
          unit: "ms",
          note: `${x.serverCpuPct.toFixed(0)} % vs ${y.serverCpuPct.toFixed(0)} % of a core`,
        },
      );
      if (v !== "pglite") rows.push({ metric: `${at}: PostgreSQL CPU`, ours: x.dbCpuPct, baseline: y.dbCpuPct, unit: "% of a core" });
    }
  }
  printTable(
    `Send round trip, open loop at ${rates.join(" and ")} msg/s from ${conns} clients (Connect, ${o.set.http === "2" ? "h2c" : "HTTP/1.1"}; 300-byte body)`,
    rows,
    "ws + 1 SQL stmt",
  );
  const file = await writeResult("send", {
    config: {
      rate,
      rates,
      durationS,
      warmupS,
      tailS,
      senderConnections: conns,
      variants,
      bodyBytes: 300,
      baseline: "raw ws server, one INSERT … WITH statement per message (seq + message row + event row), same database kind",
    },
    results: out,
    table: rows,
  });
  log(`send: wrote ${file}`);
}
