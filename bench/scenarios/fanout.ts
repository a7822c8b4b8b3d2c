// Fan-out: 1 sender → N subscribers (EventService.Subscribe on a real dialtone-server) at
// fixed message rates, beside a raw ws broadcast server and clients doing the same work with
// the same payload. Subscribers hold a socket each (Connect over HTTP/1.1, as the dialtone
// CLI; --set http=2 for h2c). Latency is from the Send call (ours: auth, validation, the
// commit, then the fan-out; ws: straight to the broadcast) to each subscriber's decode; the
// spread (first subscriber to last, per message) is the fan-out alone.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { migrate, startDialtone, type DbTarget, type DialtoneServer } from "../lib/dialtone.js";
import { Histogram, msSummary, type HistogramData } from "../lib/hist.js";
import { list, num, type BenchOptions } from "../lib/options.js";
import { benchPostgres, type BenchPostgres } from "../lib/pg.js";
import { BENCH_DIR, type Child, cpuSeconds, machineCpu, rssBytes, sleep, startChild, waitIdle } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";
import { seed } from "../lib/seed.js";
import { summarizeProfile } from "../profile.js";
import type { PhaseData, SubscriberCounters } from "../clients/subscribers.js";

interface RateResult {
  rate: number;
  sent: number;
  expected: number;
  delivered: number;
  missing: number;
  windowS: number;
  deliveriesPerS: number;
  latencyMs: ReturnType<typeof msSummary>;
  /** Per message: until the last subscriber had it. */
  allDeliveredMs: ReturnType<typeof msSummary>;
  /** Per message: from the first subscriber's delivery to the last's. */
  spreadMs: ReturnType<typeof msSummary>;
  sendRttMs?: ReturnType<typeof msSummary>;
  senderLagMs: ReturnType<typeof msSummary>;
  serverCpuS: number;
  serverCpuPct: number;
  dbCpuPct?: number;
  machineBusyPct: number;
  /** Load generators (subscriber processes + sender). */
  clientCpuPct: number;
  /** Machine busy time not spent by this bench's processes (other work on the box). */
  foreignCpuPct: number;
  sendUnanswered: number;
  /** Seconds spent waiting for the server to go idle before this phase (30 = gave up: backlog). */
  drainBeforeS: number;
  subscriberErrors: Record<string, number>;
  /** The server's RSS, the most sampled (every 250 ms) over the phase. */
  serverRssMaxMB: number;
}

/** ours; the raw ws broadcast server; and a ws server that stores each message, then broadcasts. */
type Kind = "dialtone" | "ws" | "ws-sql";

interface Side {
  kind: Kind;
  server: { pid: number; stop(): Promise<void> };
  /** The real server (kind "dialtone"), for profiles. */
  dialtone?: DialtoneServer;
  subs: Child[];
  sender: Child;
  pg?: BenchPostgres;
  dataDir?: string;
  openMs: number;
  presenceEvents: number;
}

async function collect(subs: Child[], phase: number) {
  const datas = await Promise.all(subs.map((s) => s.call<Record<number, PhaseData>>("phases", { list: [phase] })));
  return datas.map((d) => d[phase]!);
}

