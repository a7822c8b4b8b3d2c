import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "@jest/globals";
import { ensurePrivateDir, keystorePaths } from "../keystore/index.js";
import { DEFAULT_UI_SETTINGS, parseUiSettings, readUiSettings, writeUiSettings } from "./ui-settings.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("UI settings", () => {
  test("written and read back beside the server's keystore; ids only, no names", async () => {
    const configDir = await mkdtemp(join(tmpdir(), "dialtone-ui-settings-"));
    dirs.push(configDir);
    const server = "https://chat.example:8443";
    await ensurePrivateDir(configDir, keystorePaths(configDir, server).dir);
    expect(await readUiSettings(configDir, server)).toEqual(DEFAULT_UI_SETTINGS);
    const muted = new Set(["0b5c3c2e-8f0a-4a57-9a7e-1d7d0f3e9a11"]);
    await writeUiSettings(configDir, server, { bell: false, desktop: true, typing: false, muted });
    expect(await readUiSettings(configDir, server)).toEqual({ bell: false, desktop: true, typing: false, muted });
    const raw = JSON.parse(await readFile(join(keystorePaths(configDir, server).dir, "ui-settings.json"), "utf8"));
    expect(Object.keys(raw).sort()).toEqual(["bell", "desktop", "muted", "typing"]);
  });

  test("a damaged file or field keeps the defaults for what it cannot read", () => {
    expect(parseUiSettings("{not json")).toEqual(DEFAULT_UI_SETTINGS);
    const s = parseUiSettings(JSON.stringify({ bell: "yes", desktop: false, muted: ["general", 3] }));
    expect(s).toEqual({ ...DEFAULT_UI_SETTINGS, desktop: false, muted: new Set() });
  });
});
