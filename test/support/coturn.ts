// A real coturn (`turnserver`) on 127.0.0.1 for voice tests: REST-credential auth with a shared
// secret (what the Dialtone server mints credentials for), loopback peers allowed (without that
// CHANNEL_BIND gets 403 and werift hangs in "checking"), no TLS/DTLS, a wide relay port range
// (werift does not free allocations on close; the daemon does, but a crash leaves them).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { freePort, isPortOpen } from "./ports.js";

export interface Coturn {
  port: number;
  url: string;
  secret: string;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function turnserverPath(): string {
  const r = spawnSync("sh", ["-c", "command -v turnserver"], { encoding: "utf8" });
  const path = r.stdout.trim();
  if (r.status !== 0 || !path) {
    throw new Error("turnserver (coturn) is not installed: the voice tests need it. Install it with `apt-get install -y coturn`.");
  }
  return path;
}

export interface CoturnOptions {
  minPort?: number;
  maxPort?: number;
  /** Listen here (a restart on the port of a stopped one); default a free port. */
  port?: number;
  /** The REST secret (default random). */
  secret?: string;
  /** Log each session with its user (`-v`). */
  verbose?: boolean;
}

export async function startCoturn(o: CoturnOptions = {}): Promise<Coturn> {
  const bin = turnserverPath();
  const port = o.port ?? (await freePort());
  const secret = o.secret ?? randomBytes(16).toString("hex");
  const proc = spawn(
    bin,
    [
      "-n",
      "--no-cli",
      "--listening-ip=127.0.0.1",
      "--relay-ip=127.0.0.1",
      `--listening-port=${port}`,
      `--min-port=${o.minPort ?? 20000}`,
      `--max-port=${o.maxPort ?? 59999}`,
      "--realm=dialtone.test",
      "--use-auth-secret",
      `--static-auth-secret=${secret}`,
      "--allow-loopback-peers",
      "--fingerprint",
      "--no-tls",
      "--no-dtls",
      "--no-multicast-peers",
      "--log-file=stdout",
      "--simple-log",
      ...(o.verbose ? ["-v"] : []),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  proc.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await isPortOpen(port))) {
    if (proc.exitCode !== null) throw new Error(`turnserver exited with ${proc.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`turnserver did not listen on ${port} in 10 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `turn:127.0.0.1:${port}`,
    secret,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}
