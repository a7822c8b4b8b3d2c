// dialtone-server: the only place that listens. Config → secrets → database →
// migrations → app → listener; graceful shutdown on SIGTERM/SIGINT, TLS reload on SIGHUP.
import { accessSync, constants } from "node:fs";
import { readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { parseArgs } from "node:util";
import { createApp } from "./app.js";
import { COMMANDS_HELP, runCommand } from "./cli/index.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { DataDirBusy, lockDataDir } from "./datalock.js";
import { openDatabase } from "./db/client.js";
import type { ClusterOrigin } from "./db/pglite.js";
import { bootstrapInvite } from "./domain/invites.js";
import { PgBus } from "./events/pg-bus.js";
import { createListener } from "./http/listener.js";
import { createLogger, heldWriter, type Logger } from "./log.js";
import { resolveSecrets } from "./secrets.js";

const HELP = `dialtone-server: the Dialtone chat server

Usage: dialtone-server [--help] [COMMAND [FILE]]

Serves Connect, gRPC and gRPC-Web on one port (HTTP/1.1 and h2c; TLS when configured).
With no configuration it runs on an embedded database in its data directory and, while
no account exists, prints an invite token to register the first (admin) account. GET /healthz answers "ok";
GET /metrics serves Prometheus metrics.

${COMMANDS_HELP}
Environment:
  DIALTONE_LISTEN_ADDR        host:port to listen on (default 127.0.0.1:8080)
  DIALTONE_DB_URL             PostgreSQL URL; unset = embedded PGlite in the data dir
  DIALTONE_DATA_DIR           data dir (default $XDG_DATA_HOME/dialtone-server)
  DIALTONE_ADMIN_TOKEN        admin token for X-Admin-Token (generated when embedded)
  DIALTONE_USERNAME_PEPPER    HMAC key for usernames (generated when embedded)
  DIALTONE_TLS_CERT/KEY       PEM certificate and key: serve TLS (h2 + http/1.1)
  DIALTONE_TURN_URLS          comma-separated stun:/turn: URLs handed to clients
  DIALTONE_TURN_SECRET        coturn static-auth-secret: mint short-lived TURN credentials
  DIALTONE_TURN_TTL_SECONDS   TURN credential lifetime (default 21600)
  DIALTONE_HEARTBEAT_SECONDS  event stream heartbeat, 1-15 (default 15)
  DIALTONE_AUTH_RATE_PER_IP   login/register attempts per minute per address (default 30)
  DIALTONE_AUTH_FAILURES_PER_USER  login attempts per account and address before waits double from 1 s (default 10)
  DIALTONE_H2_MAX_STREAMS     HTTP/2 streams per connection (default 100)
  DIALTONE_H2_IDLE_SECONDS    close an HTTP/2 connection idle this long (default 30)
  DIALTONE_MAX_CONNECTIONS_PER_ADDRESS  per client address; trusted proxies exempt (default 256)
  DIALTONE_STREAMS_PER_SESSION  open event streams per session (default 16)
  DIALTONE_STREAMS_PER_DEVICE   open event streams per device (default 32)
  DIALTONE_LOG_LEVEL          debug, info, warn or error (default info)
  DIALTONE_LOG_FORMAT         json or text (default: text on a terminal, else json)
  DIALTONE_METRICS_TOKEN      when set, /metrics requires Authorization: Bearer <it>
`;

const startupLog = heldWriter((line) => process.stderr.write(line));

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({ args: argv, options: { help: { type: "boolean", short: "h" } }, allowPositionals: true });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const [command, ...args] = positionals;
  if (command !== undefined) process.exit(await runCommand(command, args));
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`dialtone-server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Log lines wait for the banner; JSON for collectors, plain text for a person at a terminal.
  const log = createLogger(config.logLevel, startupLog.write, config.logFormat ?? (process.stderr.isTTY ? "text" : "json"));
  for (const w of config.warnings) log.warn(w);
  const secrets = await resolveSecrets(config);
  if (!config.dbUrl) {
    try {
      lockDataDir(config.dataDir); // PGlite files must have one process; released at exit
    } catch (err) {
      if (!(err instanceof DataDirBusy)) throw err;
      startupLog.release();
      process.stderr.write(`dialtone-server: ${err.message}\n`);
      process.exit(1);
    }
  }
  const database = config.dbUrl
    ? await openDatabase({ kind: "postgres", url: config.dbUrl })
    : await openDatabase({ kind: "pglite", dataDir: join(config.dataDir, "pgdata") });
  logOrigin(log, database.origin);
  await database.migrate();
  // On PostgreSQL, LISTEN/NOTIFY lets several server processes share the database.
  const bus = config.dbUrl ? await PgBus.connect(config.dbUrl, log) : undefined;
  const app = await createApp({
    database,
    ...(bus ? { bus } : {}),
    secrets,
    log,
    turn: { urls: config.turnUrls, secret: config.turnSecret, ttlSeconds: config.turnTtlSeconds },
    heartbeatSeconds: config.heartbeatSeconds,
    authRatePerIp: config.authRatePerIp,
    authFailuresPerUser: config.authFailuresPerUser,
    sendRatePerSession: config.sendRatePerSession,
    sendBurstPerSession: config.sendBurstPerSession,
    streamsPerSession: config.streamsPerSession,
    streamsPerDevice: config.streamsPerDevice,
    trustedProxies: config.trustedProxies,
    metrics: { token: config.metricsToken, processMetrics: true },
  });
  const tls = config.tls ? { cert: await readFile(config.tls.certFile), key: await readFile(config.tls.keyFile) } : undefined;
  const listener = createListener(app.handler, {
    ...(tls ? { tls } : {}),
    h2MaxConcurrentStreams: config.h2MaxStreams,
    h2IdleTimeoutMs: config.h2IdleSeconds * 1000,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    isTrustedProxy: (address) => app.trustedProxies.has(address),
  });
  await new Promise<void>((resolve, reject) => {
    listener.server.once("error", reject);
    listener.server.listen(config.listenPort, config.listenHost, () => resolve());
  });
  const addr = listener.server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.listenPort;
  const url = `${tls ? "https" : "http"}://${config.listenHost.includes(":") ? `[${config.listenHost}]` : config.listenHost}:${port}`;
  log.info("listening", { url, database: database.kind, tls: !!tls });

  const token = await bootstrapInvite(app.deps);
  const lines = [
    `dialtone-server listening on ${url}`,
    `  database:    ${database.kind === "pglite" ? `embedded (PGlite) in ${join(config.dataDir, "pgdata")}` : "PostgreSQL (DIALTONE_DB_URL)"}`,
    `  data dir:    ${config.dataDir}`,
    `  admin token: ${secrets.adminTokenFile ? `in ${secrets.adminTokenFile}` : "from DIALTONE_ADMIN_TOKEN"}`,
    ...(token
      ? [
          `  invite:      ${token}   (single use, valid 24 h; the first account is an admin)`,
          `Register: ${onPath("dialtone") ? "dialtone" : "npx dialtone"} register --server ${url} --username NAME --invite ${token}`,
        ]
      : [`  invites:     an admin mints them: dialtone invite, or buf curl with the admin token (docs/OPERATIONS.md)`]),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  startupLog.release();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    app.endStreams();
    await listener.close(5000);
    await app.bus.close();
    await database.close();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGHUP", () => {
    if (!config.tls) return;
    void Promise.all([readFile(config.tls.certFile), readFile(config.tls.keyFile)])
      .then(([cert, key]) => listener.reloadTls(cert, key))
      .then(() => log.info("tls certificate reloaded"))
      .catch((err: Error) => log.error("tls reload failed", { name: err.name }));
  });
}

/** Says how a fresh embedded data dir got its cluster: from the build's pre-built one, or initdb and why. */
function logOrigin(log: Logger, origin: ClusterOrigin | undefined): void {
  if (origin?.from === "prebuilt") log.info("embedded database created from the pre-built cluster", { migration: origin.migration });
  if (origin?.from === "initdb") log.info("embedded database created by initdb (slower)", { reason: origin.reason });
}

/** Whether `command` is an executable on PATH (after `npm ci` in a checkout, dialtone is not). */
function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

main(process.argv.slice(2)).catch((err: Error) => {
  startupLog.release();
  process.stderr.write(`dialtone-server: ${err.message}\n`);
  process.exit(1);
});
