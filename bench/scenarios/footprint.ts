// Footprint of the embedded server (issue 14): a real dialtone-server on PGlite, started on a
// fresh data dir (initdb, migrations, the first invite) and restarted on the same dir; the time
// from spawn to its "listening on" line, and its RSS once idle. Baseline, same rounds: PGlite
// alone in a bare node process on a data dir of its own, with the server's settings (the floor
// the database sets; --set pgliteDefaults=1 for PGlite's own). Rounds alternate ours and the
// baseline so load on a shared machine falls on both; medians.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pgliteStartParams } from "../../server/db/pglite.js";
import { startDialtone } from "../lib/dialtone.js";
import { num, type BenchOptions } from "../lib/options.js";
import { ROOT_DIR, rssBytes, sleep } from "../lib/proc.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";

const MB = 2 ** 20;

interface Sample {
  startMs: number;
  idleRssMB: number;
}

type Phase = "fresh" | "existing";

/** Ours: dialtone-server on `dataDir` until it listens, then idle for `settleS`. */
async function dialtoneOnce(dataDir: string, settleS: number): Promise<Sample> {
  const t0 = performance.now();
  const s = await startDialtone({ kind: "pglite", dataDir }, { label: "dialtone-server-footprint" });
  const startMs = performance.now() - t0;
  try {
    await sleep(settleS * 1000);
    return { startMs, idleRssMB: s.rss() / MB };
  } finally {
    await s.stop();
  }
}

// The server opens PGlite the same way (server/db/client.ts), in `${dataDir}/pgdata`.
const PGLITE_ALONE = `
import { PGlite } from "@electric-sql/pglite";
const params = JSON.parse(process.argv[2]);
const pg = await PGlite.create({ dataDir: process.argv[1] + "/pgdata", ...(params.length ? { startParams: params } : {}) });
await pg.query("select 1");
process.stdout.write("ready\\n");
process.on("SIGTERM", () => pg.close().then(() => process.exit(0)));
setInterval(() => {}, 1 << 30);
`;

/** Baseline: PGlite alone in `node`, from spawn to its first answer, then idle for `settleS`. */
async function pgliteOnce(dataDir: string, settleS: number, startParams: string[]): Promise<Sample> {
  const t0 = performance.now();
  const p = spawn(process.execPath, ["--input-type=module", "-e", PGLITE_ALONE, dataDir, JSON.stringify(startParams)], {
    cwd: ROOT_DIR,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  p.stderr.on("data", (b: Buffer) => (err += b));
  const exited = new Promise<void>((resolve) => p.once("exit", () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      p.stdout.on("data", (b: Buffer) => b.includes("ready") && resolve());
      void exited.then(() => reject(new Error(`PGlite alone exited before it was ready:\n${err}`)));
    });
    const startMs = performance.now() - t0;
    await sleep(settleS * 1000);
    return { startMs, idleRssMB: rssBytes(p.pid!) / MB };
  } finally {
    p.kill("SIGTERM");
    await exited;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function footprint(o: BenchOptions): Promise<void> {
  const rounds = num(o, "rounds", o.quick ? 1 : 3);
  const settleS = num(o, "settle", o.quick ? 2 : 5);
  const startParams = o.set.pgliteDefaults === "1" ? [] : pgliteStartParams();
  const samples: Record<"dialtone" | "pglite", Record<Phase, Sample[]>> = {
    dialtone: { fresh: [], existing: [] },
    pglite: { fresh: [], existing: [] },
  };
  for (let i = 0; i < rounds; i++) {
    for (const [kind, once] of [
      ["dialtone", dialtoneOnce],
      ["pglite", (dir: string, settle: number) => pgliteOnce(dir, settle, startParams)],
    ] as const) {
      const dir = await mkdtemp(path.join(os.tmpdir(), `dialtone-footprint-${kind}-`));
      try {
        for (const phase of ["fresh", "existing"] as const) {
          const s = await once(dir, settleS);
          samples[kind][phase].push(s);
          log(`footprint: ${kind} ${phase} (round ${i + 1}): started in ${s.startMs.toFixed(0)} ms, idle RSS ${s.idleRssMB.toFixed(0)} MB`);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
  const med = (kind: "dialtone" | "pglite", phase: Phase): Sample => ({
    startMs: median(samples[kind][phase].map((s) => s.startMs)),
    idleRssMB: median(samples[kind][phase].map((s) => s.idleRssMB)),
  });
  const results = {
    dialtone: { fresh: med("dialtone", "fresh"), existing: med("dialtone", "existing") },
    pglite: { fresh: med("pglite", "fresh"), existing: med("pglite", "existing") },
  };
  const rows: Row[] = [];
  for (const phase of ["fresh", "existing"] as const) {
    const where = phase === "fresh" ? "a fresh data dir" : "an existing data dir";
    rows.push(
      { metric: `start-up on ${where}`, ours: results.dialtone[phase].startMs, baseline: results.pglite[phase].startMs, unit: "ms" },
      {
        metric: `idle RSS after starting on ${where}`,
        ours: results.dialtone[phase].idleRssMB,
        baseline: results.pglite[phase].idleRssMB,
        unit: "MB",
        note: `after ${settleS} s idle`,
      },
    );
  }
  printTable(`footprint: embedded server (PGlite), medians of ${rounds} rounds`, rows, "PGlite alone");
  const file = await writeResult("footprint", {
    config: { rounds, settleS, baselineStartParams: startParams.length ? startParams : "PGlite's defaults" },
    results,
    samples,
    table: rows,
  });
  log(`footprint: wrote ${file}`);
}
