// Voice mesh cost: CPU and bandwidth per daemon in rooms of 2, 4 and 8, and what each extra peer
// adds. Every daemon is a real dialtone-voiced (tone backend, always speaking: the worst case),
// all in one room of an in-process server, connected directly over host candidates (no TURN:
// the relay's own cost is not the mesh's). Each daemon encodes once and sends that stream to
// every peer, and decodes every peer's stream: both grow with the room.
// Baselines beside each figure: the CPU of an idle daemon (not in a room), and one stream's
// bitrate (what a daemon sends to one peer).
//
//   node --import tsx bench/voice-mesh.ts [--sizes 2,4,8] [--seconds 10]
import { randomBytes, randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { registerUser, sealedValue, type TestUser } from "../test/support/api.js";
import { databaseSource } from "../test/support/databases.js";
import { startTestServer, type TestServer } from "../test/support/server.js";
import { removeDaemonDir, startDaemon, type TestDaemon } from "../test/support/voiced.js";
import { cpuSeconds, sleep } from "./lib/proc.js";
import { log, printTable, sampleBackground, writeResult, type Row } from "./lib/report.js";

export interface VoiceMeshOptions {
  sizes: number[];
  /** Seconds of call measured per size. */
  seconds: number;
}

/** Per packet on the wire beside the Opus payload: IPv4 20 + UDP 8 + RTP 12 + SRTP tag 10 bytes. */
const OVERHEAD_BYTES = 50;
const PACKETS_PER_S = 50;
const overheadKbps = (OVERHEAD_BYTES * 8 * PACKETS_PER_S) / 1000;

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

interface SizeResult {
  size: number;
  cpuPct: number[];
  kbpsOut: number[];
  kbpsOutAllPeers: number[];
  kbpsIn: number[];
  lossPct: number[];
  connectMs: number;
  /** Directed connections ready (of size × (size − 1)). */
  readyPairs: number;
}

/** The stats lines of the measuring window: each daemon logs one a second. */
function statsSince(d: TestDaemon, fromMs: number): Array<Record<string, number>> {
  return d
    .log()
    .split("\n")
    .filter((l) => l.includes('"msg":"stats"'))
    .map((l) => JSON.parse(l) as Record<string, number> & { time: string })
    .filter((s) => Date.parse(String(s.time)) > fromMs);
}

async function room(server: TestServer, users: TestUser[], size: number, seconds: number): Promise<SizeResult> {
  const channelId = randomUUID();
  await users[0]!.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
  const key = randomBytes(32);
  const daemons: TestDaemon[] = [];
  try {
    // Started together: a loaded machine starts Node slowly, and the start is not what is measured.
    daemons.push(
      ...(await Promise.all(
        Array.from({ length: size }, (_, i) =>
          startDaemon(`mesh${size}-${i}`, ["--audio-backend", `tone:${300 + 100 * i}`, "--ptt", "", "--stats-interval", "1"], {
            startTimeoutMs: 300_000,
          }),
        ),
      )),
    );
    const joinedAt = Date.now();
    for (const [i, d] of daemons.entries()) {
      await d.voice.join({ serverUrl: server.url, sessionToken: users[i]!.token, channelId, channelKey: key, keyEpoch: 1 });
    }
    // Every connection ready, or as many as a saturated machine manages in 90 s (counted).
    const allReady = (s: { members: Array<{ ready: boolean }> }) => s.members.length === size - 1 && s.members.every((m) => m.ready);
    const deadline = Date.now() + 90_000;
    for (const d of daemons) await d.waitFor(allReady, Math.max(1, deadline - Date.now()), `${size - 1} ready peers`).catch(() => {});
    const readyPairs = daemons.reduce((n, d) => n + (d.latest()?.members.filter((m) => m.ready).length ?? 0), 0);
    const connectMs = Date.now() - joinedAt;
    if (readyPairs < size * (size - 1))
      log(`room of ${size}: only ${readyPairs} of ${size * (size - 1)} directed connections ready after 90 s`);
    await sleep(2000); // past the jitter buffers' start and the first stats line

    const from = Date.now();
    const cpu0 = daemons.map((d) => cpuSeconds(d.pid));
    await sleep(seconds * 1000);
    const cpu1 = daemons.map((d) => cpuSeconds(d.pid));
    const cpuPct = cpu1.map((c, i) => ((c - cpu0[i]!) / seconds) * 100);
    const stats = daemons.map((d) => statsSince(d, from));
    const per = (k: string) => stats.map((ss) => mean(ss.map((s) => s[k] ?? NaN)));
    return {
      size,
      cpuPct,
      kbpsOut: per("kbps_out"),
      kbpsOutAllPeers: per("kbps_out_all_peers"),
      kbpsIn: per("kbps_in"),
      lossPct: per("loss_pct"),
      connectMs,
      readyPairs,
    };
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    daemons.forEach(removeDaemonDir);
  }
}

export async function voiceMesh(o: VoiceMeshOptions): Promise<Row[]> {
  const background = await sampleBackground(2);
  log(`machine busy before start: ${background.busyPct.toFixed(0)} %`);
  const source = await databaseSource("pglite");
  const db = await source.fresh();
  const server = await startTestServer(db); // no TURN: host candidates, the mesh's own cost
  try {
    const users: TestUser[] = [];
    for (let i = 0; i < Math.max(...o.sizes); i++) users.push(await registerUser(server.url));

    // Baseline: an idle daemon (started, not in a room).
    const idle = await startDaemon("mesh-idle", ["--audio-backend", "tone:440", "--ptt", ""]);
    await sleep(1000);
    const c0 = cpuSeconds(idle.pid);
    await sleep(3000);
    const idleCpu = ((cpuSeconds(idle.pid) - c0) / 3) * 100;
    await idle.stop();
    removeDaemonDir(idle);

    const results: SizeResult[] = [];
    for (const size of o.sizes) {
      log(`room of ${size}: ${size} daemons, ${(size * (size - 1)) / 2} connections`);
      try {
        results.push(await room(server, users, size, o.seconds));
      } catch (err) {
        // The other sizes' figures still count.
        log(`room of ${size}: FAILED: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
      }
    }
    if (!results.length) throw new Error("no room size could be measured");
    const first = results[0]!;
    const rows: Row[] = [];
    for (const r of results) {
      const stream = mean(r.kbpsOut);
      rows.push(
        {
          metric: `${r.size} peers: CPU per daemon (mean)`,
          ours: mean(r.cpuPct),
          baseline: idleCpu,
          unit: "% of a core",
          note: "baseline: idle daemon",
        },
        { metric: `${r.size} peers: CPU per daemon (max)`, ours: Math.max(...r.cpuPct), baseline: idleCpu, unit: "% of a core" },
        {
          metric: `${r.size} peers: upload per daemon (Opus)`,
          ours: mean(r.kbpsOutAllPeers),
          baseline: stream,
          unit: "kbit/s",
          note: "baseline: one stream",
        },
        {
          metric: `${r.size} peers: upload per daemon (wire, est.)`,
          ours: mean(r.kbpsOutAllPeers) + overheadKbps * (r.size - 1),
          baseline: stream + overheadKbps,
          unit: "kbit/s",
          note: `+${OVERHEAD_BYTES} B/packet IP/UDP/RTP/SRTP`,
        },
        {
          metric: `${r.size} peers: download per daemon (Opus)`,
          ours: mean(r.kbpsIn),
          baseline: stream,
          unit: "kbit/s",
          note: "baseline: one stream",
        },
        { metric: `${r.size} peers: loss`, ours: mean(r.lossPct), unit: "%" },
        { metric: `${r.size} peers: join to all ready`, ours: r.connectMs, unit: "ms" },
        {
          metric: `${r.size} peers: connections ready`,
          ours: r.readyPairs,
          baseline: r.size * (r.size - 1),
          unit: "directed",
          note: "baseline: all",
        },
      );
    }
    for (const r of results.slice(1)) {
      const extra = r.size - first.size;
      rows.push(
        {
          metric: `CPU per extra peer (${first.size}→${r.size})`,
          ours: (mean(r.cpuPct) - mean(first.cpuPct)) / extra,
          baseline: mean(first.cpuPct) - idleCpu,
          unit: "% of a core",
          note: "baseline: the first peer's cost",
        },
        {
          metric: `upload per extra peer (${first.size}→${r.size})`,
          ours: (mean(r.kbpsOutAllPeers) - mean(first.kbpsOutAllPeers)) / extra,
          baseline: mean(first.kbpsOut),
          unit: "kbit/s (Opus)",
          note: "baseline: one stream",
        },
      );
    }
    printTable("voice mesh: CPU and bandwidth per daemon by room size (tone, always speaking, host candidates)", rows);
    const file = await writeResult("voice-mesh", { options: o, rows, results, idleCpuPct: idleCpu, background });
    log(`wrote ${file}`);
    return rows;
  } finally {
    await server.close();
    await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "2,4,8" },
      seconds: { type: "string", default: "10" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write("node --import tsx bench/voice-mesh.ts [--sizes 2,4,8] [--seconds 10]\n");
    process.exit(0);
  }
  voiceMesh({ sizes: values.sizes.split(",").map(Number), seconds: Number(values.seconds) }).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`voice-mesh: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
