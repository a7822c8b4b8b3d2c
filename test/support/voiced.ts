// dialtone-voiced processes for tests: each in its own runtime dir (its own socket), logging
// to a file, driven through client/core/voice.ts exactly as the CLI drives it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { VoiceDaemon, voicedSocketPath, type State, type VoiceUpdate } from "../../client/core/voice.js";

export const VOICED_BIN = fileURLToPath(new URL("../../bin/dialtone-voiced.js", import.meta.url));

export interface TestDaemon {
  name: string;
  proc: ChildProcess;
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
  return env;
}

export async function startDaemon(name: string, args: string[], o: { startTimeoutMs?: number } = {}): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), `voiced-${name}-`));
  const logFile = join(dir, "voiced.log");
  const recordPath = join(dir, "out.wav");
  const env = daemonEnv(dir);
  const socketPath = voicedSocketPath(env);
  const proc = spawn(process.execPath, [VOICED_BIN, "--log", logFile, "--record", recordPath, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  proc.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const log = () => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  const deadline = Date.now() + (o.startTimeoutMs ?? 30_000);
  let voice: VoiceDaemon | undefined;
  while (!(voice = await VoiceDaemon.connect(socketPath))) {
    if (proc.exitCode !== null) throw new Error(`voiced ${name} exited with ${proc.exitCode}:\n${out}\n${log()}`);
    if (Date.now() > deadline) throw new Error(`voiced ${name} did not answer on ${socketPath}:\n${out}\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
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
  const d: TestDaemon = {
    name,
    proc,
    dir,
    socketPath,
    logFile,
    recordPath,
    voice,
    updates,
    latest,
    async waitFor(pred, ms = 15_000, what = "a state") {
      const start = Date.now();
      for (;;) {
        const s = latest();
        if (s && pred(s)) return s;
        if (Date.now() - start > ms) {
          throw new Error(`voiced ${name}: timed out waiting for ${what}; last state ${JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v))}\nnotices: ${updates.filter((u) => u.kind !== "state").map((u) => ("message" in u ? u.message : "")).join(" | ")}\nlog tail:\n${log().split("\n").slice(-25).join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    log,
    output: () => out,
    async kill(signal = "SIGKILL") {
      ac.abort();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
    async stop() {
      ac.abort();
      if (proc.exitCode === null && proc.signalCode === null) {
        await voice.shutdown().catch(() => proc.kill("SIGTERM"));
        const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  return d;
}

export function removeDaemonDir(d: TestDaemon): void {
  rmSync(d.dir, { recursive: true, force: true });
}
