// The channel this install had open last on a server, so the UI reopens it. Kept beside that
// server's keystore (its directory is already 0700, the file 0600) as a bare channel id: an id the
// server knows anyway, never a name. Losing it only means opening the first channel by name.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { keystorePaths, writeFileAtomic } from "../keystore/index.js";

const FILE = "last-channel";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const path = (configDir: string, server: string) => join(keystorePaths(configDir, server).dir, FILE);

/** The remembered channel id, or undefined (none yet, unreadable, or not an id). */
export async function readLastChannel(configDir: string, server: string): Promise<string | undefined> {
  const text = await readFile(path(configDir, server), "utf8").catch(() => "");
  const id = text.trim();
  return UUID.test(id) ? id : undefined;
}

/** Remembers `channelId` for this server; the keystore's directory must exist (it does once logged in). */
export async function rememberLastChannel(configDir: string, server: string, channelId: string): Promise<void> {
  if (!UUID.test(channelId)) throw new TypeError("rememberLastChannel: channelId must be a UUID");
  await writeFileAtomic(path(configDir, server), `${channelId}\n`);
}
