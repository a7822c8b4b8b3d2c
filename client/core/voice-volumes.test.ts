import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "@jest/globals";
import { keystorePaths } from "../keystore/index.js";
import { UsageError } from "./errors.js";
import { parseVolumePercent, readVoiceVolumes, rememberVoiceVolume } from "./voice-volumes.js";

describe("parseVolumePercent", () => {
  test("whole percents from 0 to 200, with or without %", () => {
    expect(parseVolumePercent("0")).toBe(0);
    expect(parseVolumePercent("50")).toBe(50);
    expect(parseVolumePercent(" 150 % ")).toBe(150);
    expect(parseVolumePercent("200%")).toBe(200);
  });

  test.each(["250", "201", "abc", "-5", "50.5", "", "%", "1e2", "0x10", "5 0"])("%j is refused, naming the field", (text) => {
    expect(() => parseVolumePercent(text, "PERCENT")).toThrow(UsageError);
    expect(() => parseVolumePercent(text, "PERCENT")).toThrow(`PERCENT: ${JSON.stringify(text)} is not a whole percent from 0 to 200`);
  });
});

describe("remembered volumes", () => {
  const root = mkdtempSync(join(tmpdir(), "voice-volumes-"));
  const server = "http://127.0.0.1:9";
  const dir = keystorePaths(root, server).dir;
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("kept per server by user id only (0600), 100 forgotten, other servers apart", async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const [bob, carol] = [randomUUID(), randomUUID()];
    expect(await readVoiceVolumes(root, server)).toEqual({});
    await rememberVoiceVolume(root, server, bob, 50);
    expect(await rememberVoiceVolume(root, server, carol, 0)).toEqual({ [bob]: 50, [carol]: 0 });
    expect(await rememberVoiceVolume(root, server, bob, 100)).toEqual({ [carol]: 0 });
    expect(await readVoiceVolumes(root, server)).toEqual({ [carol]: 0 });
    expect(await readVoiceVolumes(root, "http://127.0.0.1:10")).toEqual({});
    const file = join(dir, "voice-volumes.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ [carol]: 0 });
  });

  test("concurrent writers each keep their entry", async () => {
    const ids = Array.from({ length: 8 }, () => randomUUID());
    await Promise.all(ids.map((id, i) => rememberVoiceVolume(root, server, id, i * 10)));
    const all = await readVoiceVolumes(root, server);
    for (const [i, id] of ids.entries()) expect(all[id]).toBe(i * 10);
  });

  test("a damaged file or bad entries are ignored, not fatal", async () => {
    const file = join(dir, "voice-volumes.json");
    writeFileSync(file, "{not json");
    expect(await readVoiceVolumes(root, server)).toEqual({});
    const ok = randomUUID();
    writeFileSync(file, JSON.stringify({ [ok]: 70, "not-an-id": 50, [randomUUID()]: 999, [randomUUID()]: "50" }));
    expect(await readVoiceVolumes(root, server)).toEqual({ [ok]: 70 });
  });

  test("out-of-range values are refused before anything is written", async () => {
    await expect(rememberVoiceVolume(root, server, randomUUID(), 201)).rejects.toThrow(/percent/);
    await expect(rememberVoiceVolume(root, server, "bob", 50)).rejects.toThrow(/userId/);
  });
});
