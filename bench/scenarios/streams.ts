// Open streams: 10k idle EventService.Subscribe streams, one h2c connection each (as real
// clients hold them), then as many more as the box holds up to 50k, multiplexed 100 per
// connection (this machine caps a process at 20,000 file descriptors and denies raising it).
// Server RSS per stream and the CPU cost of heartbeats, beside idle raw ws connections. Plus the
// connect storm: opening streams of distinct accounts (each account coming online is announced
// to every open stream).
import path from "node:path";
import { execFileSync } from "node:child_process";
import { list, num, type BenchOptions } from "../lib/options.js";
import { benchPostgres, type BenchPostgres } from "../lib/pg.js";
import { BENCH_DIR, Child, cpuSeconds, sleep, startChild } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";
import type { SubscriberCounters } from "../clients/subscribers.js";
import { diffHeap, summarizeHeap } from "../heap.js";
import type { DialtoneReady } from "../servers/dialtone.js";

type Kind = "dialtone" | "ws";
const WANT_NOFILE = 200_000;
const MB = 2 ** 20;

interface Server {
  kind: Kind;
  child: Child;
  port: number;
  tokens: string[];
  pg?: BenchPostgres;
}

async function startServer(kind: Kind, o: BenchOptions, accounts: number, heartbeatSeconds: number): Promise<Server> {
  if (kind === "ws") {
    const r = await startChild("servers/ws.ts", { label: "ws-server", nofile: WANT_NOFILE, nodeFlags: ["--expose-gc"], opts: { heartbeatSeconds } });
    return { kind, child: r.child, port: (r.ready as unknown as { port: number }).port, tokens: [] };
  }
  const pg = o.db === "postgres" ? await benchPostgres() : undefined;
  const r = await startChild("servers/dialtone.ts", {
    label: "dialtone-server",
    nofile: WANT_NOFILE,
    nodeFlags: ["--expose-gc"],
    opts: { db: o.db, dbUrl: pg?.url, users: accounts, heartbeatSeconds },
  });
  const ready = r.ready as unknown as DialtoneReady;
  return { kind, child: r.child, port: ready.port, tokens: ready.tokens, ...(pg ? { pg } : {}) };
}

/** Subscriber processes; each gets its own source addresses (~28k ephemeral ports per address). */
async function startSubs(s: Server, procs: number, streamsPerConn: number, label: string, addrBase: number): Promise<Child[]> {
  return Promise.all(
    Array.from({ length: procs }, (_, p) =>
      startChild("clients/subscribers.ts", {
        label: `${s.kind}-${label}-${p}`,
        nofile: WANT_NOFILE,
        opts: { kind: s.kind, port: s.port, tokens: s.tokens, streamsPerConn, localAddresses: [`127.0.${addrBase}.${p + 1}`], openConcurrency: 100 },
      }).then((r) => r.child),
    ),
  );
}

async function stopAll(s: Server, subs: Child[]) {
  await Promise.all(subs.map((c) => c.stop(20_000)));
  await s.child.stop();
  await s.pg?.stop();
}

async function serverMem(s: Server) {
  const r = await s.child.call<{ streams: number; memory: NodeJS.MemoryUsage }>("gc");
  return { streams: r.streams, rss: r.memory.rss, heapUsed: r.memory.heapUsed };
}

async function counters(subs: Child[]) {
  const c = await Promise.all(subs.map((x) => x.call<SubscriberCounters>("counters")));
  return {
    open: c.reduce((a, x) => a + x.open, 0),
    heartbeats: c.reduce((a, x) => a + x.heartbeats, 0),
    errors: Object.assign({}, ...c.map((x) => x.errors)) as Record<string, number>,
  };
}

