// Open streams: idle EventService.Subscribe streams on a real dialtone-server (PostgreSQL):
// first `first` (10k) with a socket each (Connect over HTTP/1.1, as the dialtone CLI holds its
// stream; --set http=2 for h2c), then more, multiplexed 100 per h2c connection, up to `upTo`
// (50k) or what the box holds: a process here may hold at most 20,000 file descriptors (hard
// limit, no CAP_SYS_RESOURCE), so one socket per stream stops near 19k, for ws too.
// Subscriber processes bind distinct 127.x source addresses (~28k ephemeral ports each).
// Figures: server RSS per stream (after full GCs), JS heap per stream, opening rate, and the
// CPU cost of heartbeats, beside idle raw ws connections with the same heartbeat timer.
import { execFileSync } from "node:child_process";
import path from "node:path";
import type { SubscriberCounters } from "../clients/subscribers.js";
import { diffHeap, summarizeHeap } from "../heap.js";
import { migrate, startDialtone, type DialtoneServer } from "../lib/dialtone.js";
import { num, type BenchOptions } from "../lib/options.js";
import { benchPostgres, type BenchPostgres } from "../lib/pg.js";
import { BENCH_DIR, type Child, cpuSeconds, sleep, startChild } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";
import { seed } from "../lib/seed.js";

type Kind = "dialtone" | "ws";
const MB = 2 ** 20;

interface Server {
  kind: Kind;
  pid: number;
  port: number;
  tokens: string[];
  /** After full GCs: open streams, RSS, JS heap in use. */
  mem(): Promise<{ streams: number; rss: number; heapUsed: number }>;
  stop(): Promise<void>;
  dialtone?: DialtoneServer;
  pg?: BenchPostgres;
}

async function startServer(kind: Kind, accounts: number, heartbeatSeconds: number): Promise<Server> {
  if (kind === "ws") {
    const { child, ready } = await startChild("servers/ws.ts", {
      label: "ws-server",
      nodeFlags: ["--expose-gc"],
      opts: { heartbeatSeconds },
    });
    return {
      kind,
      pid: child.pid,
      port: (ready as unknown as { port: number }).port,
      tokens: [],
      mem: async () => {
        const r = await child.call<{ streams: number; memory: NodeJS.MemoryUsage }>("gc");
        return { streams: r.streams, rss: r.memory.rss, heapUsed: r.memory.heapUsed };
      },
      stop: () => child.stop(),
    };
  }
  const pg = await benchPostgres();
  const db = { kind: "postgres" as const, url: pg.url };
  await migrate(db);
  const { tokens } = await seed(db, { accounts });
  const d = await startDialtone(db, { label: "dialtone-server", heartbeatSeconds, inspect: true });
  return {
    kind,
    pid: d.pid,
    port: d.port,
    tokens,
    mem: async () => ({ streams: await d.streams(), ...(await d.gc()) }),
    stop: async () => {
      await d.stop();
      await pg.stop();
    },
    dialtone: d,
    pg,
  };
}

/** Subscriber processes, each with its own source address. */
function startSubs(
  s: Server,
  procs: number,
  streamsPerConn: number,
  label: string,
  addrBase: number,
  http: "1.1" | "2" = "2",
): Promise<Child[]> {
  return Promise.all(
    Array.from({ length: procs }, (_, p) =>
      startChild("clients/subscribers.ts", {
        label: `${s.kind}-${label}-${p}`,
        opts: {
          kind: s.kind,
          port: s.port,
          tokens: s.tokens,
          http,
          streamsPerConn,
          localAddresses: [`127.0.${addrBase}.${p + 1}`],
          openConcurrency: 100,
        },
      }).then((r) => r.child),
    ),
  );
}

async function counters(subs: Child[]) {
  const c = await Promise.all(subs.map((x) => x.call<SubscriberCounters>("counters")));
  return {
    open: c.reduce((a, x) => a + x.open, 0),
    heartbeats: c.reduce((a, x) => a + x.heartbeats, 0),
    errors: Object.assign({}, ...c.map((x) => x.errors)) as Record<string, number>,
  };
}

