// The installable product: `npm pack` of this checkout, installed with `npm install -g` into a
// temporary prefix, runs as `dialtone`, `dialtone-server` and `dialtone-voiced` away from the
// repository. The install skips install scripts, as on a machine without a C/C++ toolchain: the
// native audio addons stay unbuilt, text chat must work and voice must say why it cannot start.
// Slow (npm installs every dependency, from the npm cache when it can): see README "Install".
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { freePort } from "./support/ports.js";
import { cleanEnv, REPO, startServerProcess, tempDir, type CliResult, type Env, type ServerProcess } from "./support/process.js";

const tmp = tempDir("dialtone-package-");
const prefix = path.join(tmp.dir, "prefix");
const home = path.join(tmp.dir, "home");
const installed = path.join(prefix, "lib", "node_modules", "dialtone");
const bin = (name: string) => path.join(prefix, "bin", name);

/** The environment of a user of the installed package: its bin directory on PATH, nothing from this run. */
function userEnv(extra: Env = {}): Env {
  const PATH = [path.join(prefix, "bin"), path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter);
  return cleanEnv({
    PATH,
    XDG_CONFIG_HOME: path.join(home, "config"),
    XDG_DATA_HOME: path.join(home, "data"),
    XDG_RUNTIME_DIR: path.join(home, "run"),
    ...extra,
  });
}

