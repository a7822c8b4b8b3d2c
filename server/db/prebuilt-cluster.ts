// The pre-built cluster (issue 14): `npm run build` ships an initialised, migrated PGlite cluster
// as dist/js/pgdata.tar.gz with a manifest beside it, and a fresh data dir starts from it instead
// of running initdb (~11 s here). It holds nothing per installation: the migrations create no
// keys or tokens (the server's secrets are files in the data dir, its first invite is minted at
// start), so every installation may share it. build-cluster.ts makes it; this file finds it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const CLUSTER_FILE = "pgdata.tar.gz";
export const MANIFEST_FILE = "pgdata.json";

export interface ClusterManifest {
  /** The PGlite version that wrote it: one of another release line may not read it. */
  pglite: string;
  /** build.js's hash of what the cluster is made from (its cache key). */
  key: string;
  /** The newest migration applied in it. */
  migration: string;
}

/**
 * Where the bins find it: every bundle file sits two levels below the package root like the
 * sources, so this is dist/js/ both from the bundle and from the TypeScript sources (a checkout
 * with a build; the manifest's PGlite version guards against a stale one).
 */
export const defaultClusterDir = fileURLToPath(new URL("../../dist/js/", import.meta.url));

/** The version of the PGlite this process loads (its package.json, resolved as the server resolves PGlite). */
export function installedPgliteVersion(): string {
  const pkg = new URL("../package.json", import.meta.resolve("@electric-sql/pglite"));
  return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
}

export type ClusterLookup = { file: string; manifest: ClusterManifest } | { unusable: string };

/** The pre-built cluster in `dir` if this process's PGlite can load it, else why not. */
export function findPrebuiltCluster(dir: string = defaultClusterDir): ClusterLookup {
  const file = join(dir, CLUSTER_FILE);
  const manifestFile = join(dir, MANIFEST_FILE);
  if (!existsSync(file) || !existsSync(manifestFile)) return { unusable: `no pre-built cluster in ${dir} (run npm run build)` };
  let manifest: ClusterManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as ClusterManifest;
  } catch (err) {
    return { unusable: `${manifestFile} is unreadable: ${(err as Error).message}` };
  }
  for (const field of ["pglite", "key", "migration"] as const)
    if (typeof manifest[field] !== "string") return { unusable: `${manifestFile} has no ${field}` };
  const running = installedPgliteVersion();
  if (releaseLine(manifest.pglite) !== releaseLine(running))
    return { unusable: `the pre-built cluster is for PGlite ${manifest.pglite}, this is ${running}` };
  return { file, manifest };
}

/**
 * PGlite versions that read each other's clusters share a release line: 0.5.x, or 1.x from 1.0
 * on. It is the range npm installs for `^0.5.16` (an installed package may well get 0.5.17, newer
 * than the build's), and the server already relies on it for every existing data dir after an
 * update. Should one still refuse the cluster, the server falls back to initdb (pglite.ts).
 */
function releaseLine(version: string): string {
  const [major, minor] = version.split(".");
  return major === "0" ? `0.${minor}` : `${major}`;
}