async function runRate(
  side: Side,
  rate: number,
  phase: number,
  o: { warmupS: number; durationS: number; tailS: number; subscribers: number; profileFile?: string },
): Promise<RateResult> {
  // Warm-up (JIT, connections) at a rate every side sustains, so it leaves no backlog behind.
  await side.sender.call("run", { rate: Math.min(rate, 30), durationS: o.warmupS, phase: 100 + phase, tailS: o.tailS });
  // Start from an idle server: a backlog of the warm-up (or an earlier phase) drains first.
  const drainS = await waitIdle(side.server.pid, 30, 10);
  await Promise.all(side.subs.map((s) => s.call("reset")));
  if (o.profileFile) await side.dialtone?.profileStart();
  const cpu0 = cpuSeconds(side.server.pid);
  const clientPids = [side.sender.pid, ...side.subs.map((c) => c.pid)];
  const cl0 = clientPids.reduce((a, p) => a + cpuSeconds(p), 0);
  const db0 = side.pg?.cpu();
  const m0 = machineCpu();
  const t0 = performance.now();
  // RSS while the phase runs (issue 14: the embedded server's footprint under fan-out).
  const rssNow = () => {
    try {
      return rssBytes(side.server.pid);
    } catch {
      return 0; // the server went away: the phase reports its errors
    }
  };
  let rssMax = rssNow();
  const rssTimer = setInterval(() => {
    rssMax = Math.max(rssMax, rssNow());
  }, 250);
  const run = await side.sender.call<{
    sent: number;
    sentS: number;
    unanswered: number;
    rtt: HistogramData;
    lag: HistogramData;
    errors: Record<string, number>;
  }>("run", {
    rate,
    durationS: o.durationS,
    phase,
    tailS: 1,
  });
  const expected = run.sent * o.subscribers;
  // The tail: until every delivery arrived, nothing moved for 3 s, or tailS passed since the
  // sending window closed. Later deliveries count as missing (the server fell behind).
  let delivered = 0;
  const deadline = t0 + (run.sentS + o.tailS) * 1000;
  for (let last = -1, still = 0; still < 15 && performance.now() < deadline; ) {
    const d = (await collect(side.subs, phase)).reduce((a, p) => a + p.deliveries, 0);
    delivered = d;
    if (d >= expected) break;
    still = d === last ? still + 1 : 0;
    last = d;
    await sleep(200);
  }
  const windowS = (performance.now() - t0) / 1000;
  clearInterval(rssTimer);
  rssMax = Math.max(rssMax, rssNow());
  const cpu = cpuSeconds(side.server.pid) - cpu0;
  const clientCpu = clientPids.reduce((a, p) => a + cpuSeconds(p), 0) - cl0;
  const dbCpu = side.pg ? side.pg.cpu() - db0! : undefined;
  const m1 = machineCpu();
  if (o.profileFile) await side.dialtone?.profileStop(o.profileFile);
  const phases = await collect(side.subs, phase);
  delivered = phases.reduce((a, p) => a + p.deliveries, 0);
  const hist = Histogram.from(phases.map((p) => p.hist));
  const perMsg = new Map<number, { max: number; min: number; n: number }>();
  for (const p of phases)
    for (const [i, max, n, min] of p.perMsg) {
      const m = perMsg.get(i);
      if (!m) perMsg.set(i, { max, min, n });
      else {
        m.max = Math.max(m.max, max);
        m.min = Math.min(m.min, min);
        m.n += n;
      }
    }
  // Per message: until the last subscriber had it; and the spread from the first subscriber
  // to the last (the fan-out alone, whatever it took the message to reach the server).
  const all = new Histogram();
  const spread = new Histogram();
  for (const m of perMsg.values()) {
    if (m.n < o.subscribers) continue;
    all.record(m.max);
    spread.record(m.max - m.min);
  }
  const counters = await Promise.all(side.subs.map((s) => s.call<SubscriberCounters>("counters")));
  const errors: Record<string, number> = { ...run.errors };
  for (const c of counters) for (const [k, v] of Object.entries(c.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    rate,
    sent: run.sent,
    expected,
    delivered,
    missing: expected - delivered,
    windowS,
    // Over the whole window (sending + tail): what the server actually pushed out per second.
    deliveriesPerS: delivered / windowS,
    latencyMs: msSummary(hist.summary()),
    allDeliveredMs: msSummary(all.summary()),
    spreadMs: msSummary(spread.summary()),
    ...(side.kind !== "ws" ? { sendRttMs: msSummary(Histogram.from([run.rtt]).summary()) } : {}),
    senderLagMs: msSummary(Histogram.from([run.lag]).summary()),
    serverCpuS: cpu,
    serverCpuPct: (100 * cpu) / windowS,
    ...(dbCpu !== undefined ? { dbCpuPct: (100 * dbCpu) / windowS } : {}),
    machineBusyPct: (100 * (m1.busy - m0.busy)) / (m1.total - m0.total),
    clientCpuPct: (100 * clientCpu) / windowS,
    foreignCpuPct: Math.max(0, (100 * (m1.busy - m0.busy - cpu - clientCpu - (dbCpu ?? 0))) / windowS),
    sendUnanswered: run.unanswered,
    drainBeforeS: drainS,
    subscriberErrors: errors,
    serverRssMaxMB: rssMax / 2 ** 20,
  };
}

async function startSide(
  kind: Kind,
  o: BenchOptions,
  db: Db,
  n: number,
  procs: number,
  streamsPerConn: number,
  accounts: number,
): Promise<Side> {
  let pg: BenchPostgres | undefined;
  let dataDir: string | undefined;
  let server: Side["server"];
  let dialtone: DialtoneServer | undefined;
  let tokens: string[] = [];
  let channelId = "";
  let port: number;
  if (kind === "dialtone") {
    let target: DbTarget;
    if (db === "postgres") {
      pg = await benchPostgres();
      target = { kind: "postgres", url: pg.url };
    } else {
      dataDir = await mkdtemp(path.join(os.tmpdir(), "dialtone-bench-"));
      target = { kind: "pglite", dataDir };
    }
    await migrate(target);
    ({ tokens, channelId } = await seed(target, { accounts: accounts + 1 }));
    dialtone = await startDialtone(target, { label: "dialtone-server", heartbeatSeconds: 15, inspect: o.profile });
    server = dialtone;
    port = dialtone.port;
  } else {
    let wsOpts: Record<string, unknown> = { heartbeatSeconds: 15 };
    if (kind === "ws-sql") {
      pg = await benchPostgres();
      const db = { kind: "postgres" as const, url: pg.url };
      await migrate(db);
      const fx = await seed(db, { accounts: 1 });
      channelId = fx.channelId;
      wsOpts = { ...wsOpts, db, userId: fx.userIds[0], deviceId: fx.deviceIds[0] };
    }
    const r = await startChild("servers/ws.ts", { label: `${kind}-server`, opts: wsOpts });
    server = r.child;
    port = (r.ready as unknown as { port: number }).port;
  }
  const subKind = kind === "dialtone" ? "dialtone" : "ws";
  // tokens[0] sends; subscribers use the other accounts round-robin.
  const subTokens = tokens.slice(1);
  const per = Math.ceil(n / procs);
  const tokensOf = (p: number) => subTokens.filter((_, i) => i % procs === p);
  const subs = await Promise.all(
    Array.from({ length: procs }, (_, p) =>
      startChild("clients/subscribers.ts", {
        label: `${kind}-subscribers-${p}`,
        opts: {
          kind: subKind,
          port,
          tokens: tokensOf(p),
          streamsPerConn,
          http: o.set.http === "2" ? "2" : "1.1",
          stubs: o.set.client === "stubs",
        },
      }).then((r) => r.child),
    ),
  );
  const t = performance.now();
  const opened = await Promise.all(
    subs.map((s, p) => s.call<{ open: number; failed: number }>("open", { total: Math.min(per, n - p * per) })),
  );
  const openMs = performance.now() - t;
  const open = opened.reduce((a, r) => a + r.open, 0);
  if (open < n) throw new Error(`${kind}: only ${open} of ${n} subscribers opened`);
  // Let the connect-time presence storm (one PresenceChanged to every open stream per new user) drain.
  let presence = 0;
  for (let last = -1; ; await sleep(500)) {
    const c = await Promise.all(subs.map((s) => s.call<SubscriberCounters>("counters")));
    presence = c.reduce((a, x) => a + x.presence, 0);
    if (presence === last) break;
    last = presence;
  }
  const sender = (
    await startChild("clients/sender.ts", {
      label: `${kind}-sender`,
      opts: {
        kind: kind === "ws-sql" ? "ws-store" : kind,
        storePath: "storecast",
        port,
        tokens: tokens.slice(0, 1),
        channelId,
        connections: 1,
        http: o.set.http === "2" ? "2" : "1.1",
      },
    })
  ).child;
  return {
    kind,
    server,
    ...(dialtone ? { dialtone } : {}),
    subs,
    sender,
    ...(pg ? { pg } : {}),
    ...(dataDir ? { dataDir } : {}),
    openMs,
    presenceEvents: presence,
  };
}

async function stopSide(s: Side) {
  await Promise.all([s.sender.stop(), ...s.subs.map((c) => c.stop())]);
  await s.server.stop();
  await s.pg?.stop();
  if (s.dataDir) await rm(s.dataDir, { recursive: true, force: true });
}

type Db = "postgres" | "pglite";

/** Fan-out on each database `--db` names (both by default: issue 14 sets a target for each). */
export async function fanout(o: BenchOptions): Promise<void> {
  const dbs: Db[] = o.db === "both" ? ["postgres", "pglite"] : [o.db];
  for (const db of dbs) await fanoutOn(o, db);
}

async function fanoutOn(o: BenchOptions, db: Db): Promise<void> {
  const subscribers = num(o, "subscribers", o.quick ? 200 : 1000);
  // The embedded database has a target at 30 msg/s only; 100 msg/s saturates every side here.
  const rates = list(o, "rates", db === "pglite" ? [30] : [30, 100]);
  const warmupS = num(o, "warmup", o.quick ? 1 : 2);
  const durationS = num(o, "duration", o.quick ? 3 : 5);
  const procs = num(o, "procs", 2);
  const streamsPerConn = num(o, "streamsPerConn", 1);
  const http = o.set.http === "2" ? "h2c" : "HTTP/1.1";
  const accounts = Math.min(subscribers, num(o, "accounts", 50));
  const tailS = num(o, "tail", 3);
  const results: Record<string, { openMs: number; presenceEvents: number; rates: RateResult[] }> = {};
  let profile: ReturnType<typeof summarizeProfile> | undefined;
  const resultName = db === "postgres" ? "fanout" : `fanout-${db}`;
  const profileFile = path.join(BENCH_DIR, "results", `${resultName}-server.cpuprofile`);

  // Both sides stay up and take turns at each rate, so background load that comes and goes on
  // a shared machine falls on both alike.
  const sides: Side[] = [];
  try {
    // ws + SQL stores in PostgreSQL: a second baseline for the PostgreSQL run only.
    const kinds: Kind[] = o.set.wsSql === "0" || db === "pglite" ? ["dialtone", "ws"] : ["dialtone", "ws", "ws-sql"];
    for (const kind of kinds) {
      log(
        `fanout: ${kind}: ${subscribers} subscribers in ${procs} processes${kind === "dialtone" ? `, Connect over ${http}, ${db}` : kind === "ws-sql" ? ", storing each message in PostgreSQL before the broadcast" : ""}`,
      );
      const side = await startSide(kind, o, db, subscribers, procs, streamsPerConn, accounts);
      sides.push(side);
      log(`fanout: ${kind}: opened in ${side.openMs.toFixed(0)} ms (${side.presenceEvents} presence events)`);
      results[kind] = { openMs: side.openMs, presenceEvents: side.presenceEvents, rates: [] };
    }
    for (const [k, rate] of rates.entries()) {
      for (const side of sides) {
        const prof = o.profile && side.kind === "dialtone" && rate === Math.max(...rates) ? profileFile : undefined;
        const r = await runRate(side, rate, k + 1, { warmupS, durationS, tailS, subscribers, ...(prof ? { profileFile: prof } : {}) });
        results[side.kind]!.rates.push(r);
        log(
          `fanout: ${side.kind} @${rate}/s: p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms, ${r.deliveriesPerS.toFixed(0)} deliveries/s, server CPU ${r.serverCpuPct.toFixed(0)} %`,
        );
        if (prof) profile = summarizeProfile(prof);
      }
    }
  } finally {
    for (const side of sides) await stopSide(side);
  }

  const rows: Row[] = [];
  for (const [k, rate] of rates.entries()) {
    const a = results.dialtone!.rates[k]!;
    const b = results.ws!.rates[k]!;
    rows.push(
      { metric: `@${rate}/s latency p50`, ours: a.latencyMs.p50, baseline: b.latencyMs.p50, unit: "ms" },
      { metric: `@${rate}/s latency p99`, ours: a.latencyMs.p99, baseline: b.latencyMs.p99, unit: "ms" },
      { metric: `@${rate}/s latency max`, ours: a.latencyMs.max, baseline: b.latencyMs.max, unit: "ms" },
      {
        metric: `@${rate}/s all-subscribers p99`,
        ours: a.allDeliveredMs.p99,
        baseline: b.allDeliveredMs.p99,
        unit: "ms",
        note: "per message, until the last subscriber had it",
      },
      {
        metric: `@${rate}/s fan-out spread p50`,
        ours: a.spreadMs.p50,
        baseline: b.spreadMs.p50,
        unit: "ms",
        note: "per message, first subscriber → last",
      },
      { metric: `@${rate}/s fan-out spread p99`, ours: a.spreadMs.p99, baseline: b.spreadMs.p99, unit: "ms" },
      { metric: `@${rate}/s deliveries/s`, ours: a.deliveriesPerS, baseline: b.deliveriesPerS, unit: "/s" },
      {
        metric: `@${rate}/s not delivered within ${tailS} s`,
        ours: a.missing,
        baseline: b.missing,
        unit: "",
        note: `of ${a.expected} / ${b.expected}`,
      },
      { metric: `@${rate}/s server CPU`, ours: a.serverCpuPct, baseline: b.serverCpuPct, unit: "% of a core" },
      { metric: `@${rate}/s server RSS, most sampled`, ours: a.serverRssMaxMB, baseline: b.serverRssMaxMB, unit: "MB" },
      {
        metric: `@${rate}/s server CPU per delivery`,
        ours: (a.serverCpuS / a.delivered) * 1e6,
        baseline: (b.serverCpuS / b.delivered) * 1e6,
        unit: "µs",
      },
      { metric: `@${rate}/s load generators CPU`, ours: a.clientCpuPct, baseline: b.clientCpuPct, unit: "% of a core" },
      {
        metric: `@${rate}/s other work on the box`,
        ours: a.foreignCpuPct,
        baseline: b.foreignCpuPct,
        unit: "% of a core",
        note: "not this bench",
      },
    );
    if (a.dbCpuPct !== undefined) rows.push({ metric: `@${rate}/s PostgreSQL CPU`, ours: a.dbCpuPct, unit: "% of a core" });
    if (a.sendRttMs) rows.push({ metric: `@${rate}/s Send RTT p50 / p99`, ours: `${a.sendRttMs.p50} / ${a.sendRttMs.p99}`, unit: "ms" });
    const c = results["ws-sql"]?.rates[k];
    if (c) {
      const note = "baseline: ws that stores each message (one statement) before the broadcast";
      rows.push(
        { metric: `@${rate}/s vs ws + SQL: latency p50`, ours: a.latencyMs.p50, baseline: c.latencyMs.p50, unit: "ms", note },
        { metric: `@${rate}/s vs ws + SQL: latency p99`, ours: a.latencyMs.p99, baseline: c.latencyMs.p99, unit: "ms" },
        {
          metric: `@${rate}/s vs ws + SQL: store+ack RTT p50 / p99`,
          ours: `${a.sendRttMs?.p50} / ${a.sendRttMs?.p99}`,
          baseline: `${c.sendRttMs?.p50} / ${c.sendRttMs?.p99}`,
          unit: "ms",
        },
        {
          metric: `@${rate}/s vs ws + SQL: server CPU per delivery`,
          ours: (a.serverCpuS / a.delivered) * 1e6,
          baseline: (c.serverCpuS / c.delivered) * 1e6,
          unit: "µs",
        },
      );
    }
  }
  rows.push({
    metric: `open ${subscribers} streams`,
    ours: results.dialtone!.openMs,
    baseline: results.ws!.openMs,
    unit: "ms",
    note: `${accounts} accounts`,
  });
  rows.push({ metric: "presence events during open", ours: results.dialtone!.presenceEvents, baseline: 0, unit: "" });
  printTable(
    `fan-out: 1 sender → ${subscribers} subscribers, 300-byte ciphertext (Connect over ${http}, ${db}; a socket per subscriber on both sides)`,
    rows,
    "raw ws",
  );
  if (profile) {
    process.stdout.write(`\nserver CPU profile (${profileFile}), top self time:\n`);
    for (const f of profile.top.slice(0, 15)) process.stdout.write(`  ${f.selfPct.toFixed(1).padStart(5)} %  ${f.fn}  ${f.where}\n`);
  }
  const file = await writeResult(resultName, {
    config: {
      subscribers,
      accounts,
      rates,
      warmupS,
      durationS,
      tailS,
      subscriberProcesses: procs,
      streamsPerConn,
      db,
      transport: `Connect protocol, binary, ${http}`,
      bodyBytes: 300,
    },
    results,
    ...(profile ? { profile } : {}),
    table: rows,
  });
  log(`fanout (${db}): wrote ${file}`);
}
