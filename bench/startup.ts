// node --import tsx bench/startup.ts [--runs N]: start-up time of the three programs (`--help`,
// which loads what a headless command loads before it works), compiled bundle vs the TypeScript
// through tsx, beside a bare `node -e 0` measured in the same rounds. Runs are interleaved so a
// busy machine slows every row alike; the figure is the median wall time. Builds first.
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({ options: { runs: { type: "string", default: "15" } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: a positive integer, not ${values.runs}`);

execFileSync(process.execPath, [path.join(ROOT, "build.js")], { cwd: ROOT, stdio: "inherit" });

interface Row {
  name: string;
  argv: string[];
  env?: Record<string, string>;
  times: number[];
}
const bin = (name: string) => path.join(ROOT, "bin", `${name}.js`);
const rows: Row[] = [{ name: "node -e 0", argv: ["-e", "0"], times: [] }];
for (const name of ["dialtone", "dialtone-server", "dialtone-voiced"]) {
  rows.push({ name: `${name} --help`, argv: [bin(name), "--help"], times: [] });
  rows.push({ name: `${name} --help (sources, tsx)`, argv: [bin(name), "--help"], env: { DIALTONE_RUN_SOURCES: "1" }, times: [] });
}

for (let i = 0; i < runs; i++) {
  for (const row of rows) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, row.argv, { env: { ...process.env, ...row.env }, stdio: "ignore" });
    if (r.status !== 0) throw new Error(`${row.name} exited with ${r.status}`);
    row.times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const node = median(rows[0]!.times);
const target = 2 * node + 150;
process.stdout.write(`start-up, median of ${runs} interleaved runs (ms)\n`);
for (const row of rows) process.stdout.write(`  ${row.name.padEnd(40)} ${median(row.times).toFixed(0).padStart(6)}\n`);
const help = median(rows[1]!.times);
process.stdout.write(
  `target (issue 14): dialtone --help <= 2 x node -e 0 + 150 ms = ${target.toFixed(0)} ms: ${help.toFixed(0)} ms, ${help <= target ? "met" : "NOT met"}\n`,
);
