// How the embedded server runs PGlite (issue 14, footprint). PostgreSQL inside PGlite lives in
// the process's WebAssembly memory, which never shrinks, so two settings decide its RSS:
// - shared_buffers: PostgreSQL's default 128 MB is zeroed at start, so all of it is resident
//   (an idle embedded server was ~400 MB). 16 MB holds a small community's working set; pages
//   beyond it come from the OS page cache through PGlite's file system, not from disk.
// - initdb on a fresh data dir runs a second PostgreSQL instance and a tarball copy of the new
//   cluster (~500 MB) that stay resident until a full GC, which an idle server may never run; in
//   a worker thread, glibc's malloc keeps the arena (~300 MB idle). It runs in a child process,
//   whose memory goes back to the OS when it exits (~0.3 s more: a node start).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";

export const PGLITE_SHARED_BUFFERS = "16MB";

export const pgliteStartParams = (): string[] => [...PGlite.defaultStartParams, "-c", `shared_buffers=${PGLITE_SHARED_BUFFERS}`];

// Imports PGlite by the URL the server itself resolved (the bundle's node_modules, or the checkout's).
const INITDB = `
const [pglite, dataDir, params] = process.argv.slice(1);
const { PGlite } = await import(pglite);
await (await PGlite.create({ dataDir, startParams: JSON.parse(params) })).close();
`;

/** Creates a PGlite cluster in `dataDir` if it has none, in a child process (see above). */
export async function initPgliteDataDir(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, "PG_VERSION"))) return;
  const args = [
    "--input-type=module",
    "-e",
    INITDB,
    import.meta.resolve("@electric-sql/pglite"),
    dataDir,
    JSON.stringify(pgliteStartParams()),
  ];
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, args, { env: {}, maxBuffer: 1 << 20 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`creating the embedded database in ${dataDir} failed: ${stderr.trim() || err.message}`)) : resolve(),
    );
  });
}
