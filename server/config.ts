// Server configuration: read from the environment once, validated, frozen. Nothing
// else in the server reads process.env. A bad value stops start-up with one line
// naming the variable.
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { TrustedProxies } from "./http/peer.js";

export interface Config {
  readonly listenHost: string;
  readonly listenPort: number;
  /** PostgreSQL URL; undefined = embedded PGlite in dataDir. */
  readonly dbUrl: string | undefined;
  readonly dataDir: string;
  /** Undefined = generated into dataDir on first run (embedded mode only). */
  readonly usernamePepper: string | undefined;
  readonly adminToken: string | undefined;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly turnUrls: readonly string[];
  readonly turnSecret: string | undefined;
  readonly turnTtlSeconds: number;
  readonly heartbeatSeconds: number;
  /** Login/register attempts per minute per client address, and failures per username. */
  readonly authRatePerIp: number;
  readonly sendRatePerSession: number;
  readonly sendBurstPerSession: number;
  /** Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client. */
  readonly trustedProxies: readonly string[];
  readonly authFailuresPerUser: number;
  /** HTTP/2 streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly h2MaxStreams: number;
  /** An HTTP/2 connection without an open stream is closed after this long. */
  readonly h2IdleSeconds: number;
  /** Open connections per client address (trusted proxies exempt). */
  readonly maxConnectionsPerAddress: number;
  /** Open event streams per session and per device, in one server process. */
  readonly streamsPerSession: number;
  readonly streamsPerDevice: number;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  /** json or text; undefined: text when stderr is a terminal, else json (decided by main.ts). */
  readonly logFormat: "json" | "text" | undefined;
  /** When set, `GET /metrics` requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  readonly warnings: readonly string[];
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function parseListen(raw: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`DIALTONE_LISTEN_ADDR: expected host:port, got "${raw}"`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

export function loadConfig(env: Env = process.env): Config {
  const warnings: string[] = [];
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const { host, port } = parseListen(get("DIALTONE_LISTEN_ADDR") ?? "127.0.0.1:8080");
  const dbUrl = get("DIALTONE_DB_URL");
  if (dbUrl && !/^postgres(ql)?:\/\//.test(dbUrl)) {
    throw new ConfigError("DIALTONE_DB_URL: expected a postgres:// or postgresql:// URL");
  }
  const xdgData = get("XDG_DATA_HOME") ?? join(get("HOME") ?? homedir(), ".local", "share");
  const dataDir = resolve(get("DIALTONE_DATA_DIR") ?? join(xdgData, "dialtone-server"));
  const usernamePepper = get("DIALTONE_USERNAME_PEPPER");
  const adminToken = get("DIALTONE_ADMIN_TOKEN");
  if (dbUrl && !usernamePepper) throw new ConfigError("DIALTONE_USERNAME_PEPPER: required with DIALTONE_DB_URL");
  if (dbUrl && !adminToken) throw new ConfigError("DIALTONE_ADMIN_TOKEN: required with DIALTONE_DB_URL");
  if (usernamePepper && usernamePepper.length < 16) throw new ConfigError("DIALTONE_USERNAME_PEPPER: use at least 16 characters");
  if (adminToken && adminToken.length < 16) throw new ConfigError("DIALTONE_ADMIN_TOKEN: use at least 16 characters");
  const cert = get("DIALTONE_TLS_CERT");
  const key = get("DIALTONE_TLS_KEY");
  if (!!cert !== !!key) throw new ConfigError("DIALTONE_TLS_CERT/DIALTONE_TLS_KEY: set both or neither");
  const turnUrls = (get("DIALTONE_TURN_URLS") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const u of turnUrls) {
    if (!/^(stun|turn|turns):/.test(u)) throw new ConfigError(`DIALTONE_TURN_URLS: "${u}" must start with stun:, turn: or turns:`);
  }
  const turnSecret = get("DIALTONE_TURN_SECRET");
  if (turnSecret && !turnUrls.some((u) => u.startsWith("turn"))) {
    throw new ConfigError("DIALTONE_TURN_SECRET: set DIALTONE_TURN_URLS to the coturn turn: URL(s) as well");
  }
  if (get("DIALTONE_CHANNEL_KEY")) {
    warnings.push("DIALTONE_CHANNEL_KEY is obsolete and ignored: channel keys live only on clients now");
  }
  const logLevel = (get("DIALTONE_LOG_LEVEL") ?? "info") as Config["logLevel"];
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    throw new ConfigError("DIALTONE_LOG_LEVEL: expected debug, info, warn or error");
  }
  const logFormat = get("DIALTONE_LOG_FORMAT") as Config["logFormat"];
  if (logFormat !== undefined && logFormat !== "json" && logFormat !== "text") {
    throw new ConfigError("DIALTONE_LOG_FORMAT: expected json or text");
  }
  const metricsToken = get("DIALTONE_METRICS_TOKEN");
  if (metricsToken && metricsToken.length < 16) throw new ConfigError("DIALTONE_METRICS_TOKEN: use at least 16 characters");
  const trustedProxies = (get("DIALTONE_TRUSTED_PROXIES") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    new TrustedProxies(trustedProxies);
  } catch (err) {
    throw new ConfigError(`DIALTONE_TRUSTED_PROXIES: ${(err as Error).message}`);
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));
  return Object.freeze({
    listenHost: host,
    listenPort: port,
    dbUrl,
    dataDir,
    usernamePepper,
    adminToken,
    tls: cert && key ? Object.freeze({ certFile: abs(cert), keyFile: abs(key) }) : undefined,
    turnUrls: Object.freeze(turnUrls),
    turnSecret,
    turnTtlSeconds: int(env, "DIALTONE_TURN_TTL_SECONDS", 6 * 3600, 60, 7 * 86400),
    heartbeatSeconds: int(env, "DIALTONE_HEARTBEAT_SECONDS", 15, 1, 15),
    authRatePerIp: int(env, "DIALTONE_AUTH_RATE_PER_IP", 30, 1, 100000),
    authFailuresPerUser: int(env, "DIALTONE_AUTH_FAILURES_PER_USER", 10, 1, 100000),
    h2MaxStreams: int(env, "DIALTONE_H2_MAX_STREAMS", 100, 1, 10000),
    h2IdleSeconds: int(env, "DIALTONE_H2_IDLE_SECONDS", 30, 1, 3600),
    maxConnectionsPerAddress: int(env, "DIALTONE_MAX_CONNECTIONS_PER_ADDRESS", 256, 1, 1_000_000),
    sendRatePerSession: int(env, "DIALTONE_SEND_RATE_PER_SESSION", 20, 1, 1_000_000),
    sendBurstPerSession: int(env, "DIALTONE_SEND_BURST_PER_SESSION", 100, 1, 1_000_000),
    streamsPerSession: int(env, "DIALTONE_STREAMS_PER_SESSION", 16, 1, 1_000_000),
    streamsPerDevice: int(env, "DIALTONE_STREAMS_PER_DEVICE", 32, 1, 1_000_000),
    trustedProxies: Object.freeze(trustedProxies),
    logLevel,
    logFormat,
    metricsToken,
    warnings: Object.freeze(warnings),
  });
}
