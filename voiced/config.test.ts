import { expect, test } from "@jest/globals";
import { parseConfig, UsageError, type VoicedConfig } from "./config.js";

const cfg = (args: string[]) => parseConfig(args) as VoicedConfig;

test("defaults are the earlier daemon's: ctrl+v push-to-talk (auto backend), VAD threshold 500, the sound card; noise suppression on", () => {
  expect(cfg([])).toMatchObject({
    pttKey: "ctrl+v",
    pttBackend: "auto",
    denoise: true,
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
    "-denoise",
    "off",
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
    denoise: false,
    audioBackend: "tone:440",
    recordPath: "/tmp/x.wav",
    socketPath: "/tmp/s.sock",
    logFile: "/tmp/l",
    debug: true,
  });
  expect(c.iceServers).toEqual([{ urls: ["stun:s:1"] }, { urls: ["turn:t:2"], username: "u", credential: "p" }]);
  expect(cfg(["--ptt-backend", "hotkey", "--ptt", "F12"])).toMatchObject({ pttBackend: "hotkey", pttKey: "F12" });
  expect(parseConfig(["--help"])).toBe("help");
  expect(parseConfig(["-h"])).toBe("help");
});

test("bad values stop start-up with a line naming the flag; a token flag is refused outright", () => {
  for (const [args, re] of [
    [["--vad-threshold", "0"], /--vad-threshold/],
    [["--ptt-backend", "x11"], /--ptt-backend: "x11" is not auto, portal, hotkey or none/],
    [["--denoise", "no"], /--denoise: "no" is not on or off/],
    [
      ["--ptt-backend", "hotkey", "--ptt", "ctrl+nosuchkey"],
      /--ptt: push-to-talk key "ctrl\+nosuchkey": "nosuchkey" is not an X11 key name/,
    ],
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
