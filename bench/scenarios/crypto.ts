// Crypto: client/crypto seal+open per message and envelope builds per second, beside
// `openssl speed -evp aes-256-gcm` (300-byte buffers) and `openssl speed ecdhx25519`.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { num, type BenchOptions } from "../lib/options.js";
import { startChild } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";
import type { Rate } from "../clients/crypto.js";

const run = promisify(execFile);

/** `openssl speed -mr` lines: "+R:<count>:<alg>:<seconds>" (symmetric), "+R7:<count>:<bits>:<seconds>" (ECDH). */
async function opensslSpeed(seconds: number) {
  const gcm = await run("openssl", ["speed", "-mr", "-seconds", String(seconds), "-bytes", "300", "-evp", "aes-256-gcm"]);
  const g = /^\+R:(\d+):AES-256-GCM:([\d.]+)$/m.exec(gcm.stdout + gcm.stderr);
  const x = await run("openssl", ["speed", "-mr", "-seconds", String(seconds), "ecdhx25519"]);
  const e = /^\+R7:(\d+):253:([\d.]+)$/m.exec(x.stdout + x.stderr);
  const version = (await run("openssl", ["version"])).stdout.trim();
  if (!g || !e) throw new Error(`could not parse openssl speed output:\n${gcm.stdout}\n${x.stdout}`);
  const gcmOps = Number(g[1]) / Number(g[2]);
  const x25519Ops = Number(e[1]) / Number(e[2]);
  return { version, aes256gcm300B: { opsPerCpuS: gcmOps, MBps: (gcmOps * 300) / 1e6 }, x25519: { opsPerCpuS: x25519Ops } };
}

export async function crypto(o: BenchOptions): Promise<void> {
  const seconds = num(o, "seconds", o.quick ? 1 : 2);
  const { child } = await startChild("clients/crypto.ts", { label: "crypto", opts: { seconds } });
  let ours: Record<string, Rate>;
  try {
    ours = await child.call<Record<string, Rate>>("run");
  } finally {
    await child.stop();
  }
  const ssl = await opensslSpeed(seconds);
  log(`crypto: ${ssl.version}`);
  const r = (x: Rate) => x.perCpuS;
  const rows: Row[] = [
    {
      metric: "seal+open one message (body 300 B + name)",
      ours: r(ours.sealOpenMessage!),
      baseline: ssl.aes256gcm300B.opsPerCpuS / 4,
      unit: "messages/CPU-s",
      note: "openssl: 4 AES-GCM ops of 300 B",
    },
    { metric: "  µs per message", ours: ours.sealOpenMessage!.usPerOp, baseline: 4e6 / ssl.aes256gcm300B.opsPerCpuS, unit: "µs" },
    {
      metric: "seal one 300-byte body",
      ours: r(ours.sealBody!),
      baseline: ssl.aes256gcm300B.opsPerCpuS,
      unit: "ops/CPU-s",
      note: "openssl AES-256-GCM, 300 B",
    },
    { metric: "open one 300-byte body", ours: r(ours.openBody!), baseline: ssl.aes256gcm300B.opsPerCpuS, unit: "ops/CPU-s" },
    {
      metric: "node:crypto AES-GCM seal+open 267 B",
      ours: r(ours.nodeGcmSealOpen!),
      baseline: ssl.aes256gcm300B.opsPerCpuS / 2,
      unit: "pairs/CPU-s",
      note: "floor under @peculiar/webcrypto",
    },
    {
      metric: "envelope builds (X25519+HKDF+GCM)",
      ours: r(ours.envelopeSeal!),
      baseline: ssl.x25519.opsPerCpuS,
      unit: "ops/CPU-s",
      note: "openssl X25519 derive",
    },
    { metric: "envelope opens", ours: r(ours.envelopeOpen!), baseline: ssl.x25519.opsPerCpuS, unit: "ops/CPU-s" },
    { metric: "node:crypto X25519 derive", ours: r(ours.nodeX25519!), baseline: ssl.x25519.opsPerCpuS, unit: "ops/CPU-s" },
    {
      metric: "envelopes for a 1,000-device rekey",
      ours: 1000 / r(ours.envelopeSeal!),
      baseline: 1000 / ssl.x25519.opsPerCpuS,
      unit: "CPU-s",
    },
  ];
  printTable("crypto: client/crypto (@peculiar/webcrypto) vs openssl speed", rows, "openssl");
  const file = await writeResult("crypto", {
    config: { seconds, bodyPlaintextBytes: 267, sealedBytes: 300 },
    ours,
    openssl: ssl,
    table: rows,
  });
  log(`crypto: wrote ${file}`);
}
