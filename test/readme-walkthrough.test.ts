// The README's quick start and CLI session, run as written, in a fresh HOME: every command exits
// 0 and nothing printed looks like an error or leaks internals. The shell blocks are read from
// README.md itself, so the README cannot drift from what works.
//
// What is substituted, and why (nothing else is):
// - `npm ci` is skipped: this checkout is installed already, and a reinstall would rewrite the
//   node_modules other test runs share. `npm start` runs as written.
// - The port: `npm start` gets DIALTONE_LISTEN_ADDR=127.0.0.1:<free port> (a variable the README
//   documents), since 8080 may be taken by a parallel run; `http://127.0.0.1:8080` in the client
//   commands becomes the URL the server printed.
// - `<invite from npm start>` becomes the invite the server printed, and `<token>` the token the
//   admin's `dialtone invite` printed: the README tells the reader to copy them from there.
// - The environment: a fresh HOME, no DIALTONE_* or XDG_* variables, and
//   npm_config_update_notifier=false (npm's own "new version of npm" notice is npm's business and
//   needs the registry).
// - "A second terminal" (for `dialtone tail`) is a second shell, started with the first block's
//   `export` lines as the README says; the first terminal's later block runs after those lines too.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { freePort } from "./support/ports.js";
import { cleanEnv, REPO, tempDir, type Env } from "./support/process.js";

/** Text that means something went wrong, or internals leaking to the reader. */
const BAD = [
  /\b(error|failed|warn(ing)?|unexpected|internal|undefined|NaN)\b/i,
  /\b(E[A-Z]{4,}|ERR_[A-Z_]+)\b/,
  /\[object|\n\s+at \S+ \(|the server said|not published/,
];

/** The ```sh blocks of the README section headed `## title`. */
function shBlocks(readme: string, title: string): string[] {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${title}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();
let home: ReturnType<typeof tempDir>;
let env: Env;

/** Starts `bash -e` on a script, in its own process group (so it and its npx children can be stopped). */
function shell(script: string): { proc: ChildProcess; done: Promise<Run>; out: () => string; err: () => string } {
  const proc = spawn("bash", ["-e", "-c", script], { cwd: REPO, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  running.add(proc);
  let stdout = "";
  let stderr = "";
  proc.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  proc.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve) =>
    proc.once("exit", (code, signal) => {
      running.delete(proc);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { proc, done, out: () => stdout, err: () => stderr };
}

async function until(what: string, check: () => boolean, text: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output so far:\n${text()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function expectClean(label: string, text: string): void {
  for (const bad of BAD) {
    const hit = bad.exec(text);
    if (hit) throw new Error(`${label} printed ${JSON.stringify(hit[0])}:\n${text}`);
  }
}

const stop = (proc: ChildProcess, signal: NodeJS.Signals) => {
  if (proc.pid !== undefined && proc.exitCode === null) process.kill(-proc.pid, signal);
};

beforeAll(() => {
  home = tempDir("dialtone-readme-");
  env = cleanEnv({ HOME: home.dir, npm_config_update_notifier: "false" });
  for (const k of Object.keys(env)) if (k.startsWith("XDG_")) delete env[k];
});

afterAll(() => {
  for (const proc of running) stop(proc, "SIGKILL");
  home?.remove();
});

test("the README's quick start and CLI session, as written, in a fresh HOME", async () => {
  const readme = readFileSync(path.join(REPO, "README.md"), "utf8");
  const [quickStart] = shBlocks(readme, "Quick start");
  expect(quickStart).toBe("npm ci && npm start\n");
  const client = shBlocks(readme, "Client");
  expect(client).toHaveLength(3); // the admin's commands, `tail` in a second terminal, the members'
  const [adminBlock, tailBlock, membersBlock] = client as [string, string, string];
  expect(tailBlock).toBe("npx dialtone tail\n");
  const exports = adminBlock
    .split("\n")
    .filter((l) => l.startsWith("export "))
    .join("\n");
  expect(exports).toContain("DIALTONE_CONFIG_DIR");

  // 1. The server, started the README's way.
  const port = await freePort();
  env = { ...env, DIALTONE_LISTEN_ADDR: `127.0.0.1:${port}` };
  const server = shell(quickStart.replace("npm ci && ", ""));
  try {
    await until(
      "the server's invite",
      () => /invite:\s+\S+/.test(server.out()),
      () => server.out() + server.err(),
      180_000,
    );
    const url = /listening on (\S+)/.exec(server.out())![1]!;
    expectClean("the server's banner", server.out().slice(0, server.out().indexOf("\n{")));
    const invite = /invite:\s+(\S+)/.exec(server.out())![1]!;
    const { DIALTONE_LISTEN_ADDR: _, ...clientEnv } = env;
    env = clientEnv;
    const withServer = (block: string) => block.replaceAll("http://127.0.0.1:8080", url);

    // 2. The admin: register, create a channel, mint the members' invite.
    const admin = await shell(withServer(adminBlock).replace("<invite from npm start>", invite)).done;
    expect({ code: admin.code, stderr: admin.stderr }).toEqual({ code: 0, stderr: "" });
    expectClean("the admin's block", admin.stdout);
    expect(admin.stdout).toContain("RECOVERY CODE");
    expect(admin.stdout).toContain("created channel #general");
    const token = admin.stdout.split("\n").find((l) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(l));
    expect(token).toBeDefined();

    // 3. The second terminal: tail, online before the members arrive (as the reader sees it).
    const tail = shell(`${exports}\n${tailBlock}`);
    await until(
      "tail online",
      () => tail.err().includes("-- online"),
      () => tail.out() + tail.err(),
      120_000,
    );

    // 4. Back in the first terminal: the members.
    const members = await shell(`${exports}\n${withServer(membersBlock).replaceAll("<token>", token!)}`).done;
    stop(tail.proc, "SIGINT");
    const tailRun = await tail.done;
    expect({ code: members.code, stderr: members.stderr }).toEqual({ code: 0, stderr: "" });
    expectClean("the members' block", members.stdout);
    // What the README shows history printing.
    expect(members.stdout).toMatch(/\[\d\d:\d\d\] #general alice: hi bob\n\[\d\d:\d\d\] #general bob: hi alice\n/);
    // bob's search runs over his local cache: what his history and send opened, newest first.
    expect(members.stdout).toMatch(
      /\[\d{4}-\d\d-\d\d \d\d:\d\d\] #general bob: hi alice\n\[\d{4}-\d\d-\d\d \d\d:\d\d\] #general alice: hi bob\n/,
    );
    expect(members.stdout).toContain("bob is verified at this number");

    // ctrl-c reaches the whole terminal's process group: dialtone exits 0 on it, npx and the
    // shell around it end by the signal, as they do in a terminal.
    expect(tailRun.code === 0 || tailRun.signal === "SIGINT").toBe(true);
    expectClean("tail", tailRun.stdout + tailRun.stderr);
    expect(tailRun.stdout).toContain("#general alice: hi bob");
    // Each line about a profile once (issue 16, bug 5).
    const profileLines = tailRun.stdout.split("\n").filter((l) => l.includes("is now known as") || l.includes("updated their profile"));
    expect(new Set(profileLines).size).toBe(profileLines.length);
  } finally {
    const stderr = server.err(); // while the reader follows the README (not npm's words on stopping)
    stop(server.proc, "SIGTERM");
    await server.done;
    expectClean("the server", stderr);
  }
}, 900_000);
