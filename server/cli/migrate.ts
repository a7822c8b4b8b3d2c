// `dialtone-server migrate`: applies pending migrations and exits (the server also
// applies them at start-up; this lets an upgrade migrate before the new version starts).
import type { Config } from "../config.js";
import { migrationStatus } from "../db/status.js";
import { openOffline, type Out } from "./offline.js";

export async function runMigrate(config: Config, out: Out): Promise<number> {
  return openOffline(config, async (database, where) => {
    const before = await migrationStatus(database);
    if (before.newerThanServer) {
      out(`dialtone-server migrate: ${where} was migrated by a newer dialtone-server; upgrade this one`);
      return 1;
    }
    await database.migrate();
    const after = await migrationStatus(database);
    const applied = before.pending.filter((t) => after.applied.includes(t));
    out(
      applied.length
        ? `migrations: applied ${applied.join(", ")} to ${where}; now at ${after.applied.at(-1)}`
        : `migrations: ${where} is up to date (${after.applied.at(-1) ?? "no migrations"})`,
    );
    return after.pending.length ? 1 : 0;
  });
}
