// Tables on stdout and JSON files in bench/results/.
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { BENCH_DIR, machineCpu, sleep } from "./proc.js";

export interface Row {
  metric: string;
  ours: number | string;
  baseline?: number | string;
  unit?: string;
  /** What the ratio means when it is not ours / baseline of the same unit. */
  note?: string;
}

/** A figure for a table: 3 significant digits or so; thousands grouped from `groupFrom` up. */
export const fmt = (v: number | string | undefined, groupFrom = 100_000): string => {
  if (v === undefined) return "—";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= groupFrom) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
};

export function ratio(r: Row): string {
  if (typeof r.ours !== "number" || typeof r.baseline !== "number" || !r.baseline) return "—";
  return `${(r.ours / r.baseline).toFixed(2)}×`;
}

export function printTable(title: string, rows: Row[], baselineName = "baseline"): void {
  const head = ["metric", "ours", baselineName, "ours/base", "unit"];
  const body = rows.map((r) => [r.metric, fmt(r.ours), fmt(r.baseline), ratio(r), (r.unit ?? "") + (r.note ? `  (${r.note})` : "")]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  process.stdout.write(`\n== ${title}\n${line(head)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n`);
  for (const b of body) process.stdout.write(`${line(b).trimEnd()}\n`);
}

let background: { busyPct: number; loadavg: number[] } | undefined;

/** Samples how busy the machine is before a scenario starts (other work on the box skews every figure). */
export async function sampleBackground(seconds = 2): Promise<{ busyPct: number; loadavg: number[] }> {
  const a = machineCpu();
  await sleep(seconds * 1000);
  const b = machineCpu();
  background = { busyPct: (100 * (b.busy - a.busy)) / (b.total - a.total), loadavg: os.loadavg() };
  return background;
}

export function machine() {
  return {
    backgroundBeforeScenario: background,
    loadavgAtEnd: os.loadavg(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
  };
}

export async function writeResult(scenario: string, data: unknown): Promise<string> {
  const dir = path.join(BENCH_DIR, "results");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${scenario}.json`);
  const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);
  await writeFile(
    file,
    `${JSON.stringify({ scenario, at: new Date().toISOString(), machine: machine(), ...(data as object) }, replacer, 2)}\n`,
  );
  return file;
}

export const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
