// Open streams: 10k, then as many as the box holds up to 50k idle Subscribe streams. Server RSS
// per stream and the CPU cost of heartbeats, beside idle raw ws connections. Plus the connect
// storm: how opening streams of distinct accounts scales (each new account online is announced
// to every open stream).
import { list, num, type BenchOptions } from "../lib/options.js";
import { benchPostgres, type BenchPostgres } from "../lib/pg.js";
import path from "node:path";
import { BENCH_DIR, Child, cpuSeconds, sleep, startChild } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";
import type { SubscriberCounters } from "../clients/subscribers.js";
import { diffHeap, summarizeHeap } from "../heap.js";
import type { DialtoneReady } from "../servers/dialtone.js";

type Kind = "dialtone" | "ws";
const NOFILE = 1_000_000;
const MB = 2 ** 20;

interface Setup {
  server: Child;
  subs: Child[];
  pg?: BenchPostgres;
  port: number;
}

async function setup(kind: Kind, o: BenchOptions, x: { accounts: number; heartbeatSeconds: number; procs: number; streamsPerConn: number; addrs: string[] }): Promise<Setup> {
  let pg: BenchPostgres | undefined;
  let server: Child;
  let port: number;
  let tokens: string[] = [];
  if (kind === "dialtone") {
    if (o.db === "postgres") pg = await benchPostgres();
    const r = await startChild("servers/dialtone.ts", {
      label: "dialtone-server",
      nofile: NOFILE,
      nodeFlags: ["--expose-gc"],
      opts: { db: o.db, dbUrl: pg?.url, users: x.accounts, heartbeatSeconds: x.heartbeatSeconds },
    });
    server = r.child;
    ({ port, tokens } = r.ready as unknown as DialtoneReady);
  } else {
    const r = await startChild("servers/ws.ts", { label: "ws-server", nofile: NOFILE, nodeFlags: ["--expose-gc"], opts: { heartbeatSeconds: x.heartbeatSeconds } });
    server = r.child;
    port = (r.ready as unknown as { port: number }).port;
  }
  const subs = await Promise.all(
    Array.from({ length: x.procs }, (_, p) =>
      startChild("clients/subscribers.ts", {
        label: `${kind}-idle-${p}`,
        nofile: NOFILE,
        // Each process gets its own source addresses: ~28k ephemeral ports per source address.
        opts: { kind, port, tokens, streamsPerConn: x.streamsPerConn, localAddresses: x.addrs.filter((_, i) => i % x.procs === p), openConcurrency: 100 },
      }).then((r) => r.child),
    ),
  );
  return { server, subs, port, ...(pg ? { pg } : {}) };
}

async function teardown(s: Setup) {
  await Promise.all(s.subs.map((c) => c.stop(20_000)));
  await s.server.stop();
  await s.pg?.stop();
}

async function serverMem(s: Setup) {
  const r = await s.server.call<{ streams: number; memory: NodeJS.MemoryUsage }>("gc");
  return { streams: r.streams, rss: r.memory.rss, heapUsed: r.memory.heapUsed, external: r.memory.external + r.memory.arrayBuffers };
}

