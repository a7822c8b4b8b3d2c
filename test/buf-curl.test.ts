// The README's promise: with nothing but the repository and buf, an admin mints invites.
// A real server process (bin/dialtone-server.js on a fresh data dir) and the real buf binary,
// over Connect, gRPC (h2c) and gRPC-Web; then SIGTERM with a Subscribe stream open.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { api, bearer, devicePublicKey } from "./support/api.js";
import { freePort } from "./support/ports.js";
import { SERVICES } from "../server/connect.js";
import { REFLECTION_SERVICES } from "../server/services/reflection.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SERVER_BIN = path.join(REPO, "bin", "dialtone-server.js");
// The real binary, not the node wrapper in node_modules/.bin: it can be killed reliably.
const BUF = path.join(REPO, "node_modules", "@bufbuild", "buf-linux-x64", "bin", "buf");

/** buf curl exits with the RPC's code shifted left by three bits (`buf curl --help`). */
const bufExit = (code: Code) => code << 3;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs buf from the repository root (so `--schema proto` resolves). */
function buf(args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(BUF, args, { cwd: REPO, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment without DIALTONE_* settings (or jest's NODE_OPTIONS) leaking in. */
function serverEnv(extra: Record<string, string>): Record<string, string> {
  const base = Object.entries(process.env).filter(([k, v]) => v !== undefined && !k.startsWith("DIALTONE_") && k !== "NODE_OPTIONS");
  return { ...(Object.fromEntries(base) as Record<string, string>), ...extra };
}

interface Server {
  proc: ChildProcess;
  url: string;
  banner: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the server and waits for its banner (it ends with the "Register:" or the "invites:" line). */
async function startServer(dataDir: string): Promise<Server> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = spawn(process.execPath, [SERVER_BIN], {
      cwd: REPO,
      env: serverEnv({ DIALTONE_DATA_DIR: dataDir, DIALTONE_LISTEN_ADDR: `127.0.0.1:${port}` }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    proc.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const started = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 90_000);
      const check = () => {
        if (/listening on/.test(out) && /^(Register: | {2}invites: )/m.test(out)) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      proc.stdout!.on("data", check);
      void exited.then(() => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (started) return { proc, url: `http://127.0.0.1:${port}`, banner: out, stderr: () => err, exited };
    lastError = new Error(`dialtone-server did not start (attempt ${attempt + 1}):\n${out}\n${err}`);
    proc.kill("SIGKILL");
    await exited;
    // Another process may have taken the port between freePort() and listen(): try another.
    if (!/EADDRINUSE/.test(err)) break;
  }
  throw lastError!;
}

describe("buf curl against a real dialtone-server process", () => {
  let dataDir: string;
  let server: Server | undefined;
  let adminToken: string;
  let adminTokenFile: string;
  const spawned: ChildProcess[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "dialtone-buf-curl-"));
    server = await startServer(dataDir);
    const file = /admin token: in (\S+)/.exec(server.banner)?.[1];
    if (!file) throw new Error(`the banner names no admin token file:\n${server.banner}`);
    adminTokenFile = file;
    adminToken = (await readFile(file, "utf8")).trim();
  }, 120_000);

  afterAll(async () => {
    for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    if (server && server.proc.exitCode === null && server.proc.signalCode === null) {
      server.proc.kill("SIGKILL");
      await server.exited;
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const url = () => server!.url;
  const createInviteUrl = () => `${url()}/dialtone.v1.InviteService/CreateInvite`;
  const register = (inviteToken: string, username: string) =>
    api(url()).auth.register({ username, password: "correct horse battery", inviteToken, devicePublicKey: devicePublicKey() });

  test("the banner names the admin token file (mode 0600) and prints an invite that registers the first, admin, account", async () => {
    const { banner } = server!;
    expect(banner).toMatch(/^dialtone-server listening on http:\/\/127\.0\.0\.1:\d+$/m);
    expect(banner).toContain(`data dir:    ${dataDir}`);
    expect(banner).not.toContain(adminToken);
    expect(adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(adminTokenFile).toBe(path.join(dataDir, "admin-token"));
    expect((await stat(adminTokenFile)).mode & 0o777).toBe(0o600);
    const invite = /invite:\s+([A-Za-z0-9_-]{43})\s/.exec(banner)?.[1];
    expect(invite).toBeDefined();
    const res = await register(invite!, "first-admin");
    expect(res.session?.isAdmin).toBe(true);
  });

  test("the README command (Connect over HTTP/1.1) mints an invite that registers an account", async () => {
    const run = await buf(["curl", "--schema", "proto", "--header", `X-Admin-Token: ${adminToken}`, "--data", "{}", createInviteUrl()]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    const out = JSON.parse(run.stdout) as { token: string; invite: { inviteId: string; maxUses: number; expiresAt: string } };
    expect(out.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(out.invite.maxUses).toBe(1);
    expect(Date.parse(out.invite.expiresAt) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    const res = await register(out.token, "via-connect");
    expect(res.session?.isAdmin).toBe(false);
  });

  test("the README's curl line (no buf: a Connect unary call is a JSON POST) mints an invite", async () => {
    const readme = await readFile(path.join(REPO, "README.md"), "utf8");
    const block = /```sh\n(curl -sS -H "Content-Type: application\/json" -H "X-Admin-Token: \$T"[^`]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const line = block!
      .replace(/\\\n\s*/g, "")
      .replace("http://127.0.0.1:8080", url())
      .trim();
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile("bash", ["-c", line], { env: { ...process.env, T: adminToken } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    const { token } = JSON.parse(run.stdout) as { token: string };
    expect(token).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{42}$/);
    expect((await register(token, "via-curl")).session?.userId).toBeTruthy();
  });

  test("the same over gRPC (--protocol grpc --http2-prior-knowledge)", async () => {
    const run = await buf([
      "curl",
      "--schema",
      "proto",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--header",
      `X-Admin-Token: ${adminToken}`,
      "--data",
      "{}",
      createInviteUrl(),
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    const { token } = JSON.parse(run.stdout) as { token: string };
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await register(token, "via-grpc")).session?.userId).toBeTruthy();
  });

  test("the same over gRPC-Web, with options (--protocol grpcweb)", async () => {
    const run = await buf([
      "curl",
      "--schema",
      "proto",
      "--protocol",
      "grpcweb",
      "--header",
      `X-Admin-Token: ${adminToken}`,
      "--data",
      '{"maxUses": 2, "lifetimeSeconds": 3600}',
      createInviteUrl(),
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    const out = JSON.parse(run.stdout) as { token: string; invite: { maxUses: number } };
    expect(out.invite.maxUses).toBe(2);
    await register(out.token, "via-grpcweb-1");
    await register(out.token, "via-grpcweb-2");
  });

  test("a wrong admin token: permission_denied, exit code 7<<3 = 56, on both protocols", async () => {
    for (const extra of [[], ["--protocol", "grpc", "--http2-prior-knowledge"]]) {
      const run = await buf([
        "curl",
        "--schema",
        "proto",
        ...extra,
        "--header",
        "X-Admin-Token: not-the-admin-token",
        "--data",
        "{}",
        createInviteUrl(),
      ]);
      expect(run.code).toBe(bufExit(Code.PermissionDenied));
      expect(run.code).toBe(56);
      expect(JSON.parse(run.stderr)).toEqual({ code: "permission_denied", message: "wrong admin token" });
      expect(run.stdout).toBe("");
    }
  });

  test("no admin token: unauthenticated, exit code 16<<3 = 128, on both protocols", async () => {
    for (const extra of [[], ["--protocol", "grpc", "--http2-prior-knowledge"]]) {
      const run = await buf(["curl", "--schema", "proto", ...extra, "--data", "{}", createInviteUrl()]);
      expect(run.code).toBe(bufExit(Code.Unauthenticated));
      expect(run.code).toBe(128);
      const err = JSON.parse(run.stderr) as { code: string; message: string };
      expect(err.code).toBe("unauthenticated");
      expect(err.message).toMatch(/X-Admin-Token/);
    }
  });

  test("a bad field: invalid_argument naming it, exit code 3<<3 = 24", async () => {
    const run = await buf([
      "curl",
      "--schema",
      "proto",
      "--header",
      `X-Admin-Token: ${adminToken}`,
      "--data",
      '{"maxUses": 5000}',
      createInviteUrl(),
    ]);
    expect(run.code).toBe(bufExit(Code.InvalidArgument));
    expect(JSON.parse(run.stderr)).toEqual({ code: "invalid_argument", message: "max_uses: must be 1 to 1000" });
  });

  test("reflection: without --schema, buf lists every service and method (gRPC and Connect, v1 and v1alpha)", async () => {
    const services = [...SERVICES, ...REFLECTION_SERVICES].map((s) => s.typeName).sort();
    for (const extra of [["--protocol", "grpc"], [], ["--reflect-protocol", "grpc-v1alpha"]]) {
      const listed = await buf(["curl", ...extra, "--http2-prior-knowledge", "--list-services", url()]);
      expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: "" });
      expect(listed.stdout.trim().split("\n").sort()).toEqual(services);
    }
    const methods = await buf(["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", url()]);
    expect(methods.code).toBe(0);
    expect(methods.stdout.trim().split("\n")).toEqual(
      expect.arrayContaining(["dialtone.v1.MessageService/SendMessage", "dialtone.v1.IdentityService/GetRoot"]),
    );
    expect(methods.stdout.trim().split("\n")).toHaveLength([...SERVICES, ...REFLECTION_SERVICES].reduce((n, s) => n + s.methods.length, 0));
  });

  test("reflection: without --schema, buf calls a method (the README's invite line) over Connect and gRPC", async () => {
    for (const [i, extra] of [[], ["--protocol", "grpc", "--http2-prior-knowledge"], ["--reflect-protocol", "grpc-v1alpha"]].entries()) {
      const run = await buf(["curl", ...extra, "--header", `X-Admin-Token: ${adminToken}`, "--data", "{}", createInviteUrl()]);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
      const { token } = JSON.parse(run.stdout) as { token: string };
      expect((await register(token, `via-reflection-${i}`)).session?.userId).toBeTruthy();
    }
  });

  test("a bearer session works through buf too (GetSession)", async () => {
    const { token } = JSON.parse(
      (await buf(["curl", "--schema", "proto", "--header", `X-Admin-Token: ${adminToken}`, "--data", "{}", createInviteUrl()])).stdout,
    ) as { token: string };
    const session = (await register(token, "bearer-user")).session!;
    const run = await buf([
      "curl",
      "--schema",
      "proto",
      "--header",
      `Authorization: Bearer ${session.token}`,
      `${url()}/dialtone.v1.AuthService/GetSession`,
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ userId: session.userId, deviceId: session.deviceId });
  });

  test("SIGTERM with Subscribe streams open: they end with unavailable and the server exits 0 within a few seconds", async () => {
    const s = server!;
    const { token } = JSON.parse(
      (await buf(["curl", "--schema", "proto", "--header", `X-Admin-Token: ${adminToken}`, "--data", "{}", createInviteUrl()])).stdout,
    ) as { token: string };
    const session = (await register(token, "subscriber")).session!;

    // One stream through buf (Connect over HTTP/1.1)...
    const viaBuf = spawn(
      BUF,
      ["curl", "--schema", "proto", "--header", `Authorization: Bearer ${session.token}`, `${s.url}/dialtone.v1.EventService/Subscribe`],
      {
        cwd: REPO,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    spawned.push(viaBuf);
    let bufOut = "";
    let bufErr = "";
    viaBuf.stdout!.on("data", (b: Buffer) => (bufOut += b.toString()));
    viaBuf.stderr!.on("data", (b: Buffer) => (bufErr += b.toString()));
    const bufExited = new Promise<number | null>((resolve) => viaBuf.once("exit", (code) => resolve(code)));
    // ...and one through a Connect client, with replay from the start.
    const stream = api(s.url, bearer(session.token)).event.subscribe({ afterSeq: 0n })[Symbol.asyncIterator]();
    const hello = await stream.next();
    expect((hello.value as { item: { case: string } }).item.case).toBe("hello");
    for (let i = 0; i < 200 && !bufOut.includes('"hello"'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(bufOut).toContain('"streamId"');

    const start = Date.now();
    s.proc.kill("SIGTERM");
    // The Connect stream: replayed events first, then the shutdown error.
    let ended: unknown;
    try {
      for (let r = await stream.next(); !r.done; r = await stream.next());
    } catch (err) {
      ended = err;
    }
    expect(ended).toBeInstanceOf(ConnectError);
    expect((ended as ConnectError).code).toBe(Code.Unavailable);
    expect((ended as ConnectError).rawMessage).toMatch(/shutting down/);

    expect(await bufExited).toBe(bufExit(Code.Unavailable));
    expect(JSON.parse(bufErr)).toEqual({ code: "unavailable", message: "server shutting down; reconnect" });

    const exit = await s.exited;
    const seconds = (Date.now() - start) / 1000;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(seconds).toBeLessThan(8);
    expect(s.stderr()).toMatch(/"msg":"stopped"/);
  }, 60_000);

  test("once accounts exist, a restart prints no invite, only how to mint one", async () => {
    server = await startServer(dataDir);
    expect(server.banner).not.toMatch(/invite:\s+[A-Za-z0-9_-]{43}/);
    expect(server.banner).not.toMatch(/^Register: /m);
    expect(server.banner).toMatch(/invites: +an admin mints them/);
    expect(server.stderr()).not.toMatch(/"msg":"invite created"/);
  }, 120_000);
});
