// The real `dialtone` client binary as child processes: one-shot commands, and long-running
// ones (tail) whose stdout is read as JSON lines. Children run in their own session (no
// controlling terminal), so a command that wrongly prompts fails instead of hanging the suite.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { REPO, type CliResult, type Env } from "./process.js";

export const CLIENT_BIN = path.join(REPO, "bin", "dialtone.js");

const children = new Set<ChildProcess>();

function track(proc: ChildProcess): ChildProcess {
  children.add(proc);
  proc.once("exit", () => children.delete(proc));
  return proc;
}

/** Kills every client process still running (afterAll). */
export function killClients(): void {
  for (const proc of children) proc.kill("SIGKILL");
  children.clear();
}

/** Runs `dialtone ARGS` to completion; never rejects. */
export function dialtone(args: readonly string[], env: Env, opts: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const proc = track(spawn(process.execPath, [CLIENT_BIN, ...args], { env, cwd: REPO, detached: true, stdio: ["pipe", "pipe", "pipe"] }));
    let stdout = "";
    let stderr = "";
    proc.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    proc.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 90_000);
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    proc.stdin!.end(opts.input ?? "");
  });
}

/** Parses JSON-lines output (history --json, tail --json). */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface FollowProcess {
  readonly proc: ChildProcess;
  /** Every JSON object printed so far. */
  lines(): Array<Record<string, unknown>>;
  stderr(): string;
  /** Resolves with the first line (from `from` on) matching `pred`. */
  waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number, from?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a long-running `dialtone ARGS` (e.g. `tail --json`). */
export function follow(args: readonly string[], env: Env): FollowProcess {
  const proc = track(spawn(process.execPath, [CLIENT_BIN, ...args], { env, cwd: REPO, detached: true, stdio: ["ignore", "pipe", "pipe"] }));
  let buffer = "";
  let stderr = "";
  const parsed: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  proc.stdout!.on("data", (c: Buffer) => {
    buffer += c.toString();
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) parsed.push(JSON.parse(line) as Record<string, unknown>);
    }
    for (const w of [...waiters]) w();
  });
  proc.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return {
    proc,
    lines: () => [...parsed],
    stderr: () => stderr,
    waitFor(pred, timeoutMs = 30_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = parsed.slice(from).find(pred);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching line within ${timeoutMs} ms; got:\n${parsed.map((l) => JSON.stringify(l)).join("\n")}\nstderr:\n${stderr}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
