// Prints the tables of the last run (bench/results/*.json) as Markdown, with the machine and
// how busy other work kept it, for docs/PERFORMANCE.md.
//   node --import tsx bench/markdown.ts [SCENARIO...]
import { readFile } from "node:fs/promises";
import path from "node:path";
import { BENCH_DIR } from "./lib/proc.js";
import { fmt, ratio, type Row } from "./lib/report.js";
import type { TargetRow } from "./lib/targets.js";

const names = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ["fanout", "fanout-pglite", "streams", "send", "history", "footprint", "cli", "crypto", "voice-latency", "denoise", "summary"];
// Markdown tables group thousands from 10,000 (the terminal tables from 100,000).
const fmtMd = (v: number | string | undefined) => fmt(v, 10_000);

for (const name of names) {
  let j: {
    at: string;
    machine?: {
      backgroundBeforeScenario?: { busyPct: number; loadavg: number[] };
      cpus: number;
      cpuModel: string;
      memGiB: number;
      node: string;
    };
    table?: Row[];
    rows?: Row[];
    targets?: TargetRow[];
  };
  try {
    j = JSON.parse(await readFile(path.join(BENCH_DIR, "results", `${name}.json`), "utf8"));
  } catch {
    continue;
  }
  const rows = j.table ?? j.rows ?? [];
  const m = j.machine;
  const bg = m?.backgroundBeforeScenario;
  process.stdout.write(`\n### ${name}\n\n`);
  if (m)
    process.stdout.write(
      `${j.at}: ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, Node ${m.node}${bg ? `; other work kept the machine ${bg.busyPct.toFixed(0)} % busy just before (load average ${bg.loadavg[0]!.toFixed(1)})` : ""}\n\n`,
    );
  if (j.targets) {
    process.stdout.write("| target | ours | baseline | limit | unit | verdict | note |\n|---|--:|--:|--:|---|---|---|\n");
    for (const t of j.targets)
      process.stdout.write(
        `| ${t.target} | ${fmtMd(t.ours)} | ${fmtMd(t.baseline)} | ${fmtMd(t.limit)} | ${t.unit} | ${t.verdict === "MISSED" ? "**missed**" : t.verdict} | ${t.note ?? ""} |\n`,
      );
    continue;
  }
  process.stdout.write("| metric | ours | baseline | ours/base | unit | note |\n|---|--:|--:|--:|---|---|\n");
  for (const r of rows)
    process.stdout.write(
      `| ${r.metric.trim()} | ${fmtMd(r.ours)} | ${fmtMd(r.baseline)} | ${ratio(r)} | ${r.unit ?? ""} | ${r.note ?? ""} |\n`,
    );
}
