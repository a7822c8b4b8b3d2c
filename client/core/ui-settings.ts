// The terminal UI's settings for one server, kept beside its keystore (as last-channel is): the
// bell, desktop notifications, typing notices, and the muted channels (their ids, which the server
// knows anyway; never names). A missing or unreadable file means the defaults.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { keystorePaths, writeFileAtomic } from "../keystore/index.js";

const FILE = "ui-settings.json";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface UiSettings {
  /** Ring the terminal bell at a mention of me where I am not looking. */
  readonly bell: boolean;
  /** A desktop notification then too (D-Bus). */
  readonly desktop: boolean;
  /** Send typing notices and show others' (off: neither, as Signal does). */
  readonly typing: boolean;
  /** Channels that neither ring nor notify (their counts still show). */
  readonly muted: ReadonlySet<string>;
}

export const DEFAULT_UI_SETTINGS: UiSettings = { bell: true, desktop: true, typing: true, muted: new Set() };

const path = (configDir: string, server: string) => join(keystorePaths(configDir, server).dir, FILE);

/** Settings from the file's JSON; a field of the wrong type keeps its default. */
export function parseUiSettings(text: string): UiSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return DEFAULT_UI_SETTINGS;
  }
  if (typeof raw !== "object" || raw === null) return DEFAULT_UI_SETTINGS;
  const r = raw as Record<string, unknown>;
  const flag = (name: "bell" | "desktop" | "typing") => (typeof r[name] === "boolean" ? r[name] : DEFAULT_UI_SETTINGS[name]);
  const muted = Array.isArray(r.muted) ? r.muted.filter((id): id is string => typeof id === "string" && UUID.test(id)) : [];
  return { bell: flag("bell"), desktop: flag("desktop"), typing: flag("typing"), muted: new Set(muted) };
}

export async function readUiSettings(configDir: string, server: string): Promise<UiSettings> {
  const text = await readFile(path(configDir, server), "utf8").catch(() => undefined);
  return text === undefined ? DEFAULT_UI_SETTINGS : parseUiSettings(text);
}

export async function writeUiSettings(configDir: string, server: string, s: UiSettings): Promise<void> {
  const json = { bell: s.bell, desktop: s.desktop, typing: s.typing, muted: [...s.muted].sort() };
  await writeFileAtomic(path(configDir, server), `${JSON.stringify(json, null, 2)}\n`);
}
