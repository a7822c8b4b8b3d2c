// The database handle types, apart from client.ts so that code client.ts runs (the data
// migrations and the repositories they use) can name them without an import cycle.
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "./schema.js";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A database or an open transaction: repositories accept either. */
export type Executor = Pick<Db, "select" | "insert" | "update" | "delete" | "execute">;
