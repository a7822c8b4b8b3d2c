// Migrates a database only up to a given committed migration, as an older release left it: the
// journal is cut after that entry in a copy of the migrations folder, which drizzle then applies.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { type Database, migrationsFolder } from "../../server/db/client.js";

export async function migrateTo(db: Database, lastTag: string): Promise<void> {
  const journal = JSON.parse(await readFile(path.join(migrationsFolder, "meta", "_journal.json"), "utf8")) as {
    entries: Array<{ tag: string }>;
  };
  const last = journal.entries.findIndex((e) => e.tag === lastTag);
  if (last < 0) throw new Error(`no migration ${lastTag}`);
  const dir = await mkdtemp(path.join(tmpdir(), "dialtone-migrations-"));
  try {
    await mkdir(path.join(dir, "meta"));
    const entries = journal.entries.slice(0, last + 1);
    await writeFile(path.join(dir, "meta", "_journal.json"), JSON.stringify({ ...journal, entries }));
    for (const e of entries) await copyFile(path.join(migrationsFolder, `${e.tag}.sql`), path.join(dir, `${e.tag}.sql`));
    if (db.kind === "pglite") await migratePglite(db.db as never, { migrationsFolder: dir });
    else await migratePostgres(db.db as never, { migrationsFolder: dir });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
