import { expect, test } from "@jest/globals";
import { parseConfig, UsageError, type VoicedConfig } from "./config.js";

const cfg = (args: string[]) => parseConfig(args) as VoicedConfig;

test("defaults are the earlier daemon's: ctrl+v push-to-talk (auto backend), VAD threshold 500, the sound card", () => {
  expect(cfg([])).toMatchObject({
    pttKey: "ctrl+v",
    pttBackend: "auto",
    vadThreshold: 500,
    audioBackend: "device",
    relayOnly: false,
    meter: false,
    iceServers: [],
    statsIntervalSeconds: 10,
  });
});

test("every flag, in both spellings", () => {
  const c = cfg([
    "-stun",
    "s:1",
    "--turn",
    "t:2",
    "--turn-user",
    "u",
    "--turn-pass",
    "p",
    "--relay-only",
    "-vad-threshold",
    "800",
    "--meter",
    "--ptt",
    "",
    "--ptt-backend",
    "none",
    "--audio-backend",
    "tone:440",
    "--record",
    "/tmp/x.wav",
    "--socket",
    "/tmp/s.sock",
    "--log",
    "/tmp/l",
    "--debug",
  ]);
  expect(c).toMatchObject({
    relayOnly: true,
    vadThreshold: 800,
    meter: true,
    pttKey: "",
    pttBackend: "none",
    audioBackend: "tone:440",
    recordPath: "/tmp/x.wav",
    socketPath: "/tmp/s.sock",
    logFile: "/tmp/l",
    debug: true,
  });
  expect(c.iceServers).toEqual([{ urls: ["stun:s:1"] }, { urls: ["turn:t:2"], username: "u", credential: "p" }]);
  expect(parseConfig(["--help"])).toBe("help");
  expect(parseConfig(["-h"])).toBe("help");
});

test("bad values stop start-up with a line naming the flag; a token flag is refused outright", () => {
  for (const [args, re] of [
    [["--vad-threshold", "0"], /--vad-threshold/],
    [["--ptt-backend", "hotkey"], /hotkey backend .* not available/],
    [["--audio-backend", "mic"], /--audio-backend/],
    [["--audio-backend", "tone:x"], /tone:FREQ/],
    [["--turn-user", "u"], /need --turn/],
    [["--relay-only", "--stun", "s:1"], /relay-only needs a TURN/],
    [["--token", "abc"], /never a flag/],
    [["-token=abc"], /never a flag/],
    [["--nope"], /Unknown option/],
  ] as const) {
    expect(() => parseConfig([...args])).toThrow(UsageError);
    expect(() => parseConfig([...args])).toThrow(re);
  }
});
