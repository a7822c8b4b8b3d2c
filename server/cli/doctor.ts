// `dialtone-server doctor`: checks the configuration, the data dir, TLS files, the
// database (reachable, migrations applied), the running server and TURN. One line per
// check: `ok`, `warn`, `FAIL`, `skip` or `info`; exits 1 when anything failed, 2 when the
// configuration itself is invalid. Prints no secret.
import { X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { constants } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import { ConfigError, loadConfig, type Config } from "../config.js";
import { lockDataDir, lockHolder } from "../datalock.js";
import { openDatabase, type Database } from "../db/client.js";
import { checkPostgres, describeUrl, migrationStatus, type MigrationStatus } from "../db/status.js";
import { parseIceUrl, stunBinding, turnAllocate } from "./stun.js";

type Status = "ok" | "warn" | "FAIL" | "skip" | "info";
export type Out = (line: string) => void;

export async function runDoctor(env: Record<string, string | undefined>, out: Out): Promise<number> {
  let failed = 0;
  const say = (status: Status, check: string, detail: string) => {
    if (status === "FAIL") failed++;
    out(`${status.padEnd(4)}  ${check}: ${detail}`);
  };

  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    say("FAIL", "config", err.message);
    return 2;
  }
  const listen = `${config.listenHost.includes(":") ? `[${config.listenHost}]` : config.listenHost}:${config.listenPort}`;
  say(
    "ok",
    "config",
    `listen ${listen}, database ${config.dbUrl ? `PostgreSQL ${describeUrl(config.dbUrl)}` : "embedded"}, ` +
      `TLS ${config.tls ? "on" : "off"}, TURN ${config.turnUrls.length} URL(s)${config.turnSecret ? " with secret" : ""}`,
  );
  for (const w of config.warnings) say("warn", "config", w);

  await checkDataDir(config, say);
  if (config.tls) await checkTls(config.tls, say);
  const status = await checkDatabase(config, say);
  if (status) reportMigrations(status, say);
  await checkServer(config, listen, say);
  await checkTurn(config, say);

  out(failed ? `doctor: ${failed} problem${failed > 1 ? "s" : ""} found` : "doctor: no problems found");
  return failed ? 1 : 0;
}

type Say = (status: Status, check: string, detail: string) => void;

async function checkDataDir(config: Config, say: Say) {
  const dir = config.dataDir;
  if (config.dbUrl) {
    say("ok", "data dir", "not used (PostgreSQL; the secrets come from the environment)");
    return;
  }
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(dir);
  } catch {
    say("warn", "data dir", `${dir} does not exist yet; the server creates it (mode 0700) on first start`);
    return;
  }
  if (!st.isDirectory()) return say("FAIL", "data dir", `${dir} is not a directory (DIALTONE_DATA_DIR)`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    return say("FAIL", "data dir", `${dir} belongs to uid ${st.uid}, this process runs as uid ${uid}: run as that user or chown it`);
  }
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch {
    return say("FAIL", "data dir", `${dir} is not writable by this user`);
  }
  const mode = st.mode & 0o777;
  if (mode & 0o077) return say("FAIL", "data dir", `${dir} has mode 0${mode.toString(8)}: others may read its secrets; chmod 700 ${dir}`);
  for (const file of ["admin-token", "username-pepper"]) {
    const fst = await stat(join(dir, file)).catch(() => undefined);
    if (fst && fst.mode & 0o077) {
      return say("FAIL", "data dir", `${join(dir, file)} has mode 0${(fst.mode & 0o777).toString(8)}; chmod 600 it`);
    }
  }
  say("ok", "data dir", `${dir} (mode 0${mode.toString(8)}, owned by this user, writable)`);
}

