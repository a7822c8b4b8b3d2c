// npm run fuzz [-- --seconds N] [--target NAME]... [--seed S]
// Runs each fuzz target for N seconds (default 10), prints executions per target, and exits 1
// with the input, the error and a replay seed when a target finds something. Findings become
// regression cases in test/fuzz.test.ts.
import { parseArgs } from "node:util";
import { allTargets } from "./all.js";
import { drive } from "./drive.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    target: { type: "string", multiple: true, default: [] },
    seed: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
const targets = await allTargets();
if (values.help) {
  process.stdout.write(
    `npm run fuzz [-- --seconds N] [--target NAME]... [--seed S]\n\nTargets:\n${targets.map((t) => `  ${t.name.padEnd(18)} ${t.about}`).join("\n")}\n`,
  );
  process.exit(0);
}
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error(`--seconds: a positive number, not ${values.seconds}`);
const unknown = values.target.filter((n) => !targets.some((t) => t.name === n));
if (unknown.length) throw new Error(`--target: no target ${unknown.join(", ")} (see --help)`);
const chosen = values.target.length ? targets.filter((t) => values.target.includes(t.name)) : targets;
let failed = 0;
for (const t of chosen) {
  const r = await drive(t, { seconds, ...(values.seed ? { seed: Number(values.seed) } : {}) });
  const rate = Math.round(r.executions / (r.ms / 1000));
  console.log(
    `${t.name.padEnd(18)} ${String(r.executions).padStart(10)} executions in ${(r.ms / 1000).toFixed(1)} s (${rate}/s)${r.failure ? "  FAILED" : ""}`,
  );
  if (r.failure) {
    failed++;
    console.log(
      `  input: ${r.failure.input}\n  error: ${r.failure.error}\n  replay: npm run fuzz -- --target ${t.name} --seed ${r.failure.seed}`,
    );
  }
}
process.exit(failed ? 1 : 0);
