#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm ci` and `npm pack` run it): bundles the three programs
// with esbuild into dist/js/, where the bins load them without compiling TypeScript at run time.
//
// Pure-JavaScript dependencies are bundled in (one file to parse instead of hundreds to resolve:
// `dialtone --help` ~0.4 s instead of ~0.9 s with per-file tsc output). Packages stay external
// when they load files beside themselves (PGlite's WASM, terminal-kit's terminfo) or are large and
// needed only by one lazily loaded part (werift); native addons are loaded with createRequire and
// never seen by the bundler. Code splitting keeps `import()` lazy: the terminal UI and voice load
// only when used.
//
// Every output file sits two levels below the package root, like the sources it comes from, so
// paths the code builds from import.meta.url still hold: `../../bin/dialtone-voiced.js` (the
// client finding the daemon) and `./migrations` (copied next to the bundle).
//
// It also ships the pre-built PGlite cluster (server/db/prebuilt-cluster.ts): a fresh embedded
// data dir starts from it instead of running initdb. Making it costs an initdb (~11 s), so it is
// carried over from the previous dist/js/ while its inputs hash the same.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, cpSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const OUT = "dist/js";
const TMP = `dist/js.tmp-${process.pid}`;
const OLD = `dist/js.old-${process.pid}`;
// Sources saved while the build runs must count as newer than it.
const started = new Date();

const entryPoints = {
  dialtone: "client/main.ts",
  "dialtone-server": "server/main.ts",
  "dialtone-voiced": "voiced/main.ts",
};

rmSync(TMP, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: TMP,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // @echogarden/rnnoise-wasm loads rnnoise.wasm from beside itself (import.meta.url).
  external: ["@electric-sql/pglite", "terminal-kit", "werift", "@discordjs/opus", "naudiodon", "dbus-next", "@echogarden/rnnoise-wasm"],
  // Bundled CommonJS dependencies call require(); ESM output has none of its own.
  banner: { js: 'import { createRequire as __dialtoneRequire } from "node:module"; const require = __dialtoneRequire(import.meta.url);' },
  chunkNames: "chunk-[hash]",
  // Maps for stack traces (the bins enable them); without sourcesContent they stay small.
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "linked",
  logLevel: "warning",
});
cpSync("server/db/migrations", `${TMP}/migrations`, { recursive: true });
prebuiltCluster(TMP);
// The bins compare this file's mtime with the sources' (see bin/launch.js).
writeFileSync(`${TMP}/BUILD`, `${started.toISOString()}\n`);
utimesSync(`${TMP}/BUILD`, started, started);

// Swap the finished build in by renames, so a bin starting meanwhile never loads half of one
// (in the instant between them it finds no build and runs the sources).
rmSync(OLD, { recursive: true, force: true });
try {
  renameSync(OUT, OLD);
} catch (err) {
  if (err.code !== "ENOENT") throw err;
}
renameSync(TMP, OUT);
rmSync(OLD, { recursive: true, force: true });

/**
 * What the cluster is made of: PGlite's version, every migration file, and the code that opens
 * and migrates the database (its start parameters included).
 */
function clusterKey() {
  const hash = createHash("sha256");
  hash.update(JSON.parse(readFileSync("node_modules/@electric-sql/pglite/package.json", "utf8")).version);
  const files = readdirSync("server/db/migrations", { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .concat(["client.ts", "pglite.ts", "data-migrations.ts", "build-cluster.ts", "prebuilt-cluster.ts"].map((f) => join("server/db", f)))
    .sort();
  for (const f of files) hash.update(`\0${f}\0`).update(readFileSync(f));
  return hash.digest("hex");
}

/** Puts pgdata.tar.gz and pgdata.json in `dir`: the previous build's when current, else new. */
function prebuiltCluster(dir) {
  const key = clusterKey();
  try {
    if (JSON.parse(readFileSync(`${OUT}/pgdata.json`, "utf8")).key === key) {
      copyFileSync(`${OUT}/pgdata.tar.gz`, `${dir}/pgdata.tar.gz`);
      copyFileSync(`${OUT}/pgdata.json`, `${dir}/pgdata.json`);
      return;
    }
  } catch {
    // none, or unreadable: make a new one
  }
  const t0 = performance.now();
  // In its own process: the in-memory cluster and its dump (~500 MB) leave with it. Through tsx,
  // so the server's own migration code applies the migrations.
  execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      'const { buildPrebuiltCluster } = await import("./server/db/build-cluster.ts"); await buildPrebuiltCluster(...process.argv.slice(1));',
      dir,
      key,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  process.stderr.write(`build: pre-built the embedded database cluster in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
