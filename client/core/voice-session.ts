// Voice for one DialtoneClient: the `--voice-*` flags (shared by the CLI and the terminal UI),
// what of them reaches the daemon's command line, and a VoiceSession that starts or finds the
// user's dialtone-voiced, joins it to a channel with the client's session and channel key (over
// the 0600 socket, never argv) and relays its WatchState stream, re-watching when it restarts.
//
//   const flags = parseVoiceFlags(values);            // values from parseArgs(VOICE_FLAG_OPTIONS)
//   const voice = new VoiceSession(client, flags);
//   voice.on("update", (u) => render(u));              // state snapshots, info and error notices
//   await voice.join(channel.id); ... await voice.leave(); await voice.close();
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { DialtoneClient } from "./client.js";
import { Emitter } from "./emitter.js";
import { UsageError } from "./errors.js";
import { readVoiceVolumes, rememberVoiceVolume } from "./voice-volumes.js";
import {
  ensureDaemon,
  VoiceDaemon,
  VoiceDaemonError,
  voicedSocketPath,
  type IceServerInit,
  type State,
  type VoiceUpdate,
} from "./voice.js";

export type PttBackendFlag = "auto" | "portal" | "hotkey" | "none";

export interface VoiceFlags {
  /** Daemon log at debug level, in `log` or $XDG_STATE_HOME/dialtone/voiced.log. */
  debug?: boolean;
  /** Where a daemon we start logs (0600; its directory 0700). */
  log?: string;
  /** Push-to-talk shortcut; "" = voice activity detection. */
  ptt?: string;
  pttBackend?: PttBackendFlag;
  /** Noise suppression on the microphone (the daemon's default: on). */
  denoise?: boolean;
  /** Voice activity threshold (> 0). */
  vad?: number;
  meter?: boolean;
  stun?: string[];
  turn?: string[];
  turnUser?: string;
  turnPass?: string;
  /** Use TURN relay candidates only (hides our address from peers). */
  relayOnly?: boolean;
  /** The daemon's audio backend: device | tone:FREQ[:pulse] | file:PATH (headless use, tests). */
  audio?: string;
  /** The daemon binary. */
  voiced?: string;
}

interface VoiceOptionSpec {
  readonly type: "string" | "boolean";
  readonly value?: string;
  readonly help: string;
}

/** node:util parseArgs option specs (with help text for the CLI's --help). */
export const VOICE_FLAG_OPTIONS = {
  "voice-debug": { type: "boolean", help: "the voice daemon logs at debug level to a file (see --voice-log)" },
  "voice-log": {
    type: "string",
    value: "FILE",
    help: "the voice daemon's log (default $XDG_STATE_HOME/dialtone/voiced.log with --voice-debug)",
  },
  "voice-ptt": { type: "string", value: "KEY", help: 'push-to-talk shortcut (default ctrl+v; "" = voice activity detection)' },
  "voice-ptt-backend": {
    type: "string",
    value: "B",
    help: "auto | portal | hotkey | none (auto: the desktop portal, else an X11 key grab, else voice activity detection)",
  },
  "voice-denoise": { type: "string", value: "on|off", help: "noise suppression on the microphone (default on)" },
  "voice-vad": { type: "string", value: "N", help: "voice activity threshold, mean absolute sample level (default 500)" },
  "voice-meter": { type: "boolean", help: "the voice daemon logs the microphone level once a second" },
  "voice-stun": { type: "string", value: "LIST", help: "STUN servers, comma-separated (default: the server's)" },
  "voice-turn": {
    type: "string",
    value: "LIST",
    help: "TURN servers, comma-separated (default: the server's, with short-lived credentials)",
  },
  "voice-turn-user": { type: "string", value: "USER", help: "TURN username for --voice-turn" },
  "voice-turn-pass": {
    type: "string",
    value: "PASS",
    help: "TURN password for --voice-turn (sent over the daemon's socket, not its argv)",
  },
  "voice-relay-only": { type: "boolean", help: "use TURN relay candidates only (peers never see your address)" },
  "voice-audio": { type: "string", value: "B", help: "the voice daemon's audio: device | tone:FREQ | file:PATH (headless)" },
  voiced: { type: "string", value: "PATH", help: "the voice daemon binary (else $DIALTONE_VOICED, else the bundled one)" },
} as const satisfies Readonly<Record<string, VoiceOptionSpec>>;

