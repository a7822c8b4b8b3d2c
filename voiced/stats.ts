// The periodic stats line (every --stats-interval s, 10 by default, as the earlier daemon):
// bitrate, frames, loss, jitter and CPU, from counter deltas over the interval.
import type { EngineCounters } from "./audio/engine.js";
import type { PlayoutStats } from "./codec/playout.js";

export interface StatsSample {
  counters: EngineCounters;
  peers: PlayoutStats[];
  cpu: NodeJS.CpuUsage;
  atMs: number;
}

export function statsFields(prev: StatsSample, cur: StatsSample): Record<string, number> {
  const dt = Math.max(1, cur.atMs - prev.atMs);
  const d = (k: keyof EngineCounters) => cur.counters[k] - prev.counters[k];
  const sum = (xs: PlayoutStats[], k: "received" | "lost" | "late" | "concealed") => xs.reduce((a, p) => a + p[k], 0);
  // Per-peer counters restart with each peer: compare totals only while the peer set is stable.
  const received = Math.max(0, sum(cur.peers, "received") - sum(prev.peers, "received"));
  const lost = Math.max(0, sum(cur.peers, "lost") - sum(prev.peers, "lost"));
  const cpuMicros = cur.cpu.user - prev.cpu.user + (cur.cpu.system - prev.cpu.system);
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return {
    kbps_out: round1((d("bytesSent") * 8) / dt),
    kbps_out_all_peers: round1((d("bytesSentToPeers") * 8) / dt),
    kbps_in: round1((d("bytesReceived") * 8) / dt),
    frames_sent: d("framesSent"),
    frames_gated: d("framesGated"),
    packets_received: d("packetsReceived"),
    loss_pct: round1(received + lost > 0 ? (100 * lost) / (received + lost) : 0),
    late: Math.max(0, sum(cur.peers, "late") - sum(prev.peers, "late")),
    concealed: Math.max(0, sum(cur.peers, "concealed") - sum(prev.peers, "concealed")),
    jitter_ms: round1(Math.max(0, ...cur.peers.map((p) => p.jitterMs))),
    cpu_pct: round1((cpuMicros / 1000 / dt) * 100),
    capture_underruns: d("captureUnderruns"),
    peers: cur.peers.length,
  };
}
