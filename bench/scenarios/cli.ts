// The `dialtone` CLI as a user runs it (issue 14): wall time of `dialtone --help`, `dialtone
// whoami` and `dialtone send` from the compiled bins (built first), against a local embedded
// dialtone-server this scenario starts, with an account registered through the CLI itself. Each
// whoami and send unlocks the keystore (scrypt, passphrase from DIALTONE_PASSPHRASE) exactly as a
// user's command does. Baselines in the same rounds: a bare `node -e 0`, and node running the
// keystore's scrypt alone (the floor of any command that opens the keystore). Rows are
// interleaved so a busy machine slows all alike; the figure is the median.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { KEYSTORE_SCRYPT_PARAMS } from "../../client/crypto/keystore-format.js";
import { startDialtone } from "../lib/dialtone.js";
import { num, type BenchOptions } from "../lib/options.js";
import { ROOT_DIR } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";

const { N, r, p } = KEYSTORE_SCRYPT_PARAMS;
// node's default maxmem (32 MiB) is exactly 128·N·r: give scrypt room, as the client does.
const SCRYPT_ALONE = `require("node:crypto").scrypt("bench passphrase", Buffer.alloc(16), 32, { N: ${N}, r: ${r}, p: ${p}, maxmem: 256 * 1024 * 1024 }, (e) => { if (e) throw e; })`;

interface Cmd {
  name: string;
  argv: string[];
  times: number[];
}

function timed(argv: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const start = process.hrtime.bigint();
  const res = spawnSync(process.execPath, argv, { env, cwd, stdio: ["ignore", "ignore", "pipe"], timeout: 60_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 0) throw new Error(`node ${argv.join(" ").slice(0, 200)} exited ${res.status}: ${res.stderr.toString().slice(-2000)}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function cli(o: BenchOptions): Promise<void> {
  const runs = num(o, "runs", o.quick ? 3 : 9);
  log("cli: npm run build (the bins run the bundle only when it is newer than every source)");
  execFileSync(process.execPath, [path.join(ROOT_DIR, "build.js")], { cwd: ROOT_DIR, stdio: "inherit" });

  const tmp = await mkdtemp(path.join(os.tmpdir(), "dialtone-bench-cli-"));
  const server = await startDialtone({ kind: "pglite", dataDir: path.join(tmp, "server") }, { label: "dialtone-server-cli" });
  try {
    const invite = /invite:\s+(\S+)/.exec(server.log())?.[1];
    if (!invite) throw new Error(`dialtone-server printed no invite:\n${server.log()}`);
    const home = path.join(tmp, "home");
    for (const d of ["config", "data", "run"]) await mkdir(path.join(home, d), { recursive: true, mode: 0o700 });
    // A user's environment: nothing of this process's DIALTONE_* settings or NODE_OPTIONS.
    const env: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("DIALTONE_") && k !== "NODE_OPTIONS"),
    );
    Object.assign(env, {
      XDG_CONFIG_HOME: path.join(home, "config"),
      XDG_DATA_HOME: path.join(home, "data"),
      XDG_RUNTIME_DIR: path.join(home, "run"),
      DIALTONE_PASSWORD: "bench password 1",
      DIALTONE_PASSPHRASE: "bench keystore passphrase",
    });
    const dialtone = path.join(ROOT_DIR, "bin", "dialtone.js");
    timed([dialtone, "register", "--server", server.url, "--username", "bencher", "--invite", invite], env, tmp);
    timed([dialtone, "channel", "create", "bench"], env, tmp);

    const cmds: Cmd[] = [
      { name: "node -e 0", argv: ["-e", "0"], times: [] },
      { name: "node + keystore scrypt", argv: ["-e", SCRYPT_ALONE], times: [] },
      { name: "dialtone --help", argv: [dialtone, "--help"], times: [] },
      { name: "dialtone whoami", argv: [dialtone, "whoami"], times: [] },
      { name: "dialtone send", argv: [dialtone, "send", "bench", "a message from the bench"], times: [] },
    ];
    // One untimed round: the page cache and the server's first requests.
    for (const c of cmds) timed(c.argv, env, tmp);
    for (let i = 0; i < runs; i++) for (const c of cmds) c.times.push(timed(c.argv, env, tmp));
    const m = Object.fromEntries(cmds.map((c) => [c.name, median(c.times)]));
    const results = {
      nodeMs: m["node -e 0"]!,
      scryptFloorMs: m["node + keystore scrypt"]!,
      helpMs: m["dialtone --help"]!,
      whoamiMs: m["dialtone whoami"]!,
      sendMs: m["dialtone send"]!,
    };
    for (const c of cmds) log(`cli: ${c.name}: median ${m[c.name]!.toFixed(0)} ms (${c.times.map((t) => t.toFixed(0)).join(", ")})`);
    const rows: Row[] = [
      { metric: "dialtone --help", ours: results.helpMs, baseline: results.nodeMs, unit: "ms", note: "baseline: node -e 0" },
      {
        metric: "dialtone whoami (keystore unlock, one request)",
        ours: results.whoamiMs,
        baseline: results.scryptFloorMs,
        unit: "ms",
        note: "baseline: node + scrypt",
      },
      {
        metric: "dialtone send (keystore unlock, seal, send)",
        ours: results.sendMs,
        baseline: results.scryptFloorMs,
        unit: "ms",
        note: "baseline: node + scrypt",
      },
      {
        metric: "node + keystore scrypt",
        ours: results.scryptFloorMs,
        baseline: results.nodeMs,
        unit: "ms",
        note: `N=${N}, r=${r}, p=${p}`,
      },
    ];
    printTable(`CLI against a local embedded server, compiled bins, medians of ${runs} interleaved runs`, rows);
    const file = await writeResult("cli", {
      config: { runs, server: "dialtone-server on PGlite, same machine", scrypt: KEYSTORE_SCRYPT_PARAMS },
      results,
      times: Object.fromEntries(cmds.map((c) => [c.name, c.times])),
      table: rows,
    });
    log(`cli: wrote ${file}`);
  } finally {
    await server.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}
