// deploy/proxy: the shipped nginx and HAProxy configurations pass their own syntax
// checks, and, run for real in front of a server (only ports, certificate and log paths
// changed), carry Connect over HTTP/1.1 and gRPC over HTTP/2 with event streams that are
// not buffered: a live event and heartbeats arrive through the proxy at once.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { AuthService } from "../gen/dialtone/v1/auth_service_pb.js";
import { EventService } from "../gen/dialtone/v1/event_service_pb.js";
import type { Database } from "../server/db/client.js";
import { bearer, registerUser, sealedValue, type TestUser } from "./support/api.js";
import { databaseSource } from "./support/databases.js";
import { freePort, isPortOpen } from "./support/ports.js";
import { REPO, tempDir } from "./support/process.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { selfSigned } from "./support/tls.js";

const run = promisify(execFile);
const INSTALL = "install it with: apt-get install -y haproxy nginx";

let tmp: ReturnType<typeof tempDir>;
let cert: string;
let key: string;
let db: Database;
let server: TestServer;
let admin: TestUser;
const managers: Http2SessionManager[] = [];

beforeAll(async () => {
  tmp = tempDir("dialtone-proxy-");
  const pair = selfSigned(tmp.dir, "proxy", { names: "DNS:localhost" });
  cert = pair.certPath;
  key = pair.keyPath;
  writeFileSync(path.join(tmp.dir, "haproxy.pem"), readFileSync(cert, "utf8") + readFileSync(key, "utf8"));
  mkdirSync(path.join(tmp.dir, "logs"));
  db = await (await databaseSource("pglite")).fresh();
  server = await startTestServer(db, { heartbeatSeconds: 1 });
  admin = await registerUser(server.url);
}, 60_000);
afterAll(async () => {
  managers.forEach((m) => m.abort());
  await server?.close();
  await db?.close();
  tmp?.remove();
});

/** The shipped nginx.conf with only files (and, to run it, ports) changed. */
function nginxConf(ports?: { listen: number; upstream: number }): string {
  let conf = readFileSync(path.join(REPO, "deploy/proxy/nginx.conf"), "utf8")
    .replace("/etc/dialtone/tls/fullchain.pem", cert)
    .replace("/etc/dialtone/tls/privkey.pem", key)
    .replace(/\/var\/log\/nginx\//g, `${tmp.dir}/logs/`);
  if (ports) {
    conf = conf
      .replace(/^\s*listen \[::\]:\d+.*\n/gm, "")
      .replace(/listen 80;/, `listen 127.0.0.1:${ports.listen + 1};`)
      .replace(/listen 443 ssl http2;/, `listen 127.0.0.1:${ports.listen} ssl http2;`)
      .replaceAll("server 127.0.0.1:8080;", `server 127.0.0.1:${ports.upstream};`)
      // One worker: every request meets the idle upstream connections the ones before it left.
      .replace("worker_processes auto;", "worker_processes 1;");
  }
  const file = path.join(tmp.dir, ports ? "nginx-run.conf" : "nginx.conf");
  writeFileSync(file, conf);
  return file;
}

function haproxyCfg(ports?: { listen: number; upstream: number }): string {
  let cfg = readFileSync(path.join(REPO, "deploy/proxy/haproxy.cfg"), "utf8").replace(
    "/etc/dialtone/tls/haproxy.pem",
    path.join(tmp.dir, "haproxy.pem"),
  );
  if (ports) {
    cfg = cfg
      .replace(/bind :443 /, `bind 127.0.0.1:${ports.listen} `)
      .replace(/bind :80\n/, `bind 127.0.0.1:${ports.listen + 1}\n`)
      .replace("127.0.0.1:8080", `127.0.0.1:${ports.upstream}`);
  }
  const file = path.join(tmp.dir, ports ? "haproxy-run.cfg" : "haproxy.cfg");
  writeFileSync(file, cfg);
  return file;
}

const nginxArgs = (conf: string) => [
  "-c",
  conf,
  "-e",
  path.join(tmp.dir, "logs", "error.log"),
  "-g",
  `pid ${path.join(tmp.dir, "nginx.pid")};`,
];

async function tool(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const r = await run(cmd, args);
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string; code?: unknown };
    if (e.code === "ENOENT") throw new Error(`${cmd} not found; ${INSTALL}`);
    return { code: typeof e.code === "number" ? e.code : -1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("syntax", () => {
  test("haproxy -c accepts deploy/proxy/haproxy.cfg without warnings", async () => {
    const r = await tool("haproxy", ["-c", "-f", haproxyCfg()]);
    expect(r).toEqual({ code: 0, output: expect.stringContaining("Configuration file is valid") });
    expect(r.output).not.toMatch(/WARNING|ALERT/);
  });

  test("nginx -t accepts deploy/proxy/nginx.conf without warnings", async () => {
    const r = await tool("nginx", ["-t", ...nginxArgs(nginxConf())]);
    expect(r).toEqual({ code: 0, output: expect.stringContaining("test is successful") });
    expect(r.output).not.toMatch(/\[(warn|emerg|alert)\]/);
  });
});

/** Through the proxy: unary over Connect/HTTP/1.1 and gRPC/HTTP/2, and live events on streams of both. */
async function exercise(port: number) {
  const baseUrl = `https://localhost:${port}`;
  const ca = readFileSync(cert);
  const sm = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: 5 }, { ca });
  managers.push(sm);
  const transports: Record<string, Transport> = {
    "Connect over HTTP/1.1": createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { ca } }),
    "gRPC over HTTP/2": createGrpcTransport({ baseUrl, sessionManager: sm }),
  };
  // Unary calls of both protocols in turn: neither may get the other's idle upstream connection.
  for (let round = 0; round < 5; round++) {
    for (const [name, transport] of Object.entries(transports)) {
      const session = await createClient(AuthService, transport)
        .getSession({}, { headers: bearer(admin.token) })
        .catch((err: unknown) => Promise.reject(new Error(`${name}, round ${round}: ${String(err)}\n${proxyErrors()}`)));
      expect(session.userId).toBe(admin.userId);
    }
  }
  const channelId = randomUUID();
  await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
  for (const [name, transport] of Object.entries(transports)) {
    const auth = createClient(AuthService, transport);
    expect([name, (await auth.getSession({}, { headers: bearer(admin.token) })).userId]).toEqual([name, admin.userId]);

    const ac = new AbortController();
    const seen: string[] = [];
    let sentAt = 0;
    let latency = -1;
    const stream = (async () => {
      try {
        for await (const item of createClient(EventService, transport).subscribe({}, { signal: ac.signal, headers: bearer(admin.token) })) {
          const what = item.item.case === "event" ? (item.item.value.payload.case ?? "") : (item.item.case ?? "");
          if (["hello", "heartbeat", "messageCreated"].includes(what)) seen.push(what); // not presence
          if (item.item.case === "hello") {
            sentAt = performance.now();
            await admin.api.message.sendMessage({
              messageId: randomUUID(),
              channelId,
              encryptedBody: sealedValue(),
              encryptedSenderName: sealedValue(),
              keyEpoch: 1,
            });
          }
          if (item.item.case === "event" && item.item.value.payload.case === "messageCreated") latency = performance.now() - sentAt;
          if (seen.filter((s) => s === "heartbeat").length >= 2) break;
        }
      } finally {
        ac.abort();
      }
    })();
    await stream;
    expect([name, seen.slice(0, 2)]).toEqual([name, ["hello", "messageCreated"]]);
    expect(latency).toBeGreaterThanOrEqual(0);
    expect(latency).toBeLessThan(500); // delivered live, not held in a proxy buffer
  }
  // /healthz through the proxy, and the backend health check sees it too.
  const health = await fetch(`http://127.0.0.1:${port + 1}/healthz`, { redirect: "manual" });
  expect(health.status).toBe(301);
}