/** Opens `add` more streams across `subs`; `had` is what those processes already hold. */
async function openMore(subs: Child[], had: number, add: number) {
  const t = performance.now();
  const total = had + add;
  const per = Math.ceil(total / subs.length);
  const res = await Promise.all(subs.map((c, p) => c.call<{ open: number; failed: number }>("open", { total: Math.max(0, Math.min(per, total - p * per)) })));
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
  const c0 = cpuSeconds(s.child.pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = cpuSeconds(s.child.pid) - c0;
  const wall = (performance.now() - t0) / 1000;
  const beats = (await counters(subs)).heartbeats - h0;
  return { wallS: wall, cpuS: cpu, cpuPct: (100 * cpu) / wall, heartbeats: beats, usPerHeartbeat: beats ? (cpu * 1e6) / beats : NaN };
}

async function memoryRun(kind: Kind, o: BenchOptions, x: { first: number; upTo: number; step: number; accounts: number; budgetS: number; idleS: number; profile: boolean }) {
  const s = await startServer(kind, o, x.accounts, 15);
  const subs: Child[] = [];
  const steps: Step[] = [];
  let limit: string | undefined;
  let heap: ReturnType<typeof diffHeap> | undefined;
  try {
    const base = await serverMem(s);
    const snap = (n: string) => path.join(BENCH_DIR, "results", `streams-${n}.heapsnapshot`);
    const heapSnap = x.profile && kind === "dialtone" && x.first <= 5000;
    let b0 = base;
    if (heapSnap) {
      await s.child.call("heap-snapshot", { file: snap("before") });
      b0 = await serverMem(s);
    }
    const record = async (mode: string, openS: number, failed: number) => {
      const m = await serverMem(s);
      const prev = steps.at(-1);
      const st: Step = {
        streams: m.streams,
        mode,
        openS,
        streamsPerS: (m.streams - (prev?.streams ?? 0)) / openS,
        failed,
        rssMB: m.rss / MB,
        rssPerStreamKB: (m.rss - b0.rss) / m.streams / 1024,
        ...(prev ? { marginalKB: (m.rss / MB - prev.rssMB) * 1024 / (m.streams - prev.streams) } : {}),
        heapPerStreamKB: (m.heapUsed - b0.heapUsed) / m.streams / 1024,
      };
      steps.push(st);
      log(`streams: ${kind}: ${st.streams} open (${mode}; ${st.streamsPerS.toFixed(0)}/s, ${failed} failed): server RSS ${st.rssMB.toFixed(0)} MB, ${st.rssPerStreamKB.toFixed(1)} KB/stream${st.marginalKB !== undefined ? `, marginal ${st.marginalKB.toFixed(1)} KB` : ""}`);
      return st;
    };

    // A. one connection per stream, like real clients
    subs.push(...(await startSubs(s, 4, 1, "conn", 1)));
    if (x.profile && kind === "dialtone") await s.child.call("profile-start");
    const a = await openMore(subs, 0, x.first);
    if (x.profile && kind === "dialtone") await s.child.call("profile-stop", { file: path.join(BENCH_DIR, "results", "streams-open.cpuprofile") });
    await sleep(1000);
    const first = await record("1 stream/connection", a.openS, a.failed);
    if (heapSnap) {
      await s.child.call("heap-snapshot", { file: snap("after") });
      heap = diffHeap(summarizeHeap(snap("before")), summarizeHeap(snap("after")), first.streams);
      heap.rows = heap.rows.slice(0, 30);
      log(`streams: heap growth per stream ${(heap.totalBytesPer / 1024).toFixed(1)} KB: ${heap.rows.slice(0, 6).map((r) => `${r.what} ${r.bytesPer.toFixed(0)} B`).join(", ")}`);
    }
    const idle15 = await idleCpu(s, subs, x.idleS);
    log(`streams: ${kind}: idle, heartbeat 15 s: server CPU ${idle15.cpuPct.toFixed(2)} % over ${idle15.wallS.toFixed(0)} s, ${idle15.heartbeats} heartbeats`);
    if (a.failed || first.streams < x.first) limit = `first step: ${a.failed} opens failed ${JSON.stringify((await counters(subs)).errors)}`;

    // B. more streams: dialtone multiplexes 100 per connection (the fd cap); ws cannot.
    const t0 = performance.now();
    const more = kind === "dialtone" ? await startSubs(s, 2, 100, "mux", 2) : subs;
    if (kind === "dialtone") subs.push(...more);
    let held = kind === "dialtone" ? 0 : first.streams;
    for (let target = x.first + x.step; !limit && target <= x.upTo; target += x.step) {
      if ((performance.now() - t0) / 1000 > x.budgetS) {
        limit = `stopped at ${steps.at(-1)!.streams}: the opening budget (${x.budgetS} s) ran out`;
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
    await stopAll(s, subs);
  }
}

async function heartbeatRun(kind: Kind, o: BenchOptions, n: number, accounts: number, seconds: number) {
  const s = await startServer(kind, o, accounts, 1);
  const subs = await startSubs(s, 2, 1, "hb", 3);
  try {
    await openMore(subs, 0, n);
    await sleep(1500);
    const r = await idleCpu(s, subs, seconds);
    log(`streams: ${kind}: heartbeat every 1 s over ${n} streams: ${r.heartbeats} heartbeats, ${r.usPerHeartbeat.toFixed(1)} µs of server CPU each`);
    return r;
  } finally {
    await stopAll(s, subs);
  }
}

/** Opening N streams of N distinct accounts: every new account online goes to every open stream. */
async function connectStorm(o: BenchOptions, sizes: number[]) {
  const out: Array<{ accounts: number; openS: number; presenceEvents: number; serverCpuS: number }> = [];
  for (const n of sizes) {
    const s = await startServer("dialtone", o, n, 15);
    const subs = await startSubs(s, 1, 1, "storm", 4);
    try {
      const c0 = cpuSeconds(s.child.pid);
      const t = performance.now();
      await subs[0]!.call("open", { total: n });
      let presence = 0;
      for (let last = -1; ; await sleep(250)) {
        presence = (await subs[0]!.call<SubscriberCounters>("counters")).presence;
        if (presence === last) break;
        last = presence;
      }
      const openS = (performance.now() - t) / 1000 - 0.25;
      const cpu = cpuSeconds(s.child.pid) - c0;
      out.push({ accounts: n, openS, presenceEvents: presence, serverCpuS: cpu });
      log(`streams: connect storm: ${n} accounts online in ${openS.toFixed(1)} s (${cpu.toFixed(1)} s server CPU), ${presence} presence events delivered`);
    } finally {
      await stopAll(s, subs);
    }
  }
  return out;
}

export async function streams(o: BenchOptions): Promise<void> {
  const first = num(o, "first", o.quick ? 2000 : 10_000);
  const upTo = num(o, "upTo", o.quick ? 4000 : 50_000);
  const step = num(o, "step", o.quick ? 2000 : 10_000);
  const accounts = num(o, "accounts", 100);
  const idleS = num(o, "idle", o.quick ? 4 : 6);
  const hbStreams = num(o, "hbStreams", o.quick ? 1000 : 2000);
  const budgetS = num(o, "budget", 45);
  const storm = list(o, "storm", o.quick ? [50, 100] : [100, 200]);
  let hardNofile = NaN;
  try {
    hardNofile = Number(execFileSync("/bin/sh", ["-c", `ulimit -n ${WANT_NOFILE} 2>/dev/null; ulimit -n`]).toString().trim());
  } catch {
    /* keep NaN */
  }
  if (hardNofile < WANT_NOFILE) log(`streams: cannot raise RLIMIT_NOFILE to ${WANT_NOFILE} (hard limit ${hardNofile}, no CAP_SYS_RESOURCE): one socket per stream stops near ${hardNofile}`);

  const res: Record<string, unknown> = {};
  for (const kind of ["dialtone", "ws"] as const) {
    log(`streams: ${kind}: ${first} idle streams, one connection each, then +${step} up to ${upTo}${kind === "dialtone" ? ` (h2c, ${o.db}, ${accounts} accounts)` : ""}`);
    const mem = await memoryRun(kind, o, { first, upTo: kind === "ws" ? Math.min(upTo, hardNofile - 1000) : upTo, step: kind === "ws" ? Math.min(step, hardNofile - 1000 - first) : step, accounts, budgetS, idleS, profile: o.profile });
    const hb1 = await heartbeatRun(kind, o, hbStreams, accounts, o.quick ? 3 : 4);
    res[kind] = { ...mem, heartbeat1s: hb1 };
  }
  const stormRes = await connectStorm(o, storm);

  type R = Awaited<ReturnType<typeof memoryRun>> & { heartbeat1s: Awaited<ReturnType<typeof heartbeatRun>> };
  const a = res.dialtone as R;
  const b = res.ws as R;
  const rows: Row[] = [
    { metric: `${a.steps[0]!.streams} streams, 1 connection each: RSS/stream`, ours: a.steps[0]!.rssPerStreamKB, baseline: b.steps[0]!.rssPerStreamKB, unit: "KB", note: "(RSS − idle RSS) / streams" },
    { metric: `  JS heap per stream`, ours: a.steps[0]!.heapPerStreamKB, baseline: b.steps[0]!.heapPerStreamKB, unit: "KB" },
    { metric: `  opened per second`, ours: a.steps[0]!.streamsPerS, baseline: b.steps[0]!.streamsPerS, unit: "/s" },
  ];
  for (const [i, st] of a.steps.entries()) {
    if (i === 0) continue;
    const w = b.steps[i];
    rows.push({ metric: `${st.streams} streams (${st.mode}): RSS/stream`, ours: st.rssPerStreamKB, baseline: w ? w.rssPerStreamKB : "—", unit: "KB", note: `marginal ${st.marginalKB?.toFixed(1)} KB${w ? ` vs ${w.marginalKB?.toFixed(1)} KB at ${w.streams}` : ""}` });
  }
  const maxA = a.steps.at(-1)!;
  const maxB = b.steps.at(-1)!;
  rows.push({ metric: "most streams held", ours: maxA.streams, baseline: maxB.streams, unit: "", note: `ours: ${a.limit ?? "all steps done"}; ws: ${b.limit ?? `fd cap ${hardNofile}`}` });
  rows.push({ metric: "server RSS at most streams", ours: maxA.rssMB, baseline: maxB.rssMB, unit: "MB" });
  rows.push({ metric: `idle server CPU, heartbeat 15 s, ${a.steps[0]!.streams} streams`, ours: a.idle15.cpuPct, baseline: b.idle15.cpuPct, unit: "% of a core" });
  rows.push({ metric: "server CPU per heartbeat", ours: a.heartbeat1s.usPerHeartbeat, baseline: b.heartbeat1s.usPerHeartbeat, unit: "µs", note: "heartbeat-every-1-s run" });
  rows.push({ metric: "heartbeats at 10k streams / 15 s", ours: (a.heartbeat1s.usPerHeartbeat * 10_000) / 15 / 1e4, baseline: (b.heartbeat1s.usPerHeartbeat * 10_000) / 15 / 1e4, unit: "% of a core", note: "scaled" });
  for (const st of stormRes) rows.push({ metric: `connect storm: ${st.accounts} accounts online`, ours: st.openS, unit: "s", note: `${st.presenceEvents} presence events, ${st.serverCpuS.toFixed(1)} s server CPU` });
  printTable(`open streams: idle EventService.Subscribe over h2c (${o.db})`, rows, "raw ws");
  const file = await writeResult("streams", {
    config: { first, upTo, step, accounts, idleS, hbStreams, budgetS, storm, db: o.db, nofileHardLimit: hardNofile, transport: "h2c (Connect protocol, binary)" },
    results: res,
    connectStorm: stormRes,
    table: rows,
  });
  log(`streams: wrote ${file}`);
}