/** Runs `file args` in the temporary directory (never the checkout); never rejects. */
function run(file: string, args: string[], env: Env, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const proc = spawn(file, args, { env, cwd: tmp.dir, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.once("error", (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}${err.message}` });
    });
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

function npm(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // cleanEnv drops NODE_OPTIONS (jest's --experimental-vm-modules) and DIALTONE_* settings.
    execFile("npm", args, { cwd, env: cleanEnv(), timeout: 900_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`npm ${args.join(" ")} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

beforeAll(async () => {
  for (const dir of ["config", "data", "run"]) mkdirSync(path.join(home, dir), { recursive: true, mode: 0o700 });
  const packDir = path.join(tmp.dir, "pack");
  mkdirSync(packDir);
  // npm pack runs `prepare` (the build) first, so the tarball holds this checkout's code.
  const tarball = (await npm(["pack", "--silent", "--pack-destination", packDir], REPO)).trim().split("\n").at(-1)!;
  await npm(
    [
      "install",
      "--global",
      "--prefix",
      prefix,
      "--prefer-offline",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      path.join(packDir, tarball),
    ],
    tmp.dir,
  );
}, 900_000);

afterAll(() => tmp.remove());

describe("npm pack | npm install -g", () => {
  test("installs compiled JavaScript with source maps, and no TypeScript", () => {
    const files = readdirSync(installed, { recursive: true, encoding: "utf8" }).filter((f) => !f.startsWith("node_modules"));
    expect(files).toEqual(
      expect.arrayContaining([
        "dist/js/dialtone.js",
        "dist/js/dialtone.js.map",
        "dist/js/dialtone-server.js",
        "dist/js/dialtone-voiced.js",
        // the pre-built embedded database cluster, so a first start skips initdb
        "dist/js/pgdata.tar.gz",
        "dist/js/pgdata.json",
      ]),
    );
    expect(files.filter((f) => f.endsWith(".ts"))).toEqual([]);
    expect(existsSync(path.join(installed, "dist", "js", "migrations", "meta", "_journal.json"))).toBe(true);
  });

  test.each([
    ["dialtone", "Usage: dialtone"],
    ["dialtone-server", "Usage: dialtone-server"],
    ["dialtone-voiced", "Usage: dialtone-voiced"],
  ])("%s --help runs from the prefix's bin directory", async (name, usage) => {
    const r = await run(bin(name), ["--help"], userEnv());
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toContain(usage);
  });

  test("dialtone --help loads neither the terminal UI toolkit nor voice, nor tsx", async () => {
    // Every module specifier the process resolves, through a module hook.
    const hook = `data:text/javascript,${encodeURIComponent(
      `import { register } from "node:module";
       register("data:text/javascript," + encodeURIComponent(
         "export async function resolve(s, c, next) { process.stderr.write('resolve ' + s + '\\\\n'); return next(s, c); }"));`,
    )}`;
    const r = await run(process.execPath, ["--import", hook, bin("dialtone"), "--help"], userEnv());
    expect(r.code).toBe(0);
    const specifiers = r.stderr
      .split("\n")
      .filter((l) => l.startsWith("resolve "))
      .map((l) => l.slice("resolve ".length));
    // The hook saw the program itself load, so an absent package below is really not loaded.
    expect(specifiers.some((s) => s.endsWith("/dist/js/dialtone.js"))).toBe(true);
    for (const lazy of ["terminal-kit", "werift", "@discordjs/opus", "naudiodon", "@electric-sql/pglite", "tsx"])
      expect(specifiers.filter((s) => s === lazy || s.startsWith(`${lazy}/`))).toEqual([]);
  });

  test.each([
    ["--help", 0],
    ["--no-such-flag", 2],
  ])("dialtone-voiced %s loads neither werift, Opus, audio I/O nor D-Bus", async (arg, code) => {
    // ES modules through a resolve hook, and CommonJS ones (native addons load through
    // createRequire) from require's cache at exit: everything the process loaded, by URL or path.
    const hook = `data:text/javascript,${encodeURIComponent(
      `import { createRequire, register } from "node:module";
       register("data:text/javascript," + encodeURIComponent(
         "export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('loaded ' + r.url + '\\\\n'); return r; }"));
       const cache = createRequire(process.cwd() + "/").cache;
       process.on("exit", () => { for (const f of Object.keys(cache)) process.stderr.write("loaded " + f + "\\n"); });`,
    )}`;
    const r = await run(process.execPath, ["--import", hook, bin("dialtone-voiced"), arg], userEnv());
    expect(r.code).toBe(code);
    const loaded = r.stderr
      .split("\n")
      .filter((l) => l.startsWith("loaded "))
      .map((l) => l.slice("loaded ".length));
    // The hook saw the program itself load, so an absent package below is really not loaded.
    expect(loaded.some((f) => f.endsWith("/dist/js/dialtone-voiced.js"))).toBe(true);
    for (const lazy of [
      "werift",
      "@discordjs/opus",
      "naudiodon",
      "dbus-next",
      "@echogarden/rnnoise-wasm",
      "@connectrpc/connect-node",
      "tsx",
    ])
      expect(loaded.filter((f) => f.includes(`/node_modules/${lazy}/`))).toEqual([]);
  });

  describe("a server on the embedded database, and a client", () => {
    let server: ServerProcess;
    const configDir = path.join(home, "config", "ada");
    const clientEnv = () =>
      userEnv({ DIALTONE_CONFIG_DIR: configDir, DIALTONE_PASSWORD: "correct horse battery", DIALTONE_PASSPHRASE: "ada keystore" });

    beforeAll(async () => {
      const env = userEnv({ DIALTONE_LISTEN_ADDR: `127.0.0.1:${await freePort()}`, DIALTONE_DATA_DIR: path.join(tmp.dir, "server-data") });
      server = await startServerProcess(env, 120_000, [bin("dialtone-server")], tmp.dir);
    }, 180_000);
    afterAll(async () => {
      await server?.stop();
    });

    test("answers /healthz", async () => {
      const res = await fetch(`${server.url}/healthz`);
      expect(res.status).toBe(200);
    });

    test("created its database from the package's pre-built cluster, not by initdb", async () => {
      // Log lines are held until the banner, then written in order: "listening" comes after it.
      while (!server.stderr().includes('"msg":"listening"')) await new Promise((r) => setTimeout(r, 20));
      expect(server.stderr()).toContain('"msg":"embedded database created from the pre-built cluster"');
      expect(server.stderr()).not.toContain("initdb");
    });

    test("the installed client registers with the printed invite and says who it is", async () => {
      const invite = /invite:\s+(\S+)/.exec(server.stdout())?.[1];
      expect(invite).toBeDefined();
      const reg = await run(bin("dialtone"), ["register", "--server", server.url, "--username", "ada", "--invite", invite!], clientEnv());
      expect([reg.code, reg.stderr]).toEqual([0, ""]);
      const who = await run(bin("dialtone"), ["whoami", "--json"], clientEnv());
      expect(who.code).toBe(0);
      expect(JSON.parse(who.stdout)).toMatchObject({ server: server.url, is_admin: true });
    }, 120_000);
  });

  test("without the native Opus addon, voice says what is missing and that text works", async () => {
    const socket = path.join(home, "run", "voiced.sock");
    const r = await run(bin("dialtone-voiced"), ["--audio-backend", "tone:440", "--socket", socket], userEnv());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("needs the native module @discordjs/opus");
    expect(r.stderr).toContain("build-essential");
    expect(r.stderr).toContain("Text chat works without it");
  });
});