const bad = (flag: string, why: string) => new UsageError("invalid-input", `--${flag}: ${why}`);

function str(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw bad(name, "needs a value");
  return v;
}

function bool(values: Record<string, unknown>, name: string): boolean | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw bad(name, "takes no value");
  return v;
}

function list(values: Record<string, unknown>, name: string): string[] | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const items = v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw bad(name, "an empty list");
  for (const i of items) if (/\s/.test(i)) throw bad(name, `"${i}" is not a host[:port] or URL`);
  return items;
}

/** The voice flags out of parsed options; throws a UsageError saying what is wrong. */
export function parseVoiceFlags(values: Record<string, unknown>): VoiceFlags {
  const f: VoiceFlags = {};
  const debug = bool(values, "voice-debug");
  const meter = bool(values, "voice-meter");
  const relayOnly = bool(values, "voice-relay-only");
  if (debug) f.debug = true;
  if (meter) f.meter = true;
  if (relayOnly) f.relayOnly = true;
  const log = str(values, "voice-log");
  if (log !== undefined) {
    if (log === "") throw bad("voice-log", "an empty path");
    f.log = log;
  }
  const ptt = str(values, "voice-ptt");
  if (ptt !== undefined) f.ptt = ptt;
  const backend = str(values, "voice-ptt-backend");
  if (backend !== undefined) {
    if (backend !== "auto" && backend !== "portal" && backend !== "hotkey" && backend !== "none") {
      throw bad("voice-ptt-backend", `"${backend}" is not auto, portal, hotkey or none`);
    }
    f.pttBackend = backend;
  }
  const denoise = str(values, "voice-denoise");
  if (denoise !== undefined) {
    if (denoise !== "on" && denoise !== "off") throw bad("voice-denoise", `"${denoise}" is not on or off`);
    f.denoise = denoise === "on";
  }
  const vad = str(values, "voice-vad");
  if (vad !== undefined) {
    const n = Number(vad);
    if (!/^\d+$/.test(vad.trim()) || !(n > 0) || n > 32767) throw bad("voice-vad", `"${vad}" is not a whole number from 1 to 32767`);
    f.vad = n;
  }
  const stun = list(values, "voice-stun");
  const turn = list(values, "voice-turn");
  if (stun) f.stun = stun;
  if (turn) f.turn = turn;
  const turnUser = str(values, "voice-turn-user");
  const turnPass = str(values, "voice-turn-pass");
  if ((turnUser !== undefined || turnPass !== undefined) && !turn)
    throw bad(turnUser !== undefined ? "voice-turn-user" : "voice-turn-pass", "needs --voice-turn");
  if (turn && (!turnUser || !turnPass))
    throw bad("voice-turn", "needs --voice-turn-user and --voice-turn-pass (or leave TURN to the server's short-lived credentials)");
  if (turnUser !== undefined) f.turnUser = turnUser;
  if (turnPass !== undefined) f.turnPass = turnPass;
  const audio = str(values, "voice-audio");
  if (audio !== undefined) {
    if (!/^(device|tone:\d+(\.\d+)?(:pulse)?|file:.+)$/.test(audio))
      throw bad("voice-audio", `"${audio}" is not device, tone:FREQ[:pulse] or file:PATH`);
    f.audio = audio;
  }
  const voiced = str(values, "voiced");
  if (voiced !== undefined) {
    if (voiced === "") throw bad("voiced", "an empty path");
    f.voiced = voiced;
  }
  return f;
}

/**
 * The flags a daemon we start gets. ICE servers (with the TURN password) go through Join instead,
 * so they are not visible in `ps` and apply to a daemon that was already running; the session
 * token and channel key only ever go through Join.
 */
export function daemonArgs(flags: VoiceFlags): string[] {
  const a: string[] = [];
  if (flags.ptt !== undefined) a.push("--ptt", flags.ptt);
  if (flags.pttBackend) a.push("--ptt-backend", flags.pttBackend);
  if (flags.denoise !== undefined) a.push("--denoise", flags.denoise ? "on" : "off");
  if (flags.vad !== undefined) a.push("--vad-threshold", String(flags.vad));
  if (flags.meter) a.push("--meter");
  if (flags.relayOnly) a.push("--relay-only");
  if (flags.audio) a.push("--audio-backend", flags.audio);
  if (flags.debug) a.push("--debug");
  if (flags.log) a.push("--log", flags.log);
  return a;
}

