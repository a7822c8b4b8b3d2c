// servers.json: the servers this config dir has logged in to, most recent first. Not secret
// (URLs only), but kept 0600 like everything in the config dir. It lets `--server` be omitted
// when there is only one (CLI) and fills the login form's server field (UI).
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { ensurePrivateDir, serverOrigin, writeFileAtomic } from "../keystore/index.js";
import { UsageError } from "./errors.js";

const FILE = "servers.json";

const LOOPBACK = /^(localhost|[a-z0-9-]+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * A server URL as typed, and whether `http://` was assumed: a loopback host and port with no
 * scheme (`localhost:8080`) is the server on this machine, which `npm start` serves in clear.
 * Any other host needs its scheme spelled out (guessing http:// would send a password in clear).
 */
export function parseServerUrl(text: string): { url: string; assumedHttp: boolean } {
  const bare = /^([^/:?#@\s]+|\[[0-9a-f:]+\]):(\d{1,5})(\/[^\s]*)?$/i.exec(text);
  if (bare && LOOPBACK.test(bare[1]!)) return { url: normaliseServerUrl(`http://${text}`), assumedHttp: true };
  if (bare || !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const hint = bare ? `; for this host write https://${text} or http://${text}` : "";
    throw new UsageError("invalid-input", `server URL: expected http://host:port or https://host, not ${JSON.stringify(text)}${hint}`);
  }
  return { url: normaliseServerUrl(text), assumedHttp: false };
}

/** A server URL with its scheme, checked and tidied: http(s), no trailing slash, no query or fragment. */
export function normaliseServerUrl(text: string): string {
  serverOrigin(text); // throws a clear error for anything but http(s) URLs
  const url = new URL(text);
  if (url.username || url.password) throw new UsageError("invalid-input", "--server: credentials in the URL are not supported");
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${path}`;
}

export async function readServers(configDir: string): Promise<string[]> {
  try {
    const doc = JSON.parse(await readFile(join(configDir, FILE), "utf8")) as { servers?: unknown };
    return Array.isArray(doc.servers) ? doc.servers.filter((s): s is string => typeof s === "string") : [];
  } catch {
    return [];
  }
}

/** Moves `url` to the front of the list. */
export async function rememberServer(configDir: string, url: string): Promise<void> {
  const servers = [url, ...(await readServers(configDir)).filter((s) => s !== url)].slice(0, 20);
  await ensurePrivateDir(configDir, configDir);
  await writeFileAtomic(join(configDir, FILE), `${JSON.stringify({ servers }, null, 2)}\n`);
}

export async function forgetServer(configDir: string, url: string): Promise<void> {
  const servers = (await readServers(configDir)).filter((s) => s !== url);
  await ensurePrivateDir(configDir, configDir);
  await writeFileAtomic(join(configDir, FILE), `${JSON.stringify({ servers }, null, 2)}\n`);
}

/** Origins of the keystores present (each has a clear-text `origin` file beside it). */
async function keystoreOrigins(configDir: string): Promise<string[]> {
  try {
    const dirs = await readdir(join(configDir, "servers"));
    const out: string[] = [];
    for (const d of dirs) {
      const origin = (await readFile(join(configDir, "servers", d, "origin"), "utf8").catch(() => "")).trim();
      if (origin) out.push(origin);
    }
    return out;
  } catch {
    return [];
  }
}

/** `--server` if given, else the only server known to this config dir. */
export async function pickServer(configDir: string, flag: string | undefined): Promise<string> {
  if (flag) return parseServerUrl(flag).url;
  let known = await readServers(configDir);
  if (known.length === 0) known = await keystoreOrigins(configDir);
  if (known.length === 1) return known[0]!;
  if (known.length === 0) throw new UsageError("invalid-input", "--server URL is required (no server is known yet in this config dir)");
  throw new UsageError("invalid-input", `--server URL is required: this config dir knows ${known.length} servers (${known.join(", ")})`);
}
