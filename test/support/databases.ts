// Fresh, migrated databases for server tests: embedded PGlite (copied from a migrated
// template, which skips initdb per test) or a real PostgreSQL cluster started here.
import { openDatabase, type Database } from "../../server/db/client.js";
import { startPostgres } from "./postgres.js";

export type DbKind = "pglite" | "postgres";

export interface DatabaseSource {
  kind: DbKind;
  /** A new empty, migrated database. */
  fresh(): Promise<Database>;
  /** A new database with no migration applied (to migrate step by step, as an upgrade does). */
  unmigrated(): Promise<Database>;
  /** Closes `db` and opens its data again, as a server restart would. */
  restart(db: Database): Promise<Database>;
  stop(): Promise<void>;
}

let template: Promise<Blob> | undefined;

async function migratedTemplate(): Promise<Blob> {
  const db = await openDatabase({ kind: "pglite" });
  await db.migrate();
  const blob = await db.dump!();
  await db.close();
  return blob;
}

export async function databaseSource(kind: DbKind): Promise<DatabaseSource> {
  if (kind === "pglite") {
    return {
      kind,
      async fresh() {
        template ??= migratedTemplate();
        return openDatabase({ kind: "pglite", loadDataDir: await template });
      },
      unmigrated: () => openDatabase({ kind: "pglite" }),
      async restart(db) {
        // An in-memory PGlite dies with its handle: carry its data across.
        const blob = await db.dump!();
        await db.close();
        const again = await openDatabase({ kind: "pglite", loadDataDir: blob });
        await again.migrate();
        return again;
      },
      async stop() {},
    };
  }
  const pg = await startPostgres();
  const urlOf = new WeakMap<Database, string>();
  return {
    kind,
    async fresh() {
      const url = await pg.createDatabase();
      const db = await openDatabase({ kind: "postgres", url, maxConnections: 20 });
      await db.migrate();
      urlOf.set(db, url);
      return db;
    },
    async unmigrated() {
      const url = await pg.createDatabase();
      const db = await openDatabase({ kind: "postgres", url, maxConnections: 20 });
      urlOf.set(db, url);
      return db;
    },
    async restart(db) {
      const url = urlOf.get(db)!;
      await db.close();
      const again = await openDatabase({ kind: "postgres", url, maxConnections: 20 });
      await again.migrate();
      urlOf.set(again, url);
      return again;
    },
    stop: () => pg.stop(),
  };
}
