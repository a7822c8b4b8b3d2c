// The username pepper and admin token: from the config, or (embedded mode) generated
// on first run into files of the data dir, mode 0600.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "./config.js";
import type { Secrets } from "./domain/deps.js";

export const adminTokenPath = (dataDir: string) => join(dataDir, "admin-token");
const pepperPath = (dataDir: string) => join(dataDir, "username-pepper");

async function readOrCreate(path: string): Promise<string> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    const value = randomBytes(32).toString("base64url");
    await writeFile(path, `${value}\n`, { mode: 0o600, flag: "wx" });
    return value;
  }
}

export async function ensureDataDir(dataDir: string) {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
}

export async function resolveSecrets(config: Config): Promise<Secrets & { adminTokenFile: string | undefined }> {
  const fromFiles = !config.dbUrl;
  if (fromFiles) await ensureDataDir(config.dataDir);
  const adminToken = config.adminToken ?? (await readOrCreate(adminTokenPath(config.dataDir)));
  const usernamePepper = config.usernamePepper ?? (await readOrCreate(pepperPath(config.dataDir)));
  return { adminToken, usernamePepper, adminTokenFile: config.adminToken ? undefined : adminTokenPath(config.dataDir) };
}
