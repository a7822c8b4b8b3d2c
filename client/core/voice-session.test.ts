import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { daemonEnv } from "../../test/support/voiced.js";
import { UsageError } from "./errors.js";
import { Harness, eventually, type TestInstall } from "../../test/support/client-harness.js";
import { RoomStatus, VoiceDaemon, voicedSocketPath, type VoiceUpdate } from "./voice.js";
import {
  askedSettings,
  daemonArgs,
  defaultVoiceLog,
  flagIceServers,
  parseVoiceFlags,
  settingChanges,
  VOICE_FLAG_OPTIONS,
  VoiceSession,
} from "./voice-session.js";

const parse = (args: string[]) => parseVoiceFlags(parseArgs({ args, options: VOICE_FLAG_OPTIONS, strict: true }).values);

describe("voice flags", () => {
  test("every flag parses into VoiceFlags", () => {
    const f = parse([
      "--voice-debug",
      "--voice-log",
      "/tmp/v.log",
      "--voice-ptt",
      "",
      "--voice-ptt-backend",
      "none",
      "--voice-denoise",
      "off",
      "--voice-vad",
      "800",
      "--voice-meter",
      "--voice-stun",
      "stun.example:3478, stun:two",
      "--voice-turn",
      "turn.example",
      "--voice-turn-user",
      "u",
      "--voice-turn-pass",
      "p",
      "--voice-relay-only",
      "--voice-audio",
      "tone:440",
      "--voiced",
      "/opt/voiced",
    ]);
    expect(f).toEqual({
      debug: true,
      log: "/tmp/v.log",
      ptt: "",
      pttBackend: "none",
      denoise: false,
      vad: 800,
      meter: true,
      stun: ["stun.example:3478", "stun:two"],
      turn: ["turn.example"],
      turnUser: "u",
      turnPass: "p",
      relayOnly: true,
      audio: "tone:440",
      voiced: "/opt/voiced",
    });
    expect(parse([])).toEqual({});
  });

  test.each([
    [["--voice-vad", "0"], /--voice-vad: "0" is not a whole number/],
    [["--voice-vad=-3"], /--voice-vad: "-3"/],
    [["--voice-vad", "loud"], /--voice-vad: "loud"/],
    [["--voice-ptt-backend", "x11"], /--voice-ptt-backend: "x11" is not auto, portal, hotkey or none/],
    [["--voice-denoise", "maybe"], /--voice-denoise: "maybe" is not on or off/],
    [["--voice-turn-user", "u"], /--voice-turn-user: needs --voice-turn/],
    [["--voice-turn", "t:3478"], /--voice-turn: needs --voice-turn-user and --voice-turn-pass/],
    [["--voice-audio", "speaker"], /--voice-audio: "speaker" is not device/],
    [["--voice-stun", " , "], /--voice-stun: an empty list/],
    [["--voice-log", ""], /--voice-log: an empty path/],
  ])("%j is refused with a UsageError", (args, message) => {
    let err: unknown;
    try {
      parse(args);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });

  test("the daemon's argv carries behaviour flags only: ICE servers and secrets go through Join", () => {
    const f = parse([
      "--voice-ptt",
      "",
      "--voice-vad",
      "900",
      "--voice-meter",
      "--voice-debug",
      "--voice-log",
      "/l",
      "--voice-turn",
      "t",
      "--voice-turn-user",
      "u",
      "--voice-turn-pass",
      "sekrit",
      "--voice-relay-only",
      "--voice-ptt-backend",
      "hotkey",
      "--voice-denoise",
      "off",
    ]);
    const argv = daemonArgs(f);
    expect(argv).toEqual([
      "--ptt",
      "",
      "--ptt-backend",
      "hotkey",
      "--denoise",
      "off",
      "--vad-threshold",
      "900",
      "--meter",
      "--relay-only",
      "--debug",
      "--log",
      "/l",
    ]);
    expect(argv.join(" ")).not.toContain("sekrit");
    expect(flagIceServers(f)).toEqual([{ urls: ["turn:t"], username: "u", credential: "sekrit" }]);
    // --voice-ptt absent: the daemon's default (ctrl+v through the portal) stays.
    expect(daemonArgs(parse(["--voice-meter"]))).toEqual(["--meter"]);
  });

  test("a running daemon's settings against the flags: only what the client asks for counts", () => {
    const running = {
      ptt: "ctrl+v",
      "ptt-backend": "auto",
      "vad-threshold": "500",
      meter: "false",
      "relay-only": "false",
      "audio-backend": "tone:440",
      debug: "false",
      log: "",
    };
    // No voice flags: any running daemon will do.
    expect(settingChanges(running, askedSettings(parse([]), undefined))).toEqual([]);
    expect(settingChanges(running, askedSettings(parse(["--voice-audio", "tone:440", "--voice-vad", "500"]), undefined))).toEqual([]);
    // relay-only travels in Join: never a reason to restart.
    expect(askedSettings(parse(["--voice-relay-only"]), undefined)).toEqual({});
    expect(settingChanges(running, askedSettings(parse(["--voice-audio", "device", "--voice-debug"]), "/s/voiced.log"))).toEqual([
      { flag: "voice-audio", running: "tone:440", asked: "device" },
      { flag: "voice-debug", running: "false", asked: "true" },
      { flag: "voice-log", running: "", asked: "/s/voiced.log" },
    ]);
    // A daemon too old to report settings differs in everything asked.
    expect(settingChanges({}, { ptt: "" })).toEqual([{ flag: "voice-ptt", running: undefined, asked: "" }]);
  });

  test("the debug log lives under $XDG_STATE_HOME/dialtone", () => {
    expect(defaultVoiceLog({ XDG_STATE_HOME: "/s" })).toBe("/s/dialtone/voiced.log");
    expect(defaultVoiceLog({ HOME: "/h" })).toBe("/h/.local/state/dialtone/voiced.log");
  });
});

describe("VoiceSession", () => {
  let h: Harness;
  let alice: TestInstall;
  let channelId: string;
  const dir = mkdtempSync(join(tmpdir(), "voice-session-"));
  const env = { ...daemonEnv(join(dir, "run")), XDG_STATE_HOME: join(dir, "state") };
  const sessions: VoiceSession[] = [];

  beforeAll(async () => {
    h = await Harness.start();
    alice = await h.register();
    channelId = (await alice.client.createChannel(`v${randomUUID().slice(0, 6)}`)).id;
  }, 60_000);

  afterAll(async () => {
    for (const s of sessions) await s.shutdown().catch(() => {});
    for (const s of sessions) await s.close();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("join starts the daemon with the flags, hands over the session by IPC, and relays its state; a restarted daemon is watched again", async () => {
    const flags = parseVoiceFlags({ "voice-debug": true, "voice-ptt": "", "voice-audio": "tone:440" });
    const voice = new VoiceSession(alice.client, flags, env);
    sessions.push(voice);
    const updates: VoiceUpdate[] = [];
    voice.on("update", (u) => updates.push(u));
    expect(voice.logFile).toBe(join(dir, "state", "dialtone", "voiced.log"));

    await voice.join(channelId);
    expect(voice.spawnedDaemon).toBe(true);
    const pid = voice.daemonPid!;
    await eventually(() => voice.state?.status === RoomStatus.JOINED && voice.state.channelId === channelId, 15_000, "joined");
    expect(voice.state!.deviceId).toBe(alice.client.me.deviceId);

    // The log: where the session said, 0600 in a 0700 directory, debug level, no token.
    const log = voice.logFile!;
    expect(statSync(log).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(log)).mode & 0o777).toBe(0o700);
    await eventually(() => readFileSync(log, "utf8").includes("voice joined"), 10_000, "the daemon's log");
    const token = alice.client.session.token;
    expect(readFileSync(log, "utf8")).not.toContain(token);
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain(token);
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    expect(argv).toEqual(expect.arrayContaining(["--audio-backend", "tone:440", "--debug", "--log", log]));

    await voice.setMuted(true);
    await eventually(() => voice.state?.muted === true, 5000, "muted");

    // The daemon dies: the session says so, and picks up the next daemon on the socket.
    process.kill(pid, "SIGKILL");
    await eventually(() => updates.some((u) => u.kind === "error" && /voice daemon stopped/.test(u.message)), 10_000, "a stopped notice");
    expect(voice.state).toBeUndefined();
    const other = new VoiceSession(alice.client, flags, env);
    sessions.push(other);
    await other.join(channelId);
    expect(other.daemonPid).not.toBe(pid);
    await eventually(() => updates.some((u) => u.kind === "info" && /running again/.test(u.message)), 15_000, "a running-again notice");
    await eventually(() => voice.state?.status === RoomStatus.JOINED, 15_000, "the new daemon's state");
    expect(voice.daemonPid).toBe(other.daemonPid);

    // close() stops watching but keeps the daemon in its room: the call goes on without watchers.
    const pidNow = other.daemonPid!;
    await other.close();
    expect(await VoiceDaemon.connect(voicedSocketPath(env))).toMatchObject({ info: { pid: pidNow } });
    // leave() lets go of the daemon; with no other client watching, it ends.
    await voice.leave();
    expect(voice.state).toBeUndefined();
    expect(voice.daemonPid).toBeUndefined();
    await eventually(
      async () => (await VoiceDaemon.connect(voicedSocketPath(env))) === undefined || undefined,
      15_000,
      "the unused daemon gone",
    );
    await voice.close();
  }, 90_000);

  test("deafen and a volume set while no daemon runs start none, and reach the daemon at the next join", async () => {
    const voice = new VoiceSession(alice.client, parseVoiceFlags({ "voice-ptt": "", "voice-audio": "tone:440" }), env);
    sessions.push(voice);
    const someone = randomUUID();
    await voice.setDeafened(true);
    expect(await voice.setVolume(someone, 30)).toEqual({ applied: false });
    expect(await VoiceDaemon.connect(voicedSocketPath(env))).toBeUndefined();

    await voice.join(channelId);
    await eventually(
      () => voice.state?.status === RoomStatus.JOINED && voice.state.deafened && voice.state.volumes[someone] === 30,
      15_000,
      "joined deafened, with the remembered volume",
    );
    expect(voice.state!.muted).toBe(false); // deafened mutes the microphone without changing the mute choice
    expect(await voice.setVolume(someone, 100)).toEqual({ applied: true });
    await eventually(() => voice.state?.volumes[someone] === undefined, 5000, "back to 100 %");
    await voice.leave();
    await voice.close();
  }, 90_000);
});