/** Opens streams in steps; returns per-step memory. Stops at the first step that fails or runs out of budget. */
async function openSteps(kind: Kind, s: Setup, steps: number[], budgetS: number, profileFile?: string) {
  let base = await serverMem(s);
  let heap: ReturnType<typeof diffHeap> | undefined;
  const snap = (name: string) => path.join(BENCH_DIR, "results", `streams-${name}.heapsnapshot`);
  // Heap snapshots only at small counts: a snapshot is ~2-3× the heap in JSON.
  const heapSnap = !!profileFile && steps[0]! <= 5000;
  if (heapSnap) {
    await s.server.call("heap-snapshot", { file: snap("before") });
    base = await serverMem(s); // RSS figures of a profiled run are approximate: the snapshot grew the process
  }
  const out: Array<{ target: number; open: number; failed: number; openS: number; rss: number; heapUsed: number; external: number; rssPerStreamKB: number; heapPerStreamKB: number; clientRssMB: number }> = [];
  const t0 = performance.now();
  let limit: string | undefined;
  for (const target of steps) {
    const prof = profileFile && target === steps[0];
    if (prof) await s.server.call("profile-start");
    const t = performance.now();
    const per = Math.ceil(target / s.subs.length);
    const res = await Promise.all(s.subs.map((c, p) => c.call<{ open: number; failed: number }>("open", { total: Math.min(per, target - p * per) })));
    const openS = (performance.now() - t) / 1000;
    if (prof) await s.server.call("profile-stop", { file: profileFile });
    const open = res.reduce((a, r) => a + r.open, 0);
    const failed = res.reduce((a, r) => a + r.failed, 0);
    await sleep(1000);
    const m = await serverMem(s);
    const clientRss = (await Promise.all(s.subs.map((c) => c.call<NodeJS.MemoryUsage>("memory")))).reduce((a, mu) => a + mu.rss, 0);
    const n = m.streams;
    out.push({
      target,
      open: n,
      failed,
      openS,
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      rssPerStreamKB: (m.rss - base.rss) / n / 1024,
      heapPerStreamKB: (m.heapUsed - base.heapUsed) / n / 1024,
      clientRssMB: clientRss / MB,
    });
    if (prof && heapSnap) {
      await s.server.call("heap-snapshot", { file: snap("after") });
      heap = diffHeap(summarizeHeap(snap("before")), summarizeHeap(snap("after")), n);
      heap.rows = heap.rows.slice(0, 30);
      log(`streams: ${kind}: heap growth per stream ${(heap.totalBytesPer / 1024).toFixed(1)} KB; top: ${heap.rows.slice(0, 5).map((r) => `${r.what} ${r.bytesPer.toFixed(0)} B`).join(", ")}`);
    }
    log(`streams: ${kind}: ${n} open (+${open - (out.at(-2)?.open ?? 0)} in ${openS.toFixed(1)} s, ${failed} failed), server RSS ${(m.rss / MB).toFixed(0)} MB = ${out.at(-1)!.rssPerStreamKB.toFixed(1)} KB/stream`);
    if (failed > 0 || n < target) {
      const c = await Promise.all(s.subs.map((x) => x.call<SubscriberCounters>("counters")));
      limit = `stopped at ${n}: ${failed} opens failed (${JSON.stringify(Object.assign({}, ...c.map((x) => x.errors)))})`;
      break;
    }
    if ((performance.now() - t0) / 1000 > budgetS && target !== steps.at(-1)) {
      limit = `stopped at ${n}: opening budget of ${budgetS} s used`;
      break;
    }
  }
  return { base, steps: out, ...(limit ? { limit } : {}), ...(heap ? { heapPerStream: heap } : {}) };
}

