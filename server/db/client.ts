// Opens the database (embedded PGlite or PostgreSQL through postgres.js) and applies
// the committed migrations. The rest of the server sees only the `Database` handle.
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { runDataMigrations } from "./data-migrations.js";
import { type ClusterOrigin, initPgliteDataDir, pgliteStartParams } from "./pglite.js";
import * as schema from "./schema.js";
import type { Db } from "./types.js";

export type { Db, Executor, Schema } from "./types.js";

export interface Database {
  readonly kind: "pglite" | "postgres";
  readonly db: Db;
  /** Size of the connection pool (PGlite: 1, a single in-process connection). */
  readonly maxConnections: number;
  /** Applies pending migrations, SQL then data (idempotent). */
  migrate(): Promise<void>;
  /** Embedded on a data dir only: where its cluster came from (the server logs it). */
  readonly origin?: ClusterOrigin;
  /** Embedded only: a consistent copy of the whole database (tests, backups). */
  dump?(): Promise<Blob>;
  close(): Promise<void>;
}

export const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));

export type DatabaseOptions =
  | {
      kind: "pglite";
      dataDir?: string;
      loadDataDir?: Blob | File;
      /** Where a fresh data dir finds the pre-built cluster (default: the build's dist/js/). */
      prebuiltClusterDir?: string;
    }
  | { kind: "postgres"; url: string; maxConnections?: number };

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.kind === "pglite") {
    const origin = opts.dataDir && !opts.loadDataDir ? await initPgliteDataDir(opts.dataDir, opts.prebuiltClusterDir) : undefined;
    const client = await PGlite.create({
      startParams: pgliteStartParams(),
      ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
      ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
    });
    const db = drizzlePglite(client, { schema }) as unknown as Db;
    return {
      kind: "pglite",
      db,
      maxConnections: 1,
      ...(origin ? { origin } : {}),
      migrate: async () => {
        await migratePglite(db as never, { migrationsFolder });
        await runDataMigrations(db);
      },
      dump: () => client.dumpDataDir("none"),
      close: () => client.close(),
    };
  }
  const maxConnections = opts.maxConnections ?? 10;
  const client = preparing(
    postgres(opts.url, {
      max: maxConnections,
      onnotice: () => {},
      // bigint columns come back as JS bigint
      types: { bigint: postgres.BigInt },
    }),
  );
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  return {
    kind: "postgres",
    db,
    maxConnections,
    migrate: async () => {
      await migratePostgres(db as never, { migrationsFolder });
      await runDataMigrations(db);
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * drizzle hands every query to postgres.js's `unsafe` with `prepare: false` (for PgBouncer in
 * transaction mode), and postgres.js then describes each statement with parameters before
 * running it: two round trips and two socket writes per query, which were a third of a Send's
 * server CPU. Named prepared statements, cached per connection by postgres.js, make it one.
 * Transactions and savepoints get their own `sql`, so those are wrapped too.
 */
function preparing<T extends postgres.Sql>(sql: T): T {
  type Unsafe = (query: string, args?: unknown[], options?: Record<string, unknown>) => unknown;
  const s = sql as unknown as { unsafe: Unsafe; begin?: (...a: unknown[]) => unknown; savepoint?: (...a: unknown[]) => unknown };
  const unsafe = s.unsafe;
  s.unsafe = (query, args = [], options = {}) => unsafe(query, args, { ...options, prepare: true });
  for (const scope of ["begin", "savepoint"] as const) {
    const open = s[scope];
    if (!open) continue;
    // (fn) or (options/name, fn): the callback is last.
    s[scope] = (...a: unknown[]) => {
      const fn = a.pop() as (tx: postgres.Sql) => unknown;
      return open(...a, (tx: postgres.Sql) => fn(preparing(tx)));
    };
  }
  return sql;
}

/** The PostgreSQL error with SQLSTATE `code` in `err` or its causes (drizzle wraps driver errors). */
function pgError(err: unknown, code: string): { constraint?: string; constraint_name?: string } | undefined {
  for (let e: unknown = err, i = 0; e && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    if ((e as { code?: unknown }).code === code) return e as { constraint?: string; constraint_name?: string };
  }
  return undefined;
}

/** True when `err` (or its cause) is a PostgreSQL unique violation. */
export function isUniqueViolation(err: unknown): boolean {
  return pgError(err, "23505") !== undefined;
}

/** True when `err` is a foreign key violation of `constraint` (PGlite and postgres.js name the field differently). */
export function isForeignKeyViolation(err: unknown, constraint: string): boolean {
  const e = pgError(err, "23503");
  return !!e && (e.constraint ?? e.constraint_name) === constraint;
}
