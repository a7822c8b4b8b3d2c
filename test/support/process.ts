// The real `dialtone-server` binary as a child process: one-shot commands (doctor, migrate,
// backup, restore) and a running server whose URL is read from its start-up banner.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const SERVER_BIN = path.join(REPO, "bin", "dialtone-server.js");

export type Env = Record<string, string>;

/** The caller's environment without DIALTONE_* and PG* variables, plus `extra`. */
export function cleanEnv(extra: Env = {}): Env {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k, v]) => v !== undefined && !k.startsWith("DIALTONE_") && !/^PG[A-Z]/.test(k) && k !== "NODE_OPTIONS",
    ),
  ) as Env;
  return { ...base, ...extra };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runServerCli(args: string[], env: Env, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SERVER_BIN, ...args], { env, cwd: REPO, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServerProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `dialtone-server` (this checkout's, or `command` run in `cwd`) and waits for its "listening on" banner. */
export async function startServerProcess(
  env: Env,
  timeoutMs = 60_000,
  command = [process.execPath, SERVER_BIN],
  cwd = REPO,
): Promise<ServerProcess> {
  const [file, ...args] = command as [string, ...string[]];
  const proc = spawn(file, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    // A server that never says it listens is killed: left running, it holds its port and data dir
    // and loads the machine for the suites that follow.
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`server did not start within ${timeoutMs} ms (killed):\n${out}\n${err}`));
    }, timeoutMs);
    const check = () => {
      const m = /dialtone-server listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
  let stopped: Promise<number | null> | undefined;
  return {
    url,
    port: Number(new URL(url).port),
    proc,
    stdout: () => out,
    stderr: () => err,
    stop() {
      stopped ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopped;
    },
  };
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
