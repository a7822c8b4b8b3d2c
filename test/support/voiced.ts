// dialtone-voiced processes for tests: each in its own runtime dir (its own socket), logging
// to a file, driven through client/core/voice.ts exactly as the CLI drives it.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { VoiceDaemon, voicedSocketPath, type State, type VoiceUpdate } from "../../client/core/voice.js";

export const VOICED_BIN = fileURLToPath(new URL("../../bin/dialtone-voiced.js", import.meta.url));

export interface TestDaemon {
  name: string;
  pid: number;
  dir: string;
  socketPath: string;
  logFile: string;
  recordPath: string;
  voice: VoiceDaemon;
  /** Every WatchState item so far. */
  updates: VoiceUpdate[];
  latest(): State | undefined;
  waitFor(pred: (s: State) => boolean, ms?: number, what?: string): Promise<State>;
  log(): string;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** The environment for daemons: no jest NODE_OPTIONS, a private XDG_RUNTIME_DIR. */
export function daemonEnv(runtimeDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: runtimeDir };
  delete env.NODE_OPTIONS;
  delete env.DBUS_SESSION_BUS_ADDRESS;
  delete env.DISPLAY; // dbus-next would derive a session bus from an X display
  return env;
}

export async function startDaemon(
  name: string,
  args: string[],
  o: { startTimeoutMs?: number; socketPath?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), `voiced-${name}-`));
  const logFile = join(dir, "voiced.log");
  const recordPath = join(dir, "out.wav");
  const env = { ...daemonEnv(dir), ...o.env };
  const socketPath = o.socketPath ?? voicedSocketPath(env);
  const extra = o.socketPath ? ["--socket", o.socketPath] : [];
  const proc = spawn(process.execPath, [VOICED_BIN, "--log", logFile, "--record", recordPath, ...extra, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  proc.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const deadline = Date.now() + (o.startTimeoutMs ?? 30_000);
  let voice: VoiceDaemon | undefined;
  while (!(voice = await VoiceDaemon.connect(socketPath))) {
    if (proc.exitCode !== null) throw new Error(`voiced ${name} exited with ${proc.exitCode}:\n${out}\n${readLog(logFile)}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`voiced ${name} did not answer on ${socketPath}:\n${out}\n${readLog(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return attachDaemon(name, voice, { dir, logFile, recordPath, output: () => out });
}

function readLog(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function pidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** Wraps a daemon found or started by client/core/voice.ts (or by startDaemon) for tests. */
export function attachDaemon(
  name: string,
  voice: VoiceDaemon,
  o: { dir: string; logFile: string; recordPath: string; output?: () => string },
): TestDaemon {
  const pid = voice.info.pid;
  const updates: VoiceUpdate[] = [];
  const ac = new AbortController();
  void (async () => {
    try {
      for await (const u of voice.watch(ac.signal)) updates.push(u);
    } catch {
      // the daemon went away
    }
  })();
  const latest = () => {
    for (let i = updates.length - 1; i >= 0; i--) {
      const u = updates[i]!;
      if (u.kind === "state") return u.state;
    }
    return undefined;
  };
  const log = () => readLog(o.logFile);
  const gone = async (ms: number) => {
    const end = Date.now() + ms;
    while (!pidGone(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return pidGone(pid);
  };
  return {
    name,
    pid,
    dir: o.dir,
    socketPath: voice.socketPath,
    logFile: o.logFile,
    recordPath: o.recordPath,
    voice,
    updates,
    latest,
    async waitFor(pred, ms = 15_000, what = "a state") {
      const start = Date.now();
      for (;;) {
        const s = latest();
        if (s && pred(s)) return s;
        if (Date.now() - start > ms) {
          throw new Error(
            `voiced ${name}: timed out waiting for ${what}; last state ${JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v))}\nnotices: ${updates
              .filter((u) => u.kind !== "state")
              .map((u) => ("message" in u ? u.message : ""))
              .join(" | ")}\nlog tail:\n${log().split("\n").slice(-25).join("\n")}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    log,
    output: o.output ?? (() => ""),
    async kill(signal = "SIGKILL") {
      ac.abort();
      if (!pidGone(pid)) process.kill(pid, signal);
      await gone(10_000);
    },
    async stop() {
      ac.abort();
      if (pidGone(pid)) return;
      await voice.shutdown().catch(() => process.kill(pid, "SIGTERM"));
      if (!(await gone(5000))) process.kill(pid, "SIGKILL");
      await gone(5000);
    },
  };
}

export function removeDaemonDir(d: TestDaemon): void {
  rmSync(d.dir, { recursive: true, force: true });
}
