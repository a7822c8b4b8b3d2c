// The server under test: a real `dialtone-server` process (bin/dialtone-server.js, as an
// operator runs it), configured through its environment, on PostgreSQL or on its embedded
// PGlite data dir. The bench reaches inside only through the V8 inspector (GC, heap usage,
// CPU profiles, heap snapshots) and GET /metrics (open streams).
//
// BENCH_SERVER_ROOT=DIR runs DIR/bin/dialtone-server.js instead (e.g. an export of an
// earlier commit, with node_modules linked), for before/after comparisons.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { freePort } from "../../test/support/ports.js";
import { Cdp } from "./cdp.js";
import { cpuSeconds, RAISE_NOFILE, ROOT_DIR, rssBytes } from "./proc.js";

export type DbTarget = { kind: "postgres"; url: string } | { kind: "pglite"; dataDir: string };

export interface DialtoneOptions {
  label?: string;
  heartbeatSeconds?: number;
  /** Start with --inspect (needed for gc(), heapUsed(), profiles and snapshots). */
  inspect?: boolean;
}

export const serverRoot = () => path.resolve(process.env.BENCH_SERVER_ROOT ?? ROOT_DIR);
const bin = () => path.join(serverRoot(), "bin", "dialtone-server.js");

function serverEnv(db: DbTarget, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("DIALTONE_")) delete env[k];
  Object.assign(env, {
    DIALTONE_ADMIN_TOKEN: randomBytes(24).toString("hex"),
    DIALTONE_USERNAME_PEPPER: randomBytes(24).toString("hex"),
    DIALTONE_LOG_LEVEL: "warn",
    DIALTONE_AUTH_RATE_PER_IP: "100000",
    // Thousands of streams from this one machine, one HTTP/1.1 connection each.
    DIALTONE_MAX_CONNECTIONS_PER_ADDRESS: "1000000",
    // Tens of thousands of streams over 100 seeded accounts.
    DIALTONE_STREAMS_PER_SESSION: "1000000",
    DIALTONE_SEND_RATE_PER_SESSION: "1000000",
    DIALTONE_SEND_BURST_PER_SESSION: "1000000",
    DIALTONE_STREAMS_PER_DEVICE: "1000000",
    ...(db.kind === "postgres" ? { DIALTONE_DB_URL: db.url } : { DIALTONE_DATA_DIR: db.dataDir }),
    ...extra,
  });
  return env;
}

/** `dialtone-server migrate` on the target (the bench seeds fixtures after it, before the server starts). */
export async function migrate(db: DbTarget): Promise<void> {
  const p = spawn(process.execPath, [bin(), "migrate"], { env: serverEnv(db), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  p.stdout!.on("data", (b: Buffer) => (out += b));
  p.stderr!.on("data", (b: Buffer) => (out += b));
  const code = await new Promise<number | null>((resolve) => p.once("exit", resolve));
  if (code !== 0) throw new Error(`dialtone-server migrate exited ${code}:\n${out}`);
}

export class DialtoneServer {
  cdp: Cdp | undefined;
  private readonly exited: Promise<number | null>;

  constructor(
    readonly proc: ChildProcess,
    readonly port: number,
    private readonly inspectPort: number | undefined,
    readonly label: string,
    private readonly logTail: () => string,
  ) {
    this.exited = new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
  }

  get pid(): number {
    return this.proc.pid!;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  cpu(): number {
    return cpuSeconds(this.pid);
  }
  rss(): number {
    return rssBytes(this.pid);
  }

  /** Open Subscribe streams, from GET /metrics. */
  async streams(): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const m = /^dialtone_event_streams_open (\d+)/m.exec(text);
    return m ? Number(m[1]) : NaN;
  }

  private async inspector(): Promise<Cdp> {
    if (this.inspectPort === undefined) throw new Error(`${this.label}: started without inspect`);
    return (this.cdp ??= await Cdp.connect(this.inspectPort));
  }

  /** Full GCs, then RSS and JS heap in use. */
  async gc(): Promise<{ rss: number; heapUsed: number }> {
    const cdp = await this.inspector();
    for (let i = 0; i < 2; i++) await cdp.send("HeapProfiler.collectGarbage");
    await new Promise((r) => setTimeout(r, 200));
    const h = await cdp.send<{ usedSize: number }>("Runtime.getHeapUsage");
    return { rss: this.rss(), heapUsed: h.usedSize };
  }

  async profileStart(intervalUs = 500): Promise<void> {
    const cdp = await this.inspector();
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await cdp.send("Profiler.start");
  }

  async profileStop(file: string): Promise<void> {
    const cdp = await this.inspector();
    const { profile } = await cdp.send<{ profile: unknown }>("Profiler.stop");
    await writeFile(file, JSON.stringify(profile));
  }

  async heapSnapshot(file: string): Promise<void> {
    const cdp = await this.inspector();
    const out = createWriteStream(file);
    const off = cdp.on("HeapProfiler.addHeapSnapshotChunk", (p) => out.write((p as { chunk: string }).chunk));
    await cdp.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    off();
    await new Promise<void>((resolve) => out.end(resolve));
  }

  /** SIGTERM (the server ends its streams and closes), SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    this.cdp?.close();
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
  }

  log(): string {
    return this.logTail();
  }
}

const live = new Set<DialtoneServer>();
process.once("exit", () => {
  for (const s of live) s.kill();
});

export async function startDialtone(db: DbTarget, o: DialtoneOptions = {}): Promise<DialtoneServer> {
  const label = o.label ?? "dialtone-server";
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const inspectPort = o.inspect ? await freePort() : undefined;
    const env = serverEnv(db, {
      DIALTONE_LISTEN_ADDR: `127.0.0.1:${port}`,
      DIALTONE_HEARTBEAT_SECONDS: String(o.heartbeatSeconds ?? 15),
    });
    const args = [...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : []), bin()];
    const proc = spawn("/bin/sh", [...RAISE_NOFILE, process.execPath, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      cwd: serverRoot(),
    });
    let out = "";
    let err = "";
    proc.stdout!.on("data", (b: Buffer) => (out = (out + b).slice(-20_000)));
    proc.stderr!.on("data", (b: Buffer) => (err = (err + b).slice(-20_000)));
    const server = new DialtoneServer(proc, port, inspectPort, label, () => `${out}\n${err}`);
    const started = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 120_000);
      const check = () => {
        if (!out.includes("listening on")) return;
        clearTimeout(timer);
        resolve(true);
      };
      proc.stdout!.on("data", check);
      proc.once("exit", () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (started) {
      live.add(server);
      proc.once("exit", () => live.delete(server));
      return server;
    }
    server.kill();
    // Another process may take the probed port between freePort() and listen(): retry.
    if (attempt < 3 && /EADDRINUSE/.test(err)) continue;
    throw new Error(`${label} did not start:\n${out}\n${err}`);
  }
}
