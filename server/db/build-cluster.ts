// Makes the pre-built cluster (see prebuilt-cluster.ts) for build.js: an in-memory PGlite opened
// and migrated exactly as the server does it (openDatabase, Database.migrate), checkpointed (a
// dump of a running cluster is recovered at its first start: from here, next to no WAL to replay),
// dumped and gzipped (41 MB of files, ~5 MB packed).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { sql } from "drizzle-orm";
import { openDatabase } from "./client.js";
import { CLUSTER_FILE, type ClusterManifest, installedPgliteVersion, MANIFEST_FILE } from "./prebuilt-cluster.js";
import { migrationStatus } from "./status.js";

export async function buildPrebuiltCluster(outDir: string, key: string): Promise<ClusterManifest> {
  const database = await openDatabase({ kind: "pglite" });
  try {
    await database.migrate();
    const { applied, pending } = await migrationStatus(database);
    if (pending.length || !applied.length) throw new Error(`the pre-built cluster is not fully migrated (pending: ${pending.join(", ")})`);
    await database.db.execute(sql`CHECKPOINT`);
    const tar = new Uint8Array(await (await database.dump!()).arrayBuffer());
    const manifest: ClusterManifest = { pglite: installedPgliteVersion(), key, migration: applied.at(-1)! };
    writeFileSync(join(outDir, CLUSTER_FILE), gzipSync(tar, { level: 9 }));
    // The manifest last: a cluster without one is never used.
    writeFileSync(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    await database.close();
  }
}