/** Server CPU over an idle window, and heartbeats the clients got in it. */
async function idleCpu(s: Setup, seconds: number) {
  const heartbeats = async () => (await Promise.all(s.subs.map((c) => c.call<SubscriberCounters>("counters")))).reduce((a, c) => a + c.heartbeats, 0);
  const h0 = await heartbeats();
  const c0 = cpuSeconds(s.server.pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = cpuSeconds(s.server.pid) - c0;
  const wall = (performance.now() - t0) / 1000;
  const beats = (await heartbeats()) - h0;
  return { wallS: wall, cpuS: cpu, cpuPct: (100 * cpu) / wall, heartbeats: beats, usPerHeartbeat: beats ? (cpu * 1e6) / beats : NaN };
}

/** Opening N streams of N distinct accounts: every new account online goes to every open stream. */
async function connectStorm(o: BenchOptions, sizes: number[]) {
  const out: Array<{ accounts: number; openS: number; presenceEvents: number }> = [];
  for (const n of sizes) {
    const s = await setup("dialtone", o, { accounts: n, heartbeatSeconds: 15, procs: 1, streamsPerConn: 1, addrs: [] });
    try {
      const t = performance.now();
      await s.subs[0]!.call("open", { total: n });
      let presence = 0;
      for (let last = -1; ; await sleep(250)) {
        presence = (await s.subs[0]!.call<SubscriberCounters>("counters")).presence;
        if (presence === last) break;
        last = presence;
      }
      const openS = (performance.now() - t) / 1000 - 0.25;
      out.push({ accounts: n, openS, presenceEvents: presence });
      log(`streams: connect storm: ${n} accounts online in ${openS.toFixed(1)} s, ${presence} presence events delivered`);
    } finally {
      await teardown(s);
    }
  }
  return out;
}

export async function streams(o: BenchOptions): Promise<void> {
  const steps = list(o, "steps", o.quick ? [2000, 4000] : [10_000, 20_000, 30_000, 40_000, 50_000]);
  const accounts = num(o, "accounts", 100);
  const procs = num(o, "procs", 4);
  const streamsPerConn = num(o, "streamsPerConn", 1);
  const idleS = num(o, "idle", o.quick ? 4 : 16);
  const hbSteps = num(o, "hbStreams", o.quick ? 2000 : 10_000);
  const budgetS = num(o, "budget", 120);
  const storm = list(o, "storm", o.quick ? [50, 100] : [100, 300]);
  const addrs = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1}`);
  const res: Record<string, unknown> = {};

  for (const kind of ["dialtone", "ws"] as const) {
    // 1. memory by steps and the idle cost at the real heartbeat (15 s)
    log(`streams: ${kind}: opening ${steps.join(", ")} idle streams from ${procs} processes${kind === "dialtone" ? ` (h2c, ${streamsPerConn}/connection, ${o.db}, ${accounts} accounts)` : ""}`);
    let s = await setup(kind, o, { accounts, heartbeatSeconds: 15, procs, streamsPerConn, addrs });
    let mem, idle15;
    try {
      mem = await openSteps(kind, s, steps, budgetS, o.profile && kind === "dialtone" ? path.join(BENCH_DIR, "results", "streams-open.cpuprofile") : undefined);
      idle15 = await idleCpu(s, idleS);
      log(`streams: ${kind}: idle at 15 s heartbeat: server CPU ${idle15.cpuPct.toFixed(2)} % over ${idle15.wallS.toFixed(0)} s, ${idle15.heartbeats} heartbeats`);
    } finally {
      await teardown(s);
    }
    // 2. heartbeat every second, to measure the cost of one heartbeat precisely
    s = await setup(kind, o, { accounts, heartbeatSeconds: 1, procs, streamsPerConn, addrs });
    let idle1;
    try {
      await openSteps(kind, s, [hbSteps], budgetS);
      await sleep(1500);
      idle1 = await idleCpu(s, o.quick ? 3 : 5);
      log(`streams: ${kind}: heartbeat 1 s: ${idle1.heartbeats} heartbeats, ${idle1.usPerHeartbeat.toFixed(1)} µs CPU each`);
    } finally {
      await teardown(s);
    }
    res[kind] = { ...mem, idle15, idle1 };
  }
  const stormRes = await connectStorm(o, storm);

  type R = { steps: Array<{ open: number; rssPerStreamKB: number; heapPerStreamKB: number; rss: number; openS: number; clientRssMB: number }>; limit?: string; idle15: Awaited<ReturnType<typeof idleCpu>>; idle1: Awaited<ReturnType<typeof idleCpu>> };
  const a = res.dialtone as R;
  const b = res.ws as R;
  const rows: Row[] = [];
  for (let i = 0; i < Math.max(a.steps.length, b.steps.length); i++) {
    const x = a.steps[i];
    const y = b.steps[i];
    const n = x?.open ?? y?.open;
    rows.push({ metric: `${n} streams: server RSS per stream`, ours: x?.rssPerStreamKB ?? "—", baseline: y?.rssPerStreamKB ?? "—", unit: "KB" });
    rows.push({ metric: `${n} streams: server JS heap per stream`, ours: x?.heapPerStreamKB ?? "—", baseline: y?.heapPerStreamKB ?? "—", unit: "KB" });
    rows.push({ metric: `${n} streams: time to open this step`, ours: x?.openS ?? "—", baseline: y?.openS ?? "—", unit: "s" });
  }
  const maxA = a.steps.at(-1)!;
  const maxB = b.steps.at(-1)!;
  rows.push({ metric: "most streams held", ours: maxA.open, baseline: maxB.open, unit: "", note: a.limit ?? "all steps done" });
  rows.push({ metric: "server RSS at most streams", ours: maxA.rss / MB, baseline: maxB.rss / MB, unit: "MB" });
  rows.push({ metric: "idle server CPU (heartbeat 15 s)", ours: a.idle15.cpuPct, baseline: b.idle15.cpuPct, unit: "% of a core", note: `${maxA.open} / ${maxB.open} streams` });
  rows.push({ metric: "CPU per heartbeat (heartbeat 1 s run)", ours: a.idle1.usPerHeartbeat, baseline: b.idle1.usPerHeartbeat, unit: "µs" });
  rows.push({
    metric: "heartbeat CPU at 10k streams, 15 s",
    ours: (a.idle1.usPerHeartbeat * 10_000) / 15 / 1e4,
    baseline: (b.idle1.usPerHeartbeat * 10_000) / 15 / 1e4,
    unit: "% of a core",
    note: "scaled from the 1 s run",
  });
  for (const st of stormRes) rows.push({ metric: `connect storm: ${st.accounts} accounts come online`, ours: st.openS, unit: "s", note: `${st.presenceEvents} presence events delivered` });
  printTable(`open streams: idle EventService.Subscribe (h2c, ${streamsPerConn} stream/connection, ${o.db})`, rows, "raw ws");
  const file = await writeResult("streams", {
    config: { steps, accounts, subscriberProcesses: procs, streamsPerConn, idleS, heartbeatRunStreams: hbSteps, db: o.db, sourceAddresses: addrs, transport: "h2c (Connect protocol, binary)" },
    results: res,
    connectStorm: stormRes,
    table: rows,
  });
  log(`streams: wrote ${file}`);
}