async function checkTls(files: NonNullable<Config["tls"]>, say: Say) {
  let cert: Buffer, key: Buffer;
  try {
    [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  } catch (err) {
    return say(
      "FAIL",
      "tls",
      `cannot read ${(err as { path?: string }).path ?? "the certificate or key"} (DIALTONE_TLS_CERT/DIALTONE_TLS_KEY)`,
    );
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    return say("FAIL", "tls", `certificate and key do not load together: ${(err as Error).message}`);
  }
  const x = new X509Certificate(cert);
  const days = Math.floor((new Date(x.validTo).getTime() - Date.now()) / 86_400_000);
  const names = x.subjectAltName ?? x.subject;
  if (days < 0) return say("FAIL", "tls", `certificate expired on ${x.validTo} (${names})`);
  say(days < 14 ? "warn" : "ok", "tls", `certificate for ${names}, valid until ${x.validTo} (${days} days)`);
}

async function checkDatabase(config: Config, say: Say): Promise<MigrationStatus | undefined> {
  if (config.dbUrl) {
    try {
      const { serverVersion } = await checkPostgres(config.dbUrl);
      say("ok", "database", `PostgreSQL ${serverVersion} at ${describeUrl(config.dbUrl)}`);
    } catch (err) {
      say("FAIL", "database", `DIALTONE_DB_URL: ${(err as Error).message}`);
      say("skip", "migrations", "database unreachable");
      return undefined;
    }
    return withDatabase(await openDatabase({ kind: "postgres", url: config.dbUrl, maxConnections: 1 }), migrationStatus);
  }
  const pgdata = join(config.dataDir, "pgdata");
  const holder = lockHolder(config.dataDir);
  if (holder !== undefined) {
    say("ok", "database", `embedded in ${pgdata}, in use by the running server (pid ${holder}); not opened`);
    say("skip", "migrations", "the running server applied them at start-up");
    return undefined;
  }
  if (!(await stat(join(pgdata, "PG_VERSION")).catch(() => undefined))) {
    say("warn", "database", `no embedded database in ${pgdata} yet; the server creates it on first start`);
    return undefined;
  }
  let release: (() => void) | undefined;
  try {
    release = lockDataDir(config.dataDir);
    const status = await withDatabase(await openDatabase({ kind: "pglite", dataDir: pgdata }), migrationStatus);
    say("ok", "database", `embedded (PGlite) in ${pgdata}`);
    return status;
  } catch (err) {
    say("FAIL", "database", `cannot open the embedded database in ${pgdata}: ${(err as Error).message}`);
    return undefined;
  } finally {
    release?.();
  }
}

async function withDatabase<T>(db: Database, fn: (db: Database) => Promise<T>): Promise<T> {
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

function reportMigrations(s: MigrationStatus, say: Say) {
  if (s.changed.length) say("FAIL", "migrations", `applied migrations differ from this server's files: ${s.changed.join(", ")}`);
  if (s.newerThanServer) say("FAIL", "migrations", "the database was migrated by a newer dialtone-server than this one; upgrade this one");
  else if (s.pending.length) {
    say(
      "warn",
      "migrations",
      `${s.pending.length} pending (${s.pending.join(", ")}): applied at start-up, or run: dialtone-server migrate`,
    );
  } else say("ok", "migrations", `all ${s.applied.length} applied (latest ${s.applied.at(-1) ?? "none"})`);
}

async function checkServer(config: Config, listen: string, say: Say) {
  const host = config.listenHost === "0.0.0.0" ? "127.0.0.1" : config.listenHost === "::" ? "::1" : config.listenHost;
  const url = `${config.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${config.listenPort}/healthz`;
  const answer = await new Promise<string>((resolve) => {
    const get = config.tls ? https.get : http.get;
    const req = get(url, { timeout: 2000, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(`HTTP ${res.statusCode}`);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  if (answer === "HTTP 200") say("ok", "server", `answering on ${listen} (${url})`);
  else if (answer === "ECONNREFUSED") say("info", "server", `nothing listening on ${listen} (not started yet?)`);
  else say("warn", "server", `${url} answered ${answer}: another program on this port?`);
}

async function checkTurn(config: Config, say: Say) {
  if (!config.turnUrls.length) {
    say("warn", "turn", "DIALTONE_TURN_URLS not set: voice works only where peers reach each other directly");
    return;
  }
  if (!config.turnSecret) say("warn", "turn", "DIALTONE_TURN_SECRET not set: clients get no TURN credentials, only STUN");
  for (const url of config.turnUrls) {
    let target: ReturnType<typeof parseIceUrl>;
    try {
      target = parseIceUrl(url);
    } catch (err) {
      say("FAIL", "turn", `${(err as Error).message} (DIALTONE_TURN_URLS)`);
      continue;
    }
    try {
      const b = await stunBinding(target);
      let detail = `${url} answered a STUN binding over ${target.transport} in ${b.rttMs} ms${b.mapped ? ` (sees us as ${b.mapped})` : ""}`;
      if (config.turnSecret && url.startsWith("turn")) {
        await turnAllocate(target, config.turnSecret);
        detail += "; TURN credentials from DIALTONE_TURN_SECRET accepted";
      }
      say("ok", "turn", detail);
    } catch (err) {
      say("FAIL", "turn", `${url} (${target.host}:${target.port} over ${target.transport}): ${(err as Error).message}`);
    }
  }
}
