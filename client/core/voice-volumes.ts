// Per-person playback volumes: what `/voice volume NAME PERCENT` and `dialtone voice volume`
// accept, and where they are remembered. They are kept beside the server's keystore (its
// directory is 0700, the file 0600) as user id → percent, ids the server knows anyway and never
// names, and handed to the daemon at every join, so a daemon started later plays them too.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { keystorePaths, withFileLock, writeFileAtomic } from "../keystore/index.js";
import type { DialtoneClient } from "./client.js";
import { UsageError } from "./errors.js";
import type { UserView } from "./names.js";

/** The loudest volume: twice the received level (+6 dB); the daemon's limiter keeps it inside int16. */
export const MAX_VOLUME_PERCENT = 200;

const FILE = "voice-volumes.json";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const path = (configDir: string, server: string) => join(keystorePaths(configDir, server).dir, FILE);

/** "50", "50%" or " 150 % " → the percent; anything else is a UsageError naming `field`. */
export function parseVolumePercent(text: string, field = "PERCENT"): number {
  const m = /^\s*(\d{1,3})\s*%?\s*$/.exec(text);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!(n >= 0 && n <= MAX_VOLUME_PERCENT))
    throw new UsageError("invalid-input", `${field}: ${JSON.stringify(text)} is not a whole percent from 0 to ${MAX_VOLUME_PERCENT}`);
  return n;
}

/**
 * The person a volume is for: a directory name (any case), a marked label or a user id prefix, as
 * /verify takes them; unknown or ambiguous names are UsageErrors naming `field`. Not oneself.
 */
export function resolveVolumeUser(client: DialtoneClient, name: string, field = "NAME"): UserView {
  let user: UserView;
  try {
    user = client.resolveUser(name.trim().replace(/^@/, ""));
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(err.code, `${field}: ${err.message}`, err.candidates);
    throw err;
  }
  if (user.userId === client.me.userId)
    throw new UsageError("invalid-input", `${field}: ${name} is you; your own volume is your microphone (mute, or --voice-vad)`);
  return user;
}

/** The remembered volumes of this server's people (empty when none are set or the file is unreadable). */
export async function readVoiceVolumes(configDir: string, server: string): Promise<Record<string, number>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path(configDir, server), "utf8"));
  } catch {
    return {};
  }
  if (typeof parsed !== "object" || parsed === null) return {};
  const out: Record<string, number> = {};
  for (const [id, v] of Object.entries(parsed)) {
    if (UUID.test(id) && Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_VOLUME_PERCENT) out[id] = v as number;
  }
  return out;
}

/** Remembers one person's volume (100, the received level, is forgotten); returns all of them. */
export async function rememberVoiceVolume(
  configDir: string,
  server: string,
  userId: string,
  percent: number,
): Promise<Record<string, number>> {
  if (!UUID.test(userId)) throw new TypeError("rememberVoiceVolume: userId must be a UUID");
  if (!Number.isInteger(percent) || percent < 0 || percent > MAX_VOLUME_PERCENT)
    throw new TypeError(`rememberVoiceVolume: percent must be a whole number from 0 to ${MAX_VOLUME_PERCENT}`);
  const file = path(configDir, server);
  // The CLI and the UI may set volumes at once: read-modify-write under the file's lock.
  return withFileLock(`${file}.lock`, async () => {
    const all = await readVoiceVolumes(configDir, server);
    if (percent === 100) delete all[userId];
    else all[userId] = percent;
    await writeFileAtomic(file, `${JSON.stringify(all, null, 2)}\n`);
    return all;
  });
}
