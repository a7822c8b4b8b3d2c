// Voice one-way latency and CPU per peer, through the real pipeline: two dialtone-voiced
// processes in one room of an in-process server, relay-only through a local coturn. Each daemon
// plays 200 ms tone pulses that start on every wall-clock second (tone:FREQ:pulse) and records
// what it plays; a pulse's onset in the other's recording, mapped to wall time by the
// recording's anchor, minus the whole second it started at, is the mouth-to-ear latency
// without sound-card buffers (capture framing + Opus + RTP over TURN + jitter buffer + mix).
// Baselines from the same run: RTP one way between two in-process werift peers over the same
// TURN relay (the transport's share), and the CPU of a daemon that is idle (not in a room).
//
//   node --import tsx bench/voice-latency.ts [--seconds 20]
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { weriftPeerFactory } from "../voiced/rtc/werift-peer.js";
import { registerUser, sealedValue } from "../test/support/api.js";
import { startCoturn, type Coturn } from "../test/support/coturn.js";
import { databaseSource } from "../test/support/databases.js";
import { startTestServer } from "../test/support/server.js";
import { removeDaemonDir, startDaemon, type TestDaemon } from "../test/support/voiced.js";
import { loadWav, toneOnsets } from "../test/support/wav.js";
import { cpuSeconds, sleep } from "./lib/proc.js";
import { log, printTable, sampleBackground, writeResult, type Row } from "./lib/report.js";

