// Where keystores live: one directory per server origin under the config dir.
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { KeystoreError } from "./errors.js";

/**
 * The config dir: `DIALTONE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/dialtone` (only if absolute,
 * as the XDG spec says), else `~/.config/dialtone`.
 */
export function resolveConfigDir(env: Readonly<Record<string, string | undefined>> = process.env, home: string = homedir()): string {
  const explicit = env["DIALTONE_CONFIG_DIR"];
  if (explicit) return resolve(explicit);
  const xdg = env["XDG_CONFIG_HOME"];
  if (xdg && isAbsolute(xdg)) return join(xdg, "dialtone");
  return join(home, ".config", "dialtone");
}

/**
 * The canonical origin of a server URL (`https://host:port`, default port dropped, host
 * lower-cased): keystores are keyed by it and it is bound into the keystore AAD.
 */
export function serverOrigin(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KeystoreError("invalid-origin", `server URL: expected http://host:port or https://host, not ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new KeystoreError("invalid-origin", `server URL: only http:// and https:// servers, not ${JSON.stringify(url)}`);
  }
  return parsed.origin;
}

export interface KeystorePaths {
  /** `<config>/servers/<first 32 hex of sha256(origin)>`, mode 0700 */
  readonly dir: string;
  /** the encrypted keystore, mode 0600 */
  readonly file: string;
  /** the origin in clear text, for humans browsing the config dir, mode 0600 */
  readonly originFile: string;
}

export function keystorePaths(configDir: string, origin: string): KeystorePaths {
  const id = createHash("sha256").update(serverOrigin(origin), "utf8").digest("hex").slice(0, 32);
  const dir = join(resolve(configDir), "servers", id);
  return { dir, file: join(dir, "keystore.json"), originFile: join(dir, "origin") };
}
