// The client side of the voice daemon: find the user's dialtone-voiced (or start it), then
// drive it over its Unix socket with the dialtone.voiced.v1 protos. Secrets (session token,
// channel key) travel only inside Join over that 0600 socket, never on the daemon's argv.
//
//   const voice = await ensureDaemon({ args: ["--relay-only"] });
//   await voice.join({ serverUrl, sessionToken, channelId, channelKey, keyEpoch });
//   for await (const u of voice.watch(signal)) render(u);   // state snapshots, info, errors
//   await voice.setMuted(true); await voice.setDeafened(true); await voice.setVolumes({ [userId]: 50 });
//   await voice.leave();
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { Agent } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  RoomStatus,
  SpeakingMode,
  VoicedService,
  type GetInfoResponse,
  type Member,
  type State,
} from "../../gen/dialtone/voiced/v1/voiced_service_pb.js";
import { checkOwnPath, KeystoreError } from "../keystore/index.js";

export { RoomStatus, SpeakingMode, type Member, type State };

/** The environment variable naming the daemon binary (overridden by an explicit path). */
export const VOICED_ENV = "DIALTONE_VOICED";

/** Variables the daemon must not inherit: desktop launch tokens (as the earlier TUI) and our secrets. */
const DROPPED_ENV = [
  "XDG_ACTIVATION_TOKEN",
  "DESKTOP_STARTUP_ID",
  "GIO_LAUNCHED_DESKTOP_FILE",
  "GIO_LAUNCHED_DESKTOP_FILE_PID",
  "BAMF_DESKTOP_FILE_HINT",
  "BAMF_DESKTOP_FILE",
  "DIALTONE_PASSWORD",
  "DIALTONE_PASSPHRASE",
];

export type VoiceDaemonErrorCode = "spawn-failed" | "not-running" | "bad-flag" | "rejected" | "unsafe-socket";

export class VoiceDaemonError extends Error {
  override readonly name = "VoiceDaemonError";
  constructor(
    readonly code: VoiceDaemonErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The daemon's socket: $XDG_RUNTIME_DIR/dialtone/voiced.sock, else /tmp/dialtone-UID/voiced.sock.
 * Must match voiced/ipc/socket.ts defaultSocketPath (a test checks they agree).
 */
export function voicedSocketPath(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "dialtone", "voiced.sock") : join("/tmp", `dialtone-${uid}`, "voiced.sock");
}

/** The daemon binary: `--voiced PATH`, else $DIALTONE_VOICED, else this package's bin/dialtone-voiced.js. */
export function voicedBinary(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit || env[VOICED_ENV] || fileURLToPath(new URL("../../bin/dialtone-voiced.js", import.meta.url));
}

export interface IceServerInit {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface VoiceJoinOptions {
  serverUrl: string;
  sessionToken: string;
  channelId: string;
  /** The raw 32-byte channel key (the daemon seals signals with it). */
  channelKey: Uint8Array;
  keyEpoch: number;
  /** Empty or absent: the daemon uses its --stun/--turn flags, else asks the server. */
  iceServers?: IceServerInit[];
  relayOnly?: boolean;
}

export type VoiceUpdate = { kind: "state"; state: State } | { kind: "info"; message: string } | { kind: "error"; message: string };

function rejected(err: unknown): VoiceDaemonError {
  if (err instanceof VoiceDaemonError) return err;
  const ce = ConnectError.from(err);
  // Only a failure below the protocol (connect-node sets `cause`) means the daemon did not answer;
  // an error the daemon answered with (say, the Dialtone server is unreachable) is its refusal.
  if (ce.cause !== undefined && (ce.code === Code.Unavailable || /ECONNREFUSED|ENOENT|ECONNRESET|socket hang up/i.test(ce.rawMessage))) {
    return new VoiceDaemonError("not-running", `the voice daemon is not reachable: ${ce.rawMessage}`, { cause: err });
  }
  return new VoiceDaemonError("rejected", ce.rawMessage, { cause: err });
}

/** A connection to a running daemon. */
export class VoiceDaemon {
  private constructor(
    readonly socketPath: string,
    private readonly client: Client<typeof VoicedService>,
    /** pid, version, log file and audio backend of the daemon. */
    readonly info: GetInfoResponse,
    /** Whether ensureDaemon started it (rather than finding it running). */
    readonly spawned: boolean,
  ) {}

  /** The daemon on `socketPath`, or undefined when none answers there. */
  static async connect(socketPath = voicedSocketPath(), spawned = false): Promise<VoiceDaemon | undefined> {
    // Before a byte goes out (Join carries the session token and a channel key): the socket and
    // its directory must be this user's own, or another local user could be the one listening.
    try {
      if (!(await checkOwnPath(dirname(socketPath), "the voice daemon's socket directory", "directory"))) return undefined;
      if (!(await checkOwnPath(socketPath, "the voice daemon's socket", "socket"))) return undefined;
    } catch (err) {
      if (err instanceof KeystoreError) throw new VoiceDaemonError("unsafe-socket", err.message, { cause: err });
      throw err;
    }
    // A fresh connection per call: a local socket costs nothing, and a kept-alive one can be
    // closed by the daemon's idle timeout just as a call reuses it (EPIPE).
    const agent = new Agent({ keepAlive: false });
    const transport = createConnectTransport({ baseUrl: "http://localhost", httpVersion: "1.1", nodeOptions: { socketPath, agent } });
    const client = createClient(VoicedService, transport);
    try {
      const info = await client.getInfo({}, { timeoutMs: 2000 });
      return new VoiceDaemon(socketPath, client, info, spawned);
    } catch {
      return undefined;
    }
  }