export interface VoiceLatencyOptions {
  /** Seconds of call to measure (one pulse per second and direction). */
  seconds: number;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Onsets of `freq` pulses in a daemon's recording, as one-way latencies (ms) after `fromMs`. */
function pulseLatencies(d: TestDaemon, freq: number, fromMs: number): number[] {
  const wav = loadWav(d.recordPath);
  if (wav.startMs === undefined) throw new Error(`${d.recordPath}: no wall-clock anchor`);
  const out: number[] = [];
  for (const sample of toneOnsets(wav.samples, freq, { threshold: 5e-4, quietMs: 400 })) {
    const wall = wav.startMs + (sample * 1000) / wav.sampleRate;
    if (wall < fromMs) continue;
    const latency = wall - Math.floor(wall / 1000) * 1000;
    if (latency < 800) out.push(latency); // the pulse is 200 ms, then 800 ms of silence
  }
  return out;
}

/** RTP one way between two in-process werift peers over the TURN relay: the transport's part. */
async function transportBaseline(coturn: Coturn, packets = 200): Promise<number[]> {
  const username = `${Math.floor(Date.now() / 1000) + 600}:bench`;
  const credential = createHmac("sha1", coturn.secret).update(username).digest("base64");
  const opts = { iceServers: [{ urls: [coturn.url], username, credential }], relayOnly: true };
  const a = weriftPeerFactory(opts);
  const b = weriftPeerFactory(opts);
  a.onLocalCandidate((c) => void b.addRemoteCandidate(c).catch(() => {}));
  b.onLocalCandidate((c) => void a.addRemoteCandidate(c).catch(() => {}));
  const delays: number[] = [];
  b.onRtp((p) => delays.push(performance.now() - Buffer.from(p.payload).readDoubleLE(0)));
  await a.acceptAnswer(await b.acceptOffer(await a.createOffer()));
  const t0 = Date.now();
  while (!(a.state === "connected" && b.state === "connected")) {
    if (Date.now() - t0 > 15_000) throw new Error("baseline peers did not connect");
    await sleep(20);
  }
  await sleep(500); // past the receiver's DTLS (the handshake the daemons' "ready" waits for)
  for (let i = 0; i < packets; i++) {
    const payload = Buffer.alloc(80);
    payload.writeDoubleLE(performance.now(), 0);
    a.sendRtp(payload, i, i * 960, false);
    await sleep(20);
  }
  await sleep(200);
  await a.close();
  await b.close();
  return delays;
}

export async function voiceLatency(o: VoiceLatencyOptions): Promise<Row[]> {
  const background = await sampleBackground(2);
  log(`machine busy before start: ${background.busyPct.toFixed(0)} %`);
  const coturn = await startCoturn();
  const source = await databaseSource("pglite");
  const db = await source.fresh();
  const server = await startTestServer(db, { turn: { urls: [coturn.url], secret: coturn.secret, ttlSeconds: 3600 } });
  const daemons: TestDaemon[] = [];
  try {
    const [alice, bob] = [await registerUser(server.url), await registerUser(server.url)];
    const channelId = randomUUID();
    await alice.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
    const key = randomBytes(32);
    const flags = (tone: string) => ["--audio-backend", tone, "--ptt", "", "--relay-only", "--stats-interval", "5"];
    const [a, b] = await Promise.all([startDaemon("bench-a", flags("tone:440:pulse")), startDaemon("bench-b", flags("tone:880:pulse"))]);
    daemons.push(a, b);

    // Baseline CPU: the daemons before they join (idle, not in a room).
    const idle0 = [cpuSeconds(a.pid), cpuSeconds(b.pid)];
    await sleep(3000);
    const idleCpu = ((cpuSeconds(a.pid) - idle0[0]! + cpuSeconds(b.pid) - idle0[1]!) / 2 / 3) * 100;

    const join = (d: TestDaemon, u: typeof alice) =>
      d.voice.join({ serverUrl: server.url, sessionToken: u.token, channelId, channelKey: key, keyEpoch: 1 });
    const joinedAt = Date.now();
    await join(a, alice);
    await join(b, bob);
    const ready = (peer: string) => (s: { members: Array<{ deviceId: string; ready: boolean }> }) =>
      s.members.some((m) => m.deviceId === peer && m.ready);
    await a.waitFor(ready(bob.deviceId), 30_000, "ready");
    await b.waitFor(ready(alice.deviceId), 30_000, "ready");
    const connectMs = Date.now() - joinedAt;
    await sleep(1500);

    log(`measuring ${o.seconds} s of call`);
    const from = Date.now();
    const cpu0 = [cpuSeconds(a.pid), cpuSeconds(b.pid)];
    await sleep(o.seconds * 1000);
    const cpu1 = [cpuSeconds(a.pid), cpuSeconds(b.pid)];
    await sleep(1200); // the last pulse's way to the recordings
    const wallS = o.seconds;
    const callCpu = [((cpu1[0]! - cpu0[0]!) / wallS) * 100, ((cpu1[1]! - cpu0[1]!) / wallS) * 100];
    const latencies = [...pulseLatencies(b, 440, from), ...pulseLatencies(a, 880, from)];
    const stats = [a, b].flatMap((d) =>
      d
        .log()
        .split("\n")
        .filter((l) => l.includes('"msg":"stats"'))
        .slice(-1),
    );

    log("transport baseline: werift RTP over the same TURN relay");
    const transport = await transportBaseline(coturn);

    const rows: Row[] = [
      {
        metric: "one-way latency p50",
        ours: pct(latencies, 50),
        baseline: pct(transport, 50),
        unit: "ms",
        note: "baseline: RTP one way over the TURN relay",
      },
      { metric: "one-way latency p95", ours: pct(latencies, 95), baseline: pct(transport, 95), unit: "ms" },
      { metric: "one-way latency max", ours: Math.max(...latencies), baseline: Math.max(...transport), unit: "ms" },
      { metric: "pulses measured", ours: latencies.length, baseline: transport.length, unit: "count", note: "one per second each way" },
      {
        metric: "CPU per peer in a call (sender A)",
        ours: callCpu[0]!,
        baseline: idleCpu,
        unit: "% of a core",
        note: "baseline: idle daemon",
      },
      { metric: "CPU per peer in a call (sender B)", ours: callCpu[1]!, baseline: idleCpu, unit: "% of a core" },
      { metric: "join to media ready", ours: connectMs, unit: "ms" },
    ];
    printTable("voice: one-way latency (tone onset at A → detection at B) and CPU per peer, relay-only over loopback TURN", rows);
    const file = await writeResult("voice-latency", {
      options: o,
      rows,
      latenciesMs: latencies,
      transportMs: transport,
      lastStats: stats,
      background,
    });
    log(`wrote ${file}`);
    return rows;
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    daemons.forEach(removeDaemonDir);
    await server.close();
    await db.close();
    await coturn.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { seconds: { type: "string", default: "20" }, help: { type: "boolean", short: "h" } } });
  if (values.help) {
    process.stdout.write("node --import tsx bench/voice-latency.ts [--seconds N]   (needs turnserver: apt-get install -y coturn)\n");
    process.exit(0);
  }
  voiceLatency({ seconds: Number(values.seconds) }).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`voice-latency: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
