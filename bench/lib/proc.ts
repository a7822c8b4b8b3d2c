// Child processes for the bench: every server and load generator runs in its own Node
// process (TypeScript through tsx), driven over an IPC channel with a tiny request/reply
// protocol. Also reads CPU time and RSS of any process from /proc.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT_DIR = path.resolve(BENCH_DIR, "..");

type Msg = { type: string; [k: string]: unknown };

export interface ChildOptions {
  /** Options handed to the child as JSON in BENCH_OPTS. */
  opts?: unknown;
  /** Extra node flags (e.g. --cpu-prof, --expose-gc). */
  nodeFlags?: string[];
  label?: string;
}

export class Child {
  private seq = 0;
  private waiters = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private listeners: Array<(m: Msg) => void> = [];
  private exited: Promise<number | null>;
  readonly label: string;

  constructor(
    readonly proc: ChildProcess,
    label: string,
  ) {
    this.label = label;
    proc.on("message", (raw) => {
      const m = raw as Msg;
      if (m.type === "reply" || m.type === "error") {
        const w = this.waiters.get(m.id as number);
        if (!w) return;
        this.waiters.delete(m.id as number);
        if (m.type === "reply") w.resolve(m.result);
        else w.reject(new Error(`${label}: ${String(m.message)}`));
        return;
      }
      for (const l of this.listeners) l(m);
    });
    this.exited = new Promise((resolve) =>
      proc.once("exit", (code) => {
        for (const w of this.waiters.values()) w.reject(new Error(`${label} exited (code ${code})`));
        this.waiters.clear();
        resolve(code);
      }),
    );
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Calls a command handler in the child and resolves with its result. */
  call<T = unknown>(cmd: string, args: unknown = {}): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiters.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ type: "call", id, cmd, args });
    });
  }

  /** Resolves with the next event message of `type` the child sends. */
  once<T = Msg>(type: string, timeoutMs = 120_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const l = (m: Msg) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((x) => x !== l);
        resolve(m as T);
      };
      this.listeners.push(l);
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.label} exited (code ${code}) before "${type}"`));
      });
    });
  }

  on(type: string, fn: (m: Msg) => void): void {
    this.listeners.push((m) => m.type === type && fn(m));
  }

  /** Asks the child to exit (its "stop" command), then SIGKILLs it after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    try {
      this.proc.send({ type: "call", id: ++this.seq, cmd: "stop", args: {} });
    } catch {
      this.proc.kill("SIGKILL");
    }
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
  }
}

const live = new Set<Child>();
process.once("exit", () => {
  for (const c of live) c.kill();
});

/**
 * `sh -c … exec "$@"` arguments that raise the soft limit on open files to the hard one (a
 * default soft limit of 1,024 would stop the stream scenarios early), then exec the command:
 * the pid stays the command's.
 */
export const RAISE_NOFILE = ["-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "sh"];

/** Starts `bench/<script>` in a new Node process with tsx and an IPC channel; waits for its "ready". */
export async function startChild(script: string, o: ChildOptions = {}): Promise<{ child: Child; ready: Msg }> {
  const file = path.join(BENCH_DIR, script);
  const label = o.label ?? script;
  // BENCH_CPU_PROF=<regex>: children whose label matches write a --cpu-prof profile on exit.
  const prof =
    process.env.BENCH_CPU_PROF && new RegExp(process.env.BENCH_CPU_PROF).test(label)
      ? ["--cpu-prof", `--cpu-prof-dir=${path.join(BENCH_DIR, "results", "prof")}`, `--cpu-prof-name=${label}.cpuprofile`]
      : [];
  const nodeArgs = ["--import", "tsx", ...prof, ...(o.nodeFlags ?? []), file];
  const env = { ...process.env, BENCH_OPTS: JSON.stringify(o.opts ?? {}) };
  const stdio: Array<"ignore" | "inherit" | "ipc"> = ["ignore", "inherit", "inherit", "ipc"];
  const proc = spawn("/bin/sh", [...RAISE_NOFILE, process.execPath, ...nodeArgs], { stdio, env, cwd: ROOT_DIR, serialization: "advanced" });
  const child = new Child(proc, label);
  live.add(child);
  proc.once("exit", () => live.delete(child));
  const ready = await child.once("ready", 180_000);
  return { child, ready };
}

// ---- child side -------------------------------------------------------------------------

// biome-ignore lint/suspicious/noExplicitAny: each child handler declares its own argument type
export type Handler = (args: any) => unknown;

/** In a child: the options from the parent. */
export function childOptions<T>(): T {
  return JSON.parse(process.env.BENCH_OPTS ?? "{}") as T;
}

/** In a child: serves commands from the parent; "stop" calls onStop then exits. */
export function serve(handlers: Record<string, Handler>, onStop: () => Promise<void> | void = () => {}): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await onStop();
    } finally {
      process.exit(0);
    }
  };
  process.on("message", (raw) => {
    const m = raw as { type: string; id: number; cmd: string; args: unknown };
    if (m.type !== "call") return;
    if (m.cmd === "stop") return void stop();
    const h = handlers[m.cmd];
    if (!h) return void process.send!({ type: "error", id: m.id, message: `unknown command ${m.cmd}` });
    Promise.resolve()
      .then(() => h(m.args))
      .then(
        (result) => process.send!({ type: "reply", id: m.id, result }),
        (err: Error) => process.send!({ type: "error", id: m.id, message: err?.stack ?? String(err) }),
      );
  });
  // The parent went away: nothing left to serve.
  process.on("disconnect", () => process.exit(0));
}

export function emit(type: string, fields: Record<string, unknown> = {}): void {
  process.send?.({ type, ...fields });
}

// ---- /proc ------------------------------------------------------------------------------

const TICK_S = 0.01; // CLK_TCK = 100 on Linux

/** User + system CPU seconds consumed so far by `pid` (its threads included). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // after "pid (comm) ": state is f[0]; utime is field 14 → f[11], stime 15 → f[12]
  return (Number(f[11]) + Number(f[12])) * TICK_S;
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Direct children of `pid` (e.g. the backends of a postmaster). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[1]) === pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** CPU seconds of a process tree: pid and its direct children (exited children counted by the kernel in cutime/cstime). */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_S;
  } catch {
    return NaN;
  }
  for (const c of childPids(pid)) {
    try {
      total += cpuSeconds(c);
    } catch {
      /* gone */
    }
  }
  return total;
}

/** Whole-machine busy and total CPU seconds from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) * TICK_S, total: total * TICK_S };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until `pid` uses under `pct` % of a core over 500 ms (or maxS passes); returns the seconds waited. */
export async function waitIdle(pid: number, maxS = 30, pct = 5): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const c0 = cpuSeconds(pid);
    await sleep(500);
    if (((cpuSeconds(pid) - c0) / 0.5) * 100 < pct || (performance.now() - t0) / 1000 > maxS) return (performance.now() - t0) / 1000;
  }
}
