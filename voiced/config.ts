// Command-line flags, parsed once into a frozen config. The flags of the earlier daemon keep
// their names (single-dash spellings are accepted too); secrets never come through here.
import { parseArgs } from "node:util";
import { validateAudioSpec } from "./audio/select.js";
import { iceServersFromFlags, resolveIceConfig, type IceServer } from "./rtc/ice-config.js";
import { PTT_BACKENDS, type PttBackend } from "./ptt/speaking.js";
import { parseHotkey } from "./ptt/x11-keys.js";

export const VERSION = "0.1.0";

export interface VoicedConfig {
  iceServers: IceServer[];
  relayOnly: boolean;
  vadThreshold: number;
  meter: boolean;
  pttKey: string;
  pttBackend: PttBackend;
  /** RNNoise on the microphone before the encoder. */
  denoise: boolean;
  audioBackend: string;
  recordPath: string | undefined;
  socketPath: string | undefined;
  logFile: string | undefined;
  debug: boolean;
  statsIntervalSeconds: number;
  /** Exit once in no room and unused by any client (what a client starts it with). */
  exitWhenUnused: boolean;
}

export const HELP = `dialtone-voiced: the Dialtone voice daemon

The client (dialtone voice join / the TUI's /voice) starts it on first use and talks to it over
a Unix socket; the session token and channel key arrive through that socket (VoicedService.Join),
never on this command line. One daemon runs per user: starting a second one reuses the first.

Usage: dialtone-voiced [flags]

ICE:
  --stun LIST            STUN servers, comma-separated ("host:3478" gets "stun:")
  --turn LIST            TURN servers, comma-separated ("host:3478" gets "turn:"), in priority order:
                         the first that answers a probe is used
  --turn-user USER       TURN username for --turn (static credentials)
  --turn-pass PASS       TURN password for --turn (prefer the server's short-lived credentials:
                         with no --turn and none in Join, the daemon asks VoiceService.GetIceServers)
  --relay-only           use TURN relay candidates only (hides your address from peers)

Speaking:
  --ptt KEY              push-to-talk key (default "ctrl+v"; "" = voice activity detection); for the
                         X11 grab an X keysym name with modifiers: F12, Pause, ctrl+space, super+v
  --ptt-backend B        auto | portal | hotkey | none (default auto = the XDG GlobalShortcuts portal,
                         else a global key grab on the X11 $DISPLAY, else VAD, saying which and why;
                         portal/hotkey report their failure as an error; none = always VAD)
  --vad-threshold N      VAD level, mean absolute sample value of a 20 ms frame (default 500, > 0)
  --meter                log the microphone level once a second

Audio:
  --denoise on|off       noise suppression (RNNoise) on the microphone (default on; never on tone:,
                         a clean generated signal)
  --audio-backend B      device (default: the sound card via PortAudio) | tone:FREQ[:pulse] (a sine;
                         :pulse = 200 ms at the start of every second) | file:PATH (48 kHz mono s16 WAV, looped)
  --record FILE          also write what is played (the mix of all speakers) to a WAV file

Daemon:
  --socket PATH          IPC socket (default $XDG_RUNTIME_DIR/dialtone/voiced.sock, else /tmp/dialtone-UID/voiced.sock)
  --log FILE             append the JSON log here (default standard error)
  --debug                debug-level log
  --stats-interval SEC   seconds between stats lines in the log (default 10)
  --exit-when-unused     exit once in no voice room with no client watching (clients start it so)
  --version              print the version
  -h, --help             this help
`;

export class UsageError extends Error {}

const NAMES = [
  "stun",
  "turn",
  "turn-user",
  "turn-pass",
  "relay-only",
  "vad-threshold",
  "meter",
  "ptt",
  "ptt-backend",
  "denoise",
  "audio-backend",
  "record",
  "socket",
  "log",
  "debug",
  "stats-interval",
  "exit-when-unused",
  "help",
  "version",
];

/** Go-style "-flag" → "--flag" for our long names (the earlier daemon used Go's flag package). */
function normalise(argv: string[]): string[] {
  return argv.map((a) => {
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(a);
    return m && NAMES.includes(m[1]!) ? `-${a}` : a;
  });
}

