// A fresh embedded data dir starts from the build's pre-built cluster (issue 14) and ends up with
// exactly the database initdb and the migrations give; without a usable one it falls back to
// initdb, and an older one is migrated the rest of the way. Real PGlite throughout (slow: every
// initdb here is ~10 s).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { sql } from "drizzle-orm";
import { buildPrebuiltCluster } from "../server/db/build-cluster.js";
import { type Database, openDatabase } from "../server/db/client.js";
import {
  CLUSTER_FILE,
  type ClusterManifest,
  defaultClusterDir,
  findPrebuiltCluster,
  installedPgliteVersion,
  MANIFEST_FILE,
} from "../server/db/prebuilt-cluster.js";
import { migrationStatus } from "../server/db/status.js";
import { migrateTo } from "./support/migrate-to.js";
import { freePort } from "./support/ports.js";
import { cleanEnv, startServerProcess, tempDir } from "./support/process.js";

const tmp = tempDir("dialtone-prebuilt-");
const dir = (name: string) => {
  const d = path.join(tmp.dir, name);
  mkdirSync(d, { recursive: true });
  return d;
};

function rowsOf(res: unknown): unknown[] {
  return Array.isArray(res) ? res : (res as { rows: unknown[] }).rows;
}

/** Everything the migrations decide: tables, columns, indexes, constraints, and what they recorded. */
async function schemaOf(db: Database): Promise<Record<string, unknown[]>> {
  const q = async (query: ReturnType<typeof sql>) => rowsOf(await db.db.execute(query));
  return {
    columns: await q(sql`SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default
      FROM information_schema.columns WHERE table_schema IN ('public', 'drizzle') ORDER BY 1, 2, 3`),
    indexes: await q(sql`SELECT schemaname, indexname, indexdef FROM pg_indexes WHERE schemaname IN ('public', 'drizzle') ORDER BY 1, 2`),
    constraints: await q(sql`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE connamespace IN ('public'::regnamespace, 'drizzle'::regnamespace) ORDER BY 1`),
    migrations: await q(sql`SELECT hash, created_at FROM drizzle.__drizzle_migrations ORDER BY created_at`),
    dataMigrations: await q(sql`SELECT name FROM data_migrations ORDER BY name`),
    eventHead: await q(sql`SELECT id, seq FROM event_head`),
  };
}

/** Opens a fresh data dir the way the server does, migrates it, and returns where it came from and its schema. */
async function startFresh(name: string, prebuiltClusterDir: string) {
  const dataDir = path.join(dir(name), "pgdata");
  const db = await openDatabase({ kind: "pglite", dataDir, prebuiltClusterDir });
  try {
    await db.migrate();
    return { origin: db.origin, schema: await schemaOf(db), status: await migrationStatus(db) };
  } finally {
    await db.close();
  }
}

let current: string;
let fromInitdb: Awaited<ReturnType<typeof startFresh>>;

beforeAll(async () => {
  current = dir("current");
  await buildPrebuiltCluster(current, "test");
  fromInitdb = await startFresh("initdb-dir", dir("no-cluster"));
}, 180_000);

afterAll(() => tmp.remove());

