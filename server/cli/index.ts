// Operator subcommands of dialtone-server (the server itself runs with no subcommand).
import { ConfigError, loadConfig } from "../config.js";
import { DataDirBusy } from "../datalock.js";
import { DatabaseUnreachable } from "../db/status.js";
import { runBackup, runRestore } from "./backup.js";
import { runDoctor } from "./doctor.js";
import { runMigrate } from "./migrate.js";

export const COMMANDS_HELP = `Commands:
  (none)          run the server
  migrate         apply pending database migrations and exit
  doctor          check configuration, data dir, TLS files, database, migrations, TURN
  backup FILE     embedded: copy the database to FILE (server stopped; .gz to compress);
                  PostgreSQL: pg_dump --format=custom to FILE
  restore FILE    embedded: restore a backup into an empty data dir
`;

const out = (line: string) => void process.stdout.write(`${line}\n`);

/** Runs a subcommand; resolves with the process exit code. */
export async function runCommand(command: string, args: string[]): Promise<number> {
  const fail = (msg: string, code = 2) => {
    process.stderr.write(`dialtone-server ${command}: ${msg}\n`);
    return code;
  };
  const wantArgs = command === "backup" || command === "restore" ? 1 : 0;
  if (!["migrate", "doctor", "backup", "restore"].includes(command)) return fail(`unknown command; see dialtone-server --help`);
  if (args.length !== wantArgs) return fail(wantArgs ? "expects one FILE argument" : "takes no arguments");
  if (command === "doctor") return runDoctor(process.env, out);
  try {
    const config = loadConfig();
    if (command === "migrate") return await runMigrate(config, out);
    if (command === "backup") return await runBackup(config, args[0]!, out);
    return await runRestore(config, args[0]!, out);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    if (err instanceof DatabaseUnreachable) return fail(`DIALTONE_DB_URL: ${err.message}`, 1);
    if (err instanceof DataDirBusy) return fail(err.message, 1);
    throw err;
  }
}