  /** Joins the channel's voice room (leaving any other); resolves once the server accepted the join. */
  async join(o: VoiceJoinOptions): Promise<void> {
    await this.client
      .join({
        serverUrl: o.serverUrl,
        sessionToken: o.sessionToken,
        channelId: o.channelId,
        channelKey: o.channelKey,
        keyEpoch: o.keyEpoch,
        iceServers: (o.iceServers ?? []).map((s) => ({ urls: s.urls, username: s.username ?? "", credential: s.credential ?? "" })),
        relayOnly: o.relayOnly ?? false,
      })
      .catch((err: unknown) => Promise.reject(rejected(err)));
  }

  async leave(): Promise<void> {
    await this.client.leave({}).catch((err: unknown) => Promise.reject(rejected(err)));
  }

  async setMuted(muted: boolean): Promise<void> {
    await this.client.setMuted({ muted }).catch((err: unknown) => Promise.reject(rejected(err)));
  }

  /** "" switches to voice activity detection. */
  async setPushToTalk(key: string): Promise<void> {
    await this.client.setPushToTalk({ key }).catch((err: unknown) => Promise.reject(rejected(err)));
  }

  /** Deafened: nothing is played and the microphone stays muted; undeafened: the mute chosen before. */
  async setDeafened(deafened: boolean): Promise<void> {
    await this.client.setDeafened({ deafened }).catch((err: unknown) => Promise.reject(rejected(err)));
  }

  /** Playback volumes, user id → percent (0-200; 100 = as received), merged into the daemon's. */
  async setVolumes(percentByUser: Readonly<Record<string, number>>): Promise<void> {
    await this.client.setVolumes({ percentByUser: { ...percentByUser } }).catch((err: unknown) => Promise.reject(rejected(err)));
  }

  /** The current state, once. */
  async state(): Promise<State> {
    const ac = new AbortController();
    try {
      for await (const u of this.watch(ac.signal)) if (u.kind === "state") return u.state;
    } finally {
      ac.abort();
    }
    throw new VoiceDaemonError("not-running", "the voice daemon closed the state stream");
  }

  /** State snapshots (first the current one, then after every change) and notices, until `signal` aborts. */
  async *watch(signal?: AbortSignal): AsyncGenerator<VoiceUpdate> {
    try {
      for await (const r of this.client.watchState({}, { ...(signal ? { signal } : {}), timeoutMs: 0 })) {
        const item = r.item;
        if (item.case === "state") yield { kind: "state", state: item.value };
        else if (item.case === "info") yield { kind: "info", message: item.value };
        else if (item.case === "error") yield { kind: "error", message: item.value };
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw rejected(err);
    }
  }

  /** Leaves any room and stops the daemon. */
  async shutdown(): Promise<void> {
    await this.client.shutdown({}).catch((err: unknown) => Promise.reject(rejected(err)));
  }
}

export interface EnsureDaemonOptions {
  /** The socket (default voicedSocketPath(env)); passed to a started daemon as --socket. */
  socketPath?: string;
  /** The daemon binary (the CLI's --voiced PATH); default: see voicedBinary. */
  voicedPath?: string;
  /** Flags for a daemon we start: --stun, --turn, --relay-only, --ptt, --audio-backend, ... */
  args?: readonly string[];
  /** Where a started daemon's stdout/stderr go (else discarded); also pass --log for its JSON log. */
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for a started daemon to answer (default 20 s). */
  startTimeoutMs?: number;
}

/** The live daemon of this user, started (detached) when none answers on the socket. */
export async function ensureDaemon(o: EnsureDaemonOptions = {}): Promise<VoiceDaemon> {
  const env = o.env ?? process.env;
  const socketPath = o.socketPath ?? voicedSocketPath(env);
  const live = await VoiceDaemon.connect(socketPath);
  if (live) return live;

  const args = [...(o.args ?? [])];
  const secret = args.find((a) => /^--?(token|session-token)(=|$)/.test(a));
  if (secret)
    throw new VoiceDaemonError(
      "bad-flag",
      `${secret.split("=")[0]}: the session token goes through Join, never on the daemon's command line`,
    );
  const bin = voicedBinary(o.voicedPath, env);
  const viaNode = /\.(c|m)?(j|t)s$/.test(bin);
  const argv = [...(viaNode ? [bin] : []), ...args, "--socket", socketPath];
  const childEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !DROPPED_ENV.includes(k)));
  const out = o.logFile ? openSync(o.logFile, "a", 0o600) : "ignore";
  let exited: { code: number | null; signal: string | null } | undefined;
  try {
    const child = spawn(viaNode ? process.execPath : bin, argv, { detached: true, stdio: ["ignore", out, out], env: childEnv });
    child.once("error", () => (exited = { code: -1, signal: null }));
    child.once("exit", (code, signal) => (exited = { code, signal }));
    child.unref();
  } catch (err) {
    throw new VoiceDaemonError("spawn-failed", `cannot start ${bin}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    if (typeof out === "number") closeSync(out);
  }

  const deadline = Date.now() + (o.startTimeoutMs ?? 20_000);
  for (;;) {
    const d = await VoiceDaemon.connect(socketPath, exited === undefined);
    if (d) return d;
    // Exit 0 means another daemon won the start-up race: keep polling for it briefly.
    if (exited && exited.code !== 0) {
      const how = exited.signal ? `signal ${exited.signal}` : `code ${exited.code}`;
      throw new VoiceDaemonError("spawn-failed", `${bin} exited with ${how}${o.logFile ? ` (see ${o.logFile})` : ""}`);
    }
    if (Date.now() > deadline) throw new VoiceDaemonError("spawn-failed", `${bin} did not answer on ${socketPath} in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
