// npm run bench [-- SCENARIO...] [--db postgres|pglite] [--profile] [--quick] [--set key=value]
// Runs the scenarios (default: all, in this order), prints a table per scenario and writes
// bench/results/<scenario>.json. Servers and load generators run in separate processes.
import { parseArgs } from "node:util";
import type { BenchOptions } from "./lib/options.js";
import { log, sampleBackground } from "./lib/report.js";
import { crypto } from "./scenarios/crypto.js";
import { fanout } from "./scenarios/fanout.js";
import { history } from "./scenarios/history.js";
import { send } from "./scenarios/send.js";
import { streams } from "./scenarios/streams.js";

const SCENARIOS: Record<string, (o: BenchOptions) => Promise<void>> = { fanout, streams, send, history, crypto };

const HELP = `npm run bench [-- SCENARIO...] [options]

Scenarios (default: all): ${Object.keys(SCENARIOS).join(", ")}
  fanout   1 sender → 1,000 Subscribe streams at 30 and 100 msg/s vs a raw ws broadcast server
  streams  10k, then up to 50k idle Subscribe streams: RSS per stream, heartbeat CPU, vs raw ws
  send     SendMessage round trip, open loop at 500 msg/s, PostgreSQL (fast and durable) and PGlite
  history  ListMessages pages of 100 in a channel of 1M messages, vs the bare SQL query
  crypto   seal+open per message and envelope builds per second vs openssl speed

Options:
  --db postgres|pglite   database for fanout and streams (default postgres)
  --profile              CPU-profile the server during the fastest fan-out phase
                         (bench/results/fanout-server.cpuprofile; summary in fanout.json)
  --quick                small counts and short phases (smoke test)
  --set key=value        scenario overrides, e.g. --set subscribers=500 --set rates=30,100,300
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    db: { type: "string", default: "postgres" },
    profile: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    set: { type: "string", multiple: true, default: [] },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (values.db !== "postgres" && values.db !== "pglite") throw new Error(`--db: postgres or pglite, not ${values.db}`);
const unknown = positionals.filter((p) => !(p in SCENARIOS));
if (unknown.length) {
  process.stderr.write(`unknown scenario ${unknown.join(", ")}\n\n${HELP}`);
  process.exit(2);
}
const opts: BenchOptions = {
  db: values.db,
  profile: values.profile,
  quick: values.quick,
  set: Object.fromEntries(values.set.map((kv) => kv.split("=", 2) as [string, string])),
};
const chosen = positionals.length ? positionals : Object.keys(SCENARIOS);
const t0 = performance.now();
for (const name of chosen) {
  const bg = await sampleBackground();
  const t = performance.now();
  log(`${name}: start (machine ${bg.busyPct.toFixed(0)} % busy before it, load average ${bg.loadavg[0]!.toFixed(1)})`);
  if (bg.busyPct > 25) log(`${name}: WARNING: other work keeps this machine ${bg.busyPct.toFixed(0)} % busy: figures will be skewed`);
  await SCENARIOS[name]!(opts);
  log(`${name}: done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}
log(`all done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
process.exit(0);