/** Opens `add` more streams spread over `subs`, which hold `had` already. */
async function openMore(subs: Child[], had: number, add: number) {
  const t = performance.now();
  const total = had + add;
  const per = Math.ceil(total / subs.length);
  const res = await Promise.all(
    subs.map((c, p) => c.call<{ open: number; failed: number }>("open", { total: Math.max(0, Math.min(per, total - p * per)) })),
  );
  return { openS: (performance.now() - t) / 1000, failed: res.reduce((a, r) => a + r.failed, 0) };
}

interface Step {
  streams: number;
  mode: string;
  openS: number;
  streamsPerS: number;
  failed: number;
  rssMB: number;
  rssPerStreamKB: number;
  marginalKB?: number;
  heapPerStreamKB: number;
}

/** Server CPU over an idle window, and the heartbeats the clients got in it. */
async function idleCpu(s: Server, subs: Child[], seconds: number) {
  const h0 = (await counters(subs)).heartbeats;
  const c0 = cpuSeconds(s.pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = cpuSeconds(s.pid) - c0;
  const wall = (performance.now() - t0) / 1000;
  const beats = (await counters(subs)).heartbeats - h0;
  return { wallS: wall, cpuS: cpu, cpuPct: (100 * cpu) / wall, heartbeats: beats, usPerHeartbeat: beats ? (cpu * 1e6) / beats : NaN };
}

async function memoryRun(
  kind: Kind,
  x: { first: number; upTo: number; step: number; accounts: number; budgetS: number; idleS: number; snapshot: boolean; http: "1.1" | "2" },
) {
  const s = await startServer(kind, x.accounts, 15);
  const subs: Child[] = [];
  const steps: Step[] = [];
  let limit: string | undefined;
  let heap: ReturnType<typeof diffHeap> | undefined;
  try {
    const snap = (n: string) => path.join(BENCH_DIR, "results", `streams-${n}.heapsnapshot`);
    // A snapshot grows the process: take it before the idle measurement, not between the two.
    if (x.snapshot && s.dialtone) await s.dialtone.heapSnapshot(snap("before"));
    const base = await s.mem();
    const record = async (mode: string, openS: number, failed: number) => {
      const m = await s.mem();
      const prev = steps.at(-1);
      const st: Step = {
        streams: m.streams,
        mode,
        openS,
        streamsPerS: (m.streams - (prev?.streams ?? 0)) / openS,
        failed,
        rssMB: m.rss / MB,
        rssPerStreamKB: (m.rss - base.rss) / m.streams / 1024,
        ...(prev ? { marginalKB: ((m.rss / MB - prev.rssMB) * 1024) / (m.streams - prev.streams) } : {}),
        heapPerStreamKB: (m.heapUsed - base.heapUsed) / m.streams / 1024,
      };
      steps.push(st);
      log(
        `streams: ${kind}: ${st.streams} open (${mode}; ${st.streamsPerS.toFixed(0)}/s, ${failed} failed): RSS ${st.rssMB.toFixed(0)} MB, ${st.rssPerStreamKB.toFixed(1)} KB/stream, heap ${st.heapPerStreamKB.toFixed(1)} KB/stream${st.marginalKB !== undefined ? `, marginal ${st.marginalKB.toFixed(1)} KB` : ""}`,
      );
      return st;
    };

    // A. one connection per stream, as clients hold them
    subs.push(...(await startSubs(s, 4, 1, "conn", 1, x.http)));
    const openedAt = performance.now();
    const a = await openMore(subs, 0, x.first);
    await sleep(1000);
    const first = await record("1 stream/connection", a.openS, a.failed);
    if (x.snapshot && s.dialtone) {
      await s.dialtone.heapSnapshot(snap("after"));
      heap = diffHeap(summarizeHeap(snap("before")), summarizeHeap(snap("after")), first.streams);
      heap.rows = heap.rows.slice(0, 30);
      log(
        `streams: heap growth per stream ${(heap.totalBytesPer / 1024).toFixed(1)} KB: ${heap.rows
          .slice(0, 8)
          .map((r) => `${r.what} ${r.bytesPer.toFixed(0)} B`)
          .join(", ")}`,
      );
    }
    // The first heartbeats fall 15 s after each stream opened: measure once they have begun.
    await sleep(Math.max(0, openedAt + 16_000 - performance.now()));
    const idle15 = await idleCpu(s, subs, x.idleS);
    log(
      `streams: ${kind}: idle, heartbeat 15 s: server CPU ${idle15.cpuPct.toFixed(2)} % over ${idle15.wallS.toFixed(0)} s, ${idle15.heartbeats} heartbeats`,
    );
    if (a.failed || first.streams < x.first)
      limit = `first step: ${a.failed} opens failed ${JSON.stringify((await counters(subs)).errors)}`;

    // B. more: ours multiplexes 100 streams per h2c connection; ws needs a socket each (fd cap).
    const t0 = performance.now();
    const more = kind === "dialtone" ? await startSubs(s, 2, 100, "mux", 2) : subs;
    if (kind === "dialtone") subs.push(...more);
    let held = kind === "dialtone" ? 0 : first.streams;
    for (let target = x.first + x.step; !limit && target <= x.upTo; target += x.step) {
      if ((performance.now() - t0) / 1000 > x.budgetS) {
        limit = `stopped at ${steps.at(-1)!.streams}: the time budget (${x.budgetS} s) ran out`;
        break;
      }
      const r = await openMore(more, held, x.step);
      held += x.step;
      await sleep(500);
      const st = await record(kind === "dialtone" ? "+100 streams/connection" : "1 socket/connection", r.openS, r.failed);
      if (r.failed || st.streams < target) {
        limit = `stopped at ${st.streams}: ${r.failed} opens failed ${JSON.stringify((await counters(subs)).errors)}`;
        break;
      }
    }
    return { base, steps, idle15, ...(limit ? { limit } : {}), ...(heap ? { heapPerStream: heap } : {}) };
  } finally {
    await Promise.all(subs.map((c) => c.stop(20_000)));
    await s.stop();
  }
}

/** Heartbeats every second over n streams: the server CPU per heartbeat. */
async function heartbeatRun(kind: Kind, n: number, accounts: number, seconds: number) {
  const s = await startServer(kind, accounts, 1);
  const subs = await startSubs(s, 2, 1, "hb", 3);
  try {
    await openMore(subs, 0, n);
    await sleep(1500);
    const r = await idleCpu(s, subs, seconds);
    log(
      `streams: ${kind}: heartbeat every 1 s over ${n} streams: ${r.heartbeats} heartbeats, ${r.usPerHeartbeat.toFixed(1)} µs of server CPU each`,
    );
    return r;
  } finally {
    await Promise.all(subs.map((c) => c.stop(20_000)));
    await s.stop();
  }
}

export async function streams(o: BenchOptions): Promise<void> {
  const first = num(o, "first", o.quick ? 2000 : 10_000);
  const upTo = num(o, "upTo", o.quick ? 4000 : 50_000);
  const step = num(o, "step", o.quick ? 2000 : 10_000);
  const accounts = num(o, "accounts", 100);
  const idleS = num(o, "idle", o.quick ? 4 : 6);
  const hbStreams = num(o, "hbStreams", o.quick ? 1000 : 2000);
  const budgetS = num(o, "budget", o.quick ? 30 : 50);
  let fdLimit = NaN;
  try {
    fdLimit = Number(execFileSync("/bin/sh", ["-c", "ulimit -Hn"]).toString().trim());
  } catch {
    /* unknown */
  }
  log(`streams: file descriptors per process: at most ${fdLimit} here (hard limit)`);

  const res: Record<string, unknown> = {};
  for (const kind of ["dialtone", "ws"] as const) {
    const cap = Math.max(first, fdLimit - 1000);
    log(`streams: ${kind}: ${first} idle streams, one connection each, then +${step} up to ${kind === "ws" ? Math.min(upTo, cap) : upTo}`);
    const mem = await memoryRun(kind, {
      first,
      upTo: kind === "ws" ? Math.min(upTo, cap) : upTo,
      step: kind === "ws" ? Math.max(1, Math.min(step, cap - first)) : step,
      accounts,
      budgetS,
      idleS,
      snapshot: o.profile,
      http: o.set.http === "2" ? "2" : "1.1",
    });
    // The idle window after the first step already sees thousands of heartbeats; a separate run
    // with a 1 s heartbeat (--set heartbeatRun=1) isolates them further, at ~25 s per side.
    const hb1 = o.set.heartbeatRun === "1" ? await heartbeatRun(kind, hbStreams, accounts, 3) : undefined;
    res[kind] = { ...mem, ...(hb1 ? { heartbeat1s: hb1 } : {}) };
  }

  type R = Awaited<ReturnType<typeof memoryRun>> & { heartbeat1s?: Awaited<ReturnType<typeof heartbeatRun>> };
  const a = res.dialtone as R;
  const b = res.ws as R;
  const rows: Row[] = [
    {
      metric: `${a.steps[0]!.streams} streams, 1 connection each: RSS/stream`,
      ours: a.steps[0]!.rssPerStreamKB,
      baseline: b.steps[0]!.rssPerStreamKB,
      unit: "KB",
      note: "(RSS − idle RSS) / streams, after GC",
    },
    { metric: `  JS heap per stream`, ours: a.steps[0]!.heapPerStreamKB, baseline: b.steps[0]!.heapPerStreamKB, unit: "KB" },
    { metric: `  opened per second`, ours: a.steps[0]!.streamsPerS, baseline: b.steps[0]!.streamsPerS, unit: "/s" },
  ];
  for (const [i, st] of a.steps.entries()) {
    if (i === 0) continue;
    const w = b.steps[i];
    rows.push({
      metric: `${st.streams} streams (${st.mode}): RSS/stream`,
      ours: st.rssPerStreamKB,
      baseline: w ? w.rssPerStreamKB : "—",
      unit: "KB",
      note: `marginal ${st.marginalKB?.toFixed(1)} KB${w ? ` vs ${w.marginalKB?.toFixed(1)} KB at ${w.streams}` : ""}`,
    });
  }
  const maxA = a.steps.at(-1)!;
  const maxB = b.steps.at(-1)!;
  rows.push({
    metric: "most streams held",
    ours: maxA.streams,
    baseline: maxB.streams,
    unit: "",
    note: `ours: ${a.limit ?? "all steps done"}; ws: ${b.limit ?? `fd limit ${fdLimit}`}`,
  });
  rows.push({ metric: "server RSS at most streams", ours: maxA.rssMB, baseline: maxB.rssMB, unit: "MB" });
  rows.push({
    metric: `idle server CPU, heartbeat 15 s, ${a.steps[0]!.streams} streams`,
    ours: a.idle15.cpuPct,
    baseline: b.idle15.cpuPct,
    unit: "% of a core",
  });
  const hbA = a.heartbeat1s ?? a.idle15;
  const hbB = b.heartbeat1s ?? b.idle15;
  const hbNote = a.heartbeat1s
    ? `heartbeat every 1 s over ${hbStreams} streams`
    : `idle window: ${hbA.heartbeats} / ${hbB.heartbeats} heartbeats, all idle CPU counted`;
  rows.push({ metric: "server CPU per heartbeat", ours: hbA.usPerHeartbeat, baseline: hbB.usPerHeartbeat, unit: "µs", note: hbNote });
  rows.push({
    metric: "heartbeats of 10k streams every 15 s",
    ours: (hbA.usPerHeartbeat * 10_000) / 15 / 1e4,
    baseline: (hbB.usPerHeartbeat * 10_000) / 15 / 1e4,
    unit: "% of a core",
    note: "from the µs per heartbeat",
  });
  printTable(
    "open streams: idle EventService.Subscribe (Connect over HTTP/1.1, then h2c multiplexed; PostgreSQL) vs idle raw ws connections",
    rows,
    "raw ws",
  );
  const file = await writeResult("streams", {
    config: {
      first,
      upTo,
      step,
      accounts,
      idleS,
      hbStreams,
      budgetS,
      fdLimit,
      transport: "Connect protocol, binary: HTTP/1.1 (a socket per stream), then h2c (100 streams per connection)",
    },
    results: res,
    table: rows,
  });
  log(`streams: wrote ${file}`);
}