/** nginx's error log (the shipped config's path, moved into the temp dir), to explain a failure. */
function proxyErrors(): string {
  try {
    return readFileSync(path.join(tmp.dir, "logs", "dialtone.error.log"), "utf8");
  } catch {
    return "(no nginx error log)";
  }
}

/** Waits until the proxy answers /healthz with 200 (its backend is up). */
async function waitForPort(port: number, proc: ChildProcess, output: () => string) {
  const ca = readFileSync(cert);
  const healthy = () =>
    new Promise<boolean>((resolve) => {
      const req = https.get({ host: "127.0.0.1", port, path: "/healthz", servername: "localhost", ca, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
    });
  for (let i = 0; !(await isPortOpen(port)) || !(await healthy()); i++) {
    if (proc.exitCode !== null || i > 100) throw new Error(`proxy did not start:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freePair(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p < 65000 && !(await isPortOpen(p + 1))) return p;
  }
}

type Launched = { proc: ChildProcess; output: () => string };

function launch(cmd: string, args: string[]): Launched {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  proc.once("error", (err) => (out += `${err.message}; ${INSTALL}`));
  return { proc, output: () => out };
}

async function stop(proc: ChildProcess) {
  proc.kill("SIGTERM");
  await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once("exit", r)));
}

/**
 * Starts a proxy on a free port pair and exercises it. Another process may take the port
 * between our probe and the proxy's bind: then it retries on a new pair (at most 3 times).
 */
async function throughProxy(start: (listen: number) => Launched) {
  for (let attempt = 1; ; attempt++) {
    const listen = await freePair();
    const { proc, output } = start(listen);
    try {
      await waitForPort(listen, proc, output);
    } catch (err) {
      await stop(proc);
      if (attempt < 3 && /Address already in use/.test(output())) continue;
      throw err;
    }
    try {
      await exercise(listen);
    } finally {
      await stop(proc);
    }
    return;
  }
}

describe("running in front of a server", () => {
  test("nginx: Connect and gRPC, events stream through unbuffered", async () => {
    await throughProxy((listen) =>
      launch("nginx", [
        ...nginxArgs(nginxConf({ listen, upstream: server.port })).slice(0, -1),
        `pid ${path.join(tmp.dir, "nginx.pid")}; daemon off;`,
      ]),
    );
  }, 45_000);

  test("HAProxy: Connect and gRPC over an h2c backend, events stream through unbuffered", async () => {
    await throughProxy((listen) => launch("haproxy", ["-db", "-f", haproxyCfg({ listen, upstream: server.port })]));
  }, 45_000);
});
