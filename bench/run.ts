// npm run bench [-- SCENARIO...|targets] [--db postgres|pglite|both] [--profile] [--quick] [--set key=value]
// Runs the scenarios (default: all, in this order), prints a table per scenario (ours, the
// baseline measured in the same run, the ratio), writes bench/results/<scenario>.json, and
// ends with one table of issue 14's targets (bench/lib/targets.ts). The server under test is a real dialtone-server process;
// baselines and load generators run in processes of their own. See docs/PERFORMANCE.md.
import { parseArgs } from "node:util";
import { checkTargets } from "./lib/targets.js";
import type { BenchOptions } from "./lib/options.js";
import { log, sampleBackground } from "./lib/report.js";
import { cli } from "./scenarios/cli.js";
import { crypto } from "./scenarios/crypto.js";
import { denoise } from "./scenarios/denoise.js";
import { fanout } from "./scenarios/fanout.js";
import { footprint } from "./scenarios/footprint.js";
import { history } from "./scenarios/history.js";
import { mesh } from "./scenarios/mesh.js";
import { search } from "./scenarios/search.js";
import { send } from "./scenarios/send.js";
import { streams } from "./scenarios/streams.js";
import { voice } from "./scenarios/voice.js";

const SCENARIOS: Record<string, (o: BenchOptions) => Promise<void>> = {
  fanout,
  streams,
  send,
  history,
  footprint,
  cli,
  crypto,
  voice,
  mesh,
  denoise,
  search,
};
/** The scenarios the targets table reads (`npm run bench -- targets`). */
const TARGETS = ["fanout", "streams", "send", "history", "footprint", "cli"];

const HELP = `npm run bench [-- SCENARIO...] [options]

Scenarios (default: all, in this order; "targets": the six the targets table reads):
  fanout   1 sender → 1,000 Subscribe streams at 30 and 100 msg/s vs a raw ws broadcast server,
           on PostgreSQL, then at 30 msg/s on the embedded PGlite (server RSS sampled)
  streams  10k, then up to 50k idle Subscribe streams: RSS per stream, heartbeat CPU, vs raw ws
  send     SendMessage round trip, open loop at 100, 200 and 500 msg/s, on PostgreSQL (test
           settings; its defaults at 500) and PGlite, vs a raw ws server writing the same rows
  history  ListMessages pages of 100 in a channel of 1M messages, vs the bare SQL query
  footprint  the embedded server: start-up and idle RSS on a fresh and an existing data dir,
           vs PGlite alone in a node process
  cli      dialtone --help, whoami and send (compiled bins, keystore unlock) against a local
           server, vs node -e 0 and node running the keystore's scrypt
  crypto   seal+open per message and envelope builds per second vs openssl speed
  voice    one-way voice latency and CPU per peer (bench/voice-latency.ts; needs turnserver)
  mesh     voice CPU and bandwidth per daemon in rooms of 2, 4 and 8 peers (bench/voice-mesh.ts)
  denoise  CPU per sending stream of the capture chain with RNNoise vs without it
  search   the local message cache: 100,000 messages, query p50/p99, load time, size on disk,
           vs a linear scan of the same decrypted texts (no server)

Options:
  --db postgres|pglite|both   database(s) for fanout (default both)
  --profile              CPU-profile the server in the fastest fan-out phase and the first Send
                         variant, heap snapshots around the first streams step (bench/results/)
  --quick                small counts and short phases (smoke test; also BENCH_QUICK=1)
  --set key=value        scenario overrides, e.g. --set subscribers=500 --set rates=30,100,300

Environment:
  BENCH_QUICK=1          as --quick
  BENCH_SERVER_ROOT=DIR  run DIR/bin/dialtone-server.js (another checkout) as the server under test
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    db: { type: "string", default: "both" },
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
if (values.db !== "postgres" && values.db !== "pglite" && values.db !== "both")
  throw new Error(`--db: postgres, pglite or both, not ${values.db}`);
const named = positionals.flatMap((p) => (p === "targets" ? TARGETS : [p]));
const unknown = named.filter((p) => !(p in SCENARIOS));
if (unknown.length) {
  process.stderr.write(`unknown scenario ${unknown.join(", ")}\n\n${HELP}`);
  process.exit(2);
}
const opts: BenchOptions = {
  db: values.db,
  profile: values.profile,
  quick: values.quick || process.env.BENCH_QUICK === "1",
  set: Object.fromEntries(values.set.map((kv) => kv.split("=", 2) as [string, string])),
};
const chosen = named.length ? [...new Set(named)] : Object.keys(SCENARIOS);
const since = Date.now();
const t0 = performance.now();
const failed: string[] = [];
for (const name of chosen) {
  const bg = await sampleBackground();
  const t = performance.now();
  log(`${name}: start (machine ${bg.busyPct.toFixed(0)} % busy before it, load average ${bg.loadavg[0]!.toFixed(1)})`);
  if (bg.busyPct > 25) log(`${name}: WARNING: other work keeps this machine ${bg.busyPct.toFixed(0)} % busy: figures will be skewed`);
  try {
    await SCENARIOS[name]!(opts);
  } catch (err) {
    // One broken scenario should not cost the figures of the others.
    failed.push(name);
    log(`${name}: FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  log(`${name}: done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}
const elapsedS = (performance.now() - t0) / 1000;
await checkTargets(since, elapsedS);
log(`all done in ${elapsedS.toFixed(0)} s${opts.quick ? " (quick: small counts, not the figures of docs/PERFORMANCE.md)" : ""}`);
if (failed.length) log(`failed: ${failed.join(", ")}`);
process.exit(failed.length ? 1 : 0);