describe("the pre-built cluster", () => {
  test("records the PGlite that made it and its newest migration", () => {
    const manifest = JSON.parse(readFileSync(path.join(current, MANIFEST_FILE), "utf8")) as ClusterManifest;
    expect(manifest).toEqual({ pglite: installedPgliteVersion(), key: "test", migration: fromInitdb.status.known.at(-1) });
  });

  test("a fresh data dir starts from it, with the same database as initdb and the migrations give", async () => {
    const r = await startFresh("prebuilt-dir", current);
    expect(r.origin).toEqual({ from: "prebuilt", migration: r.status.known.at(-1) });
    expect(r.status.pending).toEqual([]);
    expect(r.schema.columns.length).toBeGreaterThan(50);
    expect(r.schema).toEqual(fromInitdb.schema);
  }, 120_000);

  test("without one, a fresh data dir falls back to initdb and says why", () => {
    expect(fromInitdb.origin).toEqual({ from: "initdb", reason: expect.stringContaining("no pre-built cluster") });
    expect(fromInitdb.status.pending).toEqual([]);
  });

  test("one made by another PGlite release line is not used", () => {
    const other = dir("other-pglite");
    writeFileSync(path.join(other, CLUSTER_FILE), readFileSync(path.join(current, CLUSTER_FILE)));
    const manifest = JSON.parse(readFileSync(path.join(current, MANIFEST_FILE), "utf8")) as ClusterManifest;
    writeFileSync(path.join(other, MANIFEST_FILE), JSON.stringify({ ...manifest, pglite: "0.0.1" }));
    expect(findPrebuiltCluster(other)).toEqual({
      unusable: `the pre-built cluster is for PGlite 0.0.1, this is ${installedPgliteVersion()}`,
    });
  });

  test("one made by another patch release of this PGlite's line is used (an install may get a newer patch)", () => {
    const [major, minor] = installedPgliteVersion().split(".");
    const patch = dir("other-patch");
    writeFileSync(path.join(patch, CLUSTER_FILE), readFileSync(path.join(current, CLUSTER_FILE)));
    const manifest = JSON.parse(readFileSync(path.join(current, MANIFEST_FILE), "utf8")) as ClusterManifest;
    writeFileSync(path.join(patch, MANIFEST_FILE), JSON.stringify({ ...manifest, pglite: `${major}.${minor}.999` }));
    expect(findPrebuiltCluster(patch)).toEqual({
      file: path.join(patch, CLUSTER_FILE),
      manifest: { ...manifest, pglite: `${major}.${minor}.999` },
    });
  });

  test("one that does not load leaves no trace: the data dir falls back to initdb and says why", async () => {
    const damaged = dir("damaged");
    writeFileSync(path.join(damaged, CLUSTER_FILE), gzipSync(Buffer.from("not a tar archive, not a cluster")));
    writeFileSync(path.join(damaged, MANIFEST_FILE), readFileSync(path.join(current, MANIFEST_FILE)));
    const r = await startFresh("damaged-dir", damaged);
    expect(r.origin).toEqual({ from: "initdb", reason: expect.stringContaining("the pre-built cluster did not load") });
    expect(r.schema).toEqual(fromInitdb.schema);
  }, 120_000);

  test("a first start killed while creating leaves nothing at the data dir; the next start clears its leftovers", async () => {
    const parent = dir("interrupted");
    const dataDir = path.join(parent, "pgdata");
    // What a start killed mid-unpack leaves behind: a half cluster beside the data dir, never in it.
    const leftover = path.join(parent, "pgdata.creating-99999");
    mkdirSync(path.join(leftover, "base"), { recursive: true });
    writeFileSync(path.join(leftover, "PG_VERSION"), "17\n");
    mkdirSync(dataDir); // an empty data dir (made by the operator) is fine too
    const r = await startFresh("interrupted", current);
    expect(r.origin).toEqual({ from: "prebuilt", migration: expect.any(String) });
    expect(r.schema).toEqual(fromInitdb.schema);
    expect(readdirSync(parent).sort()).toEqual(["pgdata"]);
  }, 120_000);

  test("a manifest without a field is not used, and says which field", () => {
    const broken = dir("broken-manifest");
    writeFileSync(path.join(broken, CLUSTER_FILE), readFileSync(path.join(current, CLUSTER_FILE)));
    writeFileSync(path.join(broken, MANIFEST_FILE), JSON.stringify({ pglite: installedPgliteVersion(), key: "k" }));
    expect(findPrebuiltCluster(broken)).toEqual({ unusable: expect.stringContaining("has no migration") });
  });

  test("an older one (fewer migrations) is migrated the rest of the way", async () => {
    // As a build from an older release left it: migrated up to 0005, checkpointed, dumped.
    const older = dir("older");
    const db = await openDatabase({ kind: "pglite" });
    try {
      await migrateTo(db, "0005_data_migrations");
      await db.db.execute(sql`CHECKPOINT`);
      writeFileSync(path.join(older, CLUSTER_FILE), gzipSync(new Uint8Array(await (await db.dump!()).arrayBuffer())));
    } finally {
      await db.close();
    }
    const manifest: ClusterManifest = { pglite: installedPgliteVersion(), key: "older", migration: "0005_data_migrations" };
    writeFileSync(path.join(older, MANIFEST_FILE), JSON.stringify(manifest));
    const r = await startFresh("older-dir", older);
    expect(r.origin).toEqual({ from: "prebuilt", migration: "0005_data_migrations" });
    expect(r.status.pending).toEqual([]);
    expect(r.schema).toEqual(fromInitdb.schema);
  }, 120_000);
});

describe("dialtone-server on a fresh data dir", () => {
  test("starts from the build's pre-built cluster and says so in its log", async () => {
    if (!existsSync(path.join(defaultClusterDir, MANIFEST_FILE)))
      throw new Error(`no pre-built cluster in ${defaultClusterDir}: run npm run build (npm test does it first)`);
    const dataDir = path.join(tmp.dir, "server-data");
    const server = await startServerProcess(
      cleanEnv({ DIALTONE_LISTEN_ADDR: `127.0.0.1:${await freePort()}`, DIALTONE_DATA_DIR: dataDir, DIALTONE_LOG_FORMAT: "json" }),
      120_000,
    );
    try {
      // Log lines are held until the banner, then written in order: "listening" comes after ours.
      while (!server.stderr().includes('"msg":"listening"')) await new Promise((r) => setTimeout(r, 20));
      const created = server
        .stderr()
        .split("\n")
        .filter((l) => l.includes("embedded database created"))
        .map((l) => JSON.parse(l) as { msg: string; migration?: string });
      expect(created).toEqual([
        expect.objectContaining({ msg: "embedded database created from the pre-built cluster", migration: fromInitdb.status.known.at(-1) }),
      ]);
      expect(server.stdout()).toMatch(/invite:\s+\S+/);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  }, 180_000);
});