export function parseConfig(argv: string[]): VoicedConfig | "help" | "version" {
  for (const a of argv) {
    if (/^--?(token|session-token)(=|$)/.test(a)) {
      throw new UsageError("the session token is never a flag: the client hands it over through the IPC socket (VoicedService.Join)");
    }
  }
  // biome-ignore lint/suspicious/noImplicitAnyLet: typed by the assignment below (parseArgs infers it from the options)
  let values;
  try {
    ({ values } = parseArgs({
      args: normalise(argv),
      strict: true,
      allowPositionals: false,
      options: {
        stun: { type: "string", default: "" },
        turn: { type: "string", default: "" },
        "turn-user": { type: "string", default: "" },
        "turn-pass": { type: "string", default: "" },
        "relay-only": { type: "boolean", default: false },
        "vad-threshold": { type: "string", default: "500" },
        meter: { type: "boolean", default: false },
        ptt: { type: "string", default: "ctrl+v" },
        "ptt-backend": { type: "string", default: "auto" },
        denoise: { type: "string", default: "on" },
        "audio-backend": { type: "string", default: "device" },
        record: { type: "string" },
        socket: { type: "string" },
        log: { type: "string" },
        debug: { type: "boolean", default: false },
        "stats-interval": { type: "string", default: "10" },
        "exit-when-unused": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return "help";
  if (values.version) return "version";
  const vad = Number(values["vad-threshold"]);
  if (!Number.isInteger(vad) || vad <= 0 || vad > 32767)
    throw new UsageError(`--vad-threshold: "${values["vad-threshold"]}" is not an integer in 1..32767`);
  const backend = values["ptt-backend"];
  if (!PTT_BACKENDS.includes(backend as PttBackend)) {
    throw new UsageError(`--ptt-backend: "${backend}" is not auto, portal, hotkey or none`);
  }
  if (backend === "hotkey" && values.ptt) {
    try {
      parseHotkey(values.ptt); // a key the X11 grab cannot name stops start-up, not just push-to-talk
    } catch (err) {
      throw new UsageError(`--ptt: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const denoise = values.denoise;
  if (denoise !== "on" && denoise !== "off") throw new UsageError(`--denoise: "${denoise}" is not on or off`);
  const stats = Number(values["stats-interval"]);
  if (!(stats > 0 && stats <= 3600))
    throw new UsageError(`--stats-interval: "${values["stats-interval"]}" is not a number of seconds in (0, 3600]`);
  try {
    validateAudioSpec(values["audio-backend"]);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if ((values["turn-user"] || values["turn-pass"]) && !values.turn) throw new UsageError("--turn-user/--turn-pass need --turn");
  const iceServers = iceServersFromFlags({
    stun: values.stun,
    turn: values.turn,
    turnUser: values["turn-user"],
    turnPass: values["turn-pass"],
  });
  try {
    // Bad URLs and a relay-only without TURN are start-up errors when the flags say so.
    if (iceServers.length) resolveIceConfig(iceServers, values["relay-only"]);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  return Object.freeze({
    iceServers,
    relayOnly: values["relay-only"],
    vadThreshold: vad,
    meter: values.meter,
    pttKey: values.ptt,
    pttBackend: backend as PttBackend,
    denoise: denoise === "on",
    audioBackend: values["audio-backend"],
    recordPath: values.record,
    socketPath: values.socket,
    logFile: values.log,
    debug: values.debug,
    statsIntervalSeconds: stats,
    exitWhenUnused: values["exit-when-unused"],
  });
}

/**
 * The settings a client can ask for, by flag name, as GetInfo reports them: a client compares
 * the ones it gives with these and restarts a daemon that runs with others.
 */
export function settingsOf(c: VoicedConfig): Record<string, string> {
  return {
    ptt: c.pttKey,
    "ptt-backend": c.pttBackend,
    denoise: c.denoise ? "on" : "off",
    "vad-threshold": String(c.vadThreshold),
    meter: String(c.meter),
    "relay-only": String(c.relayOnly),
    "audio-backend": c.audioBackend,
    debug: String(c.debug),
    log: c.logFile ?? "",
  };
}