/** The client flag behind each daemon setting GetInfo reports (relay-only travels in Join instead). */
const SETTING_FLAGS: Readonly<Record<string, string>> = {
  ptt: "voice-ptt",
  "ptt-backend": "voice-ptt-backend",
  denoise: "voice-denoise",
  "vad-threshold": "voice-vad",
  meter: "voice-meter",
  "audio-backend": "voice-audio",
  debug: "voice-debug",
  log: "voice-log",
};

/** The daemon settings these flags ask for (GetInfo's names and spellings); unset flags ask nothing. */
export function askedSettings(flags: VoiceFlags, logFile: string | undefined): Record<string, string> {
  const s: Record<string, string> = {};
  if (flags.ptt !== undefined) s.ptt = flags.ptt;
  if (flags.pttBackend) s["ptt-backend"] = flags.pttBackend;
  if (flags.denoise !== undefined) s.denoise = flags.denoise ? "on" : "off";
  if (flags.vad !== undefined) s["vad-threshold"] = String(flags.vad);
  if (flags.meter) s.meter = "true";
  if (flags.audio) s["audio-backend"] = flags.audio;
  if (flags.debug) s.debug = "true";
  if (logFile) s.log = logFile;
  return s;
}

export interface SettingChange {
  /** The client flag, e.g. "voice-audio". */
  flag: string;
  running: string | undefined;
  asked: string;
}

/** The asked settings the running daemon does not have. */
export function settingChanges(running: Readonly<Record<string, string>>, asked: Readonly<Record<string, string>>): SettingChange[] {
  return Object.entries(asked)
    .filter(([k, v]) => running[k] !== v)
    .map(([k, v]) => ({ flag: SETTING_FLAGS[k] ?? k, running: running[k], asked: v }));
}

/** The ICE servers named by the flags (empty: the daemon asks the server for its own). */
export function flagIceServers(flags: VoiceFlags): IceServerInit[] {
  const out: IceServerInit[] = [];
  const scheme = (s: string, d: "stun" | "turn") => (/^(stuns?|turns?):/i.test(s) ? s : `${d}:${s}`);
  if (flags.stun?.length) out.push({ urls: flags.stun.map((s) => scheme(s, "stun")) });
  if (flags.turn?.length)
    out.push({ urls: flags.turn.map((s) => scheme(s, "turn")), username: flags.turnUser ?? "", credential: flags.turnPass ?? "" });
  return out;
}

/** $XDG_STATE_HOME/dialtone/voiced.log (default ~/.local/state). */
export function defaultVoiceLog(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state");
  return join(state, "dialtone", "voiced.log");
}

/** The log file a started daemon gets: --voice-log, else the default one with --voice-debug. */
export function voiceLogFile(flags: VoiceFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flags.log ?? (flags.debug ? defaultVoiceLog(env) : undefined);
}

interface SessionEvents {
  update: VoiceUpdate;
  error: { readonly message: string; readonly cause: unknown };
}

const RETRY_MS = [500, 1000, 2000, 5000];

/** Voice for one DialtoneClient: one daemon connection, one watch loop. */
export class VoiceSession {
  readonly #client: DialtoneClient;
  readonly #flags: VoiceFlags;
  readonly #env: NodeJS.ProcessEnv;
  readonly #events = new Emitter<SessionEvents>();
  readonly #configuredLog: string | undefined;
  #daemon: VoiceDaemon | undefined;
  #state: State | undefined;
  #watching: AbortController | undefined;
  #closed = false;
  #starting: Promise<VoiceDaemon> | undefined;
  /** Joins in progress: the idle state they pass through is not a leave. */
  #joining = 0;
  /** Mute asked for while no daemon was watched: applied at the next join. */
  #muted: boolean | undefined;
  /** Deafen asked for while no daemon was watched: applied at the next join. */
  #deafened: boolean | undefined;

  constructor(client: DialtoneClient, flags: VoiceFlags, env: NodeJS.ProcessEnv = process.env) {
    this.#client = client;
    this.#flags = flags;
    this.#env = env;
    this.#configuredLog = voiceLogFile(flags, env);
  }

