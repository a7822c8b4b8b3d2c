// How the embedded server runs PGlite (issue 14, footprint). PostgreSQL inside PGlite lives in
// the process's WebAssembly memory, which never shrinks, so two settings decide its RSS:
// - shared_buffers: PostgreSQL's default 128 MB is zeroed at start, so all of it is resident
//   (an idle embedded server was ~400 MB). 16 MB holds a small community's working set; pages
//   beyond it come from the OS page cache through PGlite's file system, not from disk.
// - initdb on a fresh data dir runs a second PostgreSQL instance and a tarball copy of the new
//   cluster (~500 MB) that stay resident until a full GC, which an idle server may never run; in
//   a worker thread, glibc's malloc keeps the arena (~300 MB idle). It runs in a child process,
//   whose memory goes back to the OS when it exits (~0.3 s more: a node start).
// A fresh data dir normally skips initdb: PGlite unpacks the pre-built cluster the build ships
// (prebuilt-cluster.ts) into it, also in the child. In the server's own process that start was
// ~2 s faster but left ~100 MB more resident for good: glibc's heap keeps what PGlite's unpacking
// allocated (the tarball, then a copy of each file; 64 MB of brk heap in smaps after a GC).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { findPrebuiltCluster } from "./prebuilt-cluster.js";

export const PGLITE_SHARED_BUFFERS = "16MB";

export const pgliteStartParams = (): string[] => [...PGlite.defaultStartParams, "-c", `shared_buffers=${PGLITE_SHARED_BUFFERS}`];

/** Where the cluster in a data dir came from, for the server's log. */
export type ClusterOrigin = { from: "existing" } | { from: "prebuilt"; migration: string } | { from: "initdb"; reason: string };

// Imports PGlite by the URL the server itself resolved (the bundle's node_modules, or the checkout's);
// given a tarball, PGlite unpacks it (loadDataDir) instead of running initdb.
const CREATE = `
const [pglite, dataDir, params, tarball] = process.argv.slice(1);
const { PGlite } = await import(pglite);
const { readFile } = await import("node:fs/promises");
const loadDataDir = tarball ? new Blob([await readFile(tarball)], { type: "application/gzip" }) : undefined;
await (await PGlite.create({ dataDir, startParams: JSON.parse(params), loadDataDir })).close();
`;

function runChild(dataDir: string, tarball?: string): Promise<void> {
  const args = [
    "--input-type=module",
    "-e",
    CREATE,
    import.meta.resolve("@electric-sql/pglite"),
    dataDir,
    JSON.stringify(pgliteStartParams()),
  ];
  if (tarball) args.push(tarball);
  return new Promise<void>((resolve, reject) => {
    execFile(process.execPath, args, { env: {}, maxBuffer: 1 << 20 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`creating the embedded database in ${dataDir} failed: ${stderr.trim() || err.message}`)) : resolve(),
    );
  });
}

/** The directory a new cluster is made in, beside `dataDir`, until it is renamed into place. */
const CREATING = ".creating-";

/**
 * Runs `create` on a directory beside `dataDir` and renames the result into place, so a process
 * killed meanwhile (a first start interrupted) leaves no half cluster that the next start would
 * take for an existing one. Leftovers of such a start are removed first. A `dataDir` that holds
 * files already (but no cluster) is someone's: the cluster is made in it, as initdb would.
 */
async function createWhole(dataDir: string, create: (dir: string) => Promise<void>): Promise<void> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return create(dataDir);
  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(parent)) {
    if (name.startsWith(`${basename(dataDir)}${CREATING}`)) rmSync(join(parent, name), { recursive: true, force: true });
  }
  const tmp = `${dataDir}${CREATING}${process.pid}`;
  mkdirSync(tmp, { mode: 0o700 });
  try {
    await create(tmp);
    renameSync(tmp, dataDir); // replaces an empty dataDir too
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Makes sure `dataDir` will hold a cluster: an existing one is kept; a fresh dir gets the
 * pre-built cluster in `clusterDir` when this PGlite can load it, else initdb in a child process.
 * Either is made whole before it appears at `dataDir` (createWhole).
 */
export async function initPgliteDataDir(dataDir: string, clusterDir?: string): Promise<ClusterOrigin> {
  if (existsSync(join(dataDir, "PG_VERSION"))) return { from: "existing" };
  const cluster = findPrebuiltCluster(clusterDir);
  if ("unusable" in cluster) {
    await createWhole(dataDir, (dir) => runChild(dir));
    return { from: "initdb", reason: cluster.unusable };
  }
  try {
    await createWhole(dataDir, (dir) => runChild(dir, cluster.file));
  } catch (err) {
    // A cluster this PGlite refuses, or a damaged tarball: nothing of it is left at dataDir.
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) throw err;
    await createWhole(dataDir, (dir) => runChild(dir));
    return { from: "initdb", reason: `the pre-built cluster did not load: ${(err as Error).message.split("\n")[0]}` };
  }
  return { from: "prebuilt", migration: cluster.manifest.migration };
}