  /** The daemon's log file: the running daemon's own, else where a started one will log. */
  get logFile(): string | undefined {
    return this.#daemon?.info.logFile || this.#configuredLog;
  }

  /** The last state the daemon reported (undefined while no daemon is watched). */
  get state(): State | undefined {
    return this.#state;
  }

  /** Whether the daemon in use was started by this session (rather than found running). */
  get spawnedDaemon(): boolean {
    return this.#daemon?.spawned ?? false;
  }

  /** The daemon's pid, once one is in use. */
  get daemonPid(): number | undefined {
    return this.#daemon?.info.pid;
  }

  on(event: "update", fn: (u: VoiceUpdate) => void): () => void {
    return this.#events.on(event, fn);
  }

  /**
   * Starts the daemon if needed (with the forwarded flags) and watches it. A running daemon whose
   * settings differ from the ones these flags ask for is stopped and started again with them.
   */
  async daemon(): Promise<VoiceDaemon> {
    if (this.#closed) throw new VoiceDaemonError("not-running", "the voice session is closed");
    if (this.#daemon) return this.#daemon;
    this.#starting ??= (async () => {
      const logFile = this.#configuredLog;
      if (logFile) prepareLog(logFile);
      const socketPath = voicedSocketPath(this.#env);
      const start = () =>
        ensureDaemon({
          socketPath,
          ...(this.#flags.voiced ? { voicedPath: this.#flags.voiced } : {}),
          // A daemon a client starts ends by itself once nothing uses it (docs/VOICE.md).
          args: [...daemonArgs({ ...this.#flags, ...(logFile ? { log: logFile } : {}) }), "--exit-when-unused"],
          ...(logFile ? { logFile } : {}),
          env: this.#env,
        });
      let d = await start();
      const changes = d.spawned ? [] : settingChanges(d.info.settings, askedSettings(this.#flags, logFile));
      if (changes.length) {
        const what = changes.map(
          (c) => `--${c.flag} ${c.running === undefined ? "unset" : JSON.stringify(c.running)} → ${JSON.stringify(c.asked)}`,
        );
        this.#events.emit("update", {
          kind: "info",
          message: `restarting the voice daemon (pid ${d.info.pid}) with this client's flags: ${what.join(", ")}`,
        });
        await d.shutdown();
        await untilGone(socketPath);
        d = await start();
      }
      this.#daemon = d;
      this.#watch(d);
      return d;
    })().finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  /** Joins the channel's voice room (leaving any other); `waitMs` for a channel key to be shared. */
  async join(channelId: string, waitMs = 0): Promise<void> {
    const key = await this.#client.requireChannelKey(channelId, waitMs);
    this.#joining++;
    try {
      const d = await this.daemon();
      if (this.#muted !== undefined) await d.setMuted(this.#muted);
      if (this.#deafened !== undefined) await d.setDeafened(this.#deafened);
      // The remembered volumes: a daemon started since (or restarted) has none of them.
      // A daemon that refuses them (one older than SetVolumes, still running) still gets the join.
      const volumes = await readVoiceVolumes(this.#client.store.configDir, this.#client.store.server);
      if (Object.keys(volumes).length)
        await d.setVolumes(volumes).catch((err: unknown) => {
          const why = err instanceof Error ? err.message : String(err);
          this.#events.emit("update", { kind: "error", message: `per-person volumes not applied: ${why}` });
        });
      await d.join({
        serverUrl: this.#client.origin,
        sessionToken: this.#client.session.token,
        channelId,
        channelKey: key.key,
        keyEpoch: key.epoch,
        iceServers: flagIceServers(this.#flags),
        relayOnly: this.#flags.relayOnly ?? false,
      });
    } catch (err) {
      // Out of any room after a failed join: stop using the daemon, so it can end.
      if (!this.#state?.channelId) this.#release();
      throw err;
    } finally {
      this.#joining--;
    }
  }

  /** Leaves the room and stops using the daemon (which ends when no other client uses it). */
  async leave(): Promise<void> {
    const d = this.#daemon ?? (await VoiceDaemon.connect(voicedSocketPath(this.#env)));
    await d?.leave();
    this.#release();
  }

  /** Mutes the running daemon, without starting one; kept for the next join either way. */
  async setMuted(muted: boolean): Promise<void> {
    this.#muted = muted;
    if (!muted) this.#deafened = false; // the daemon undeafens on unmute as well
    const d = this.#daemon ?? (await VoiceDaemon.connect(voicedSocketPath(this.#env)));
    await d?.setMuted(muted);
  }

  /** Deafens the running daemon, without starting one; kept for the next join either way. */
  async setDeafened(deafened: boolean): Promise<void> {
    this.#deafened = deafened;
    // Undeafening by unmuting (the daemon does that too) must not deafen again at the next join.
    const d = this.#daemon ?? (await VoiceDaemon.connect(voicedSocketPath(this.#env)));
    await d?.setDeafened(deafened);
  }

  /**
   * Remembers a person's volume for this server and hands it to the running daemon (without
   * starting one: the next join hands over all of them); `applied` says whether one ran.
   */
  async setVolume(userId: string, percent: number): Promise<{ applied: boolean }> {
    await rememberVoiceVolume(this.#client.store.configDir, this.#client.store.server, userId, percent);
    const d = this.#daemon ?? (await VoiceDaemon.connect(voicedSocketPath(this.#env)));
    await d?.setVolumes({ [userId]: percent });
    return { applied: d !== undefined };
  }

  /** "" switches to voice activity detection. */
  async setPushToTalk(key: string): Promise<void> {
    await (await this.#running()).setPushToTalk(key);
  }

  /** Stops the daemon (leaving its room). */
  async shutdown(): Promise<void> {
    const d = this.#daemon ?? (await VoiceDaemon.connect(voicedSocketPath(this.#env)));
    this.#release();
    await d?.shutdown();
  }

  /** Stops watching the daemon and forgets it and its state. */
  #release(): void {
    this.#watching?.abort();
    this.#watching = undefined;
    this.#daemon = undefined;
    this.#state = undefined;
  }

  /** Stops watching; the daemon keeps running (and in its room). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#watching?.abort();
    await this.#starting?.catch(() => {});
    this.#watching?.abort();
  }

  async #running(): Promise<VoiceDaemon> {
    if (this.#daemon) return this.#daemon;
    const d = await VoiceDaemon.connect(voicedSocketPath(this.#env));
    if (!d) throw new VoiceDaemonError("not-running", "the voice daemon is not running: join a voice channel first");
    this.#daemon = d;
    this.#watch(d);
    return d;
  }

  /** Relays WatchState; when the daemon goes away, says so and waits for one to answer again. */
  #watch(first: VoiceDaemon): void {
    this.#watching?.abort();
    const ac = (this.#watching = new AbortController());
    const emit = (u: VoiceUpdate) => {
      const was = this.#state;
      if (u.kind === "state") this.#state = u.state;
      this.#events.emit("update", u);
      // The daemon left our room (another process's `voice leave`, the server): this session no
      // longer uses it. A join passes through the idle state too, so not during one.
      if (u.kind === "state" && was?.channelId && !u.state.channelId && this.#joining === 0 && this.#watching === ac) this.#release();
    };
    void (async () => {
      let d: VoiceDaemon | undefined = first;
      let attempt = 0;
      while (!ac.signal.aborted) {
        if (d) {
          try {
            for await (const u of d.watch(ac.signal)) {
              attempt = 0;
              emit(u);
            }
          } catch {
            // the daemon went away: below
          }
          if (ac.signal.aborted) return;
          this.#state = undefined;
          if (this.#daemon === d) this.#daemon = undefined;
          emit({ kind: "error", message: "the voice daemon stopped" });
        }
        await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]));
        if (ac.signal.aborted) return;
        d = await VoiceDaemon.connect(voicedSocketPath(this.#env));
        if (d && !ac.signal.aborted) {
          this.#daemon = d;
          emit({ kind: "info", message: `voice daemon running again (pid ${d.info.pid})` });
        }
      }
    })();
  }
}

/** Waits until no daemon answers on the socket (one that was asked to shut down). */
async function untilGone(socketPath: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (await VoiceDaemon.connect(socketPath)) {
    if (Date.now() > deadline) throw new VoiceDaemonError("spawn-failed", "the running voice daemon did not stop for the restart");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The log's directory 0700 and the file 0600 before the daemon appends to it. */
function prepareLog(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(file, "a", 0o600));
    chmodSync(file, 0o600);
  } catch (err) {
    throw new UsageError("invalid-input", `--voice-log: cannot write ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
