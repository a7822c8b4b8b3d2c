// The terminal UI end to end: a real dialtone-server, two real `dialtone` processes in tmux
// (each with its own config dir) driven by keystrokes, and a third member (carol) scripted
// through client/core. Every assertion reads `tmux capture-pane` text: what a user would see.
// With DIALTONE_WRITE_SCREENS=1 the login and chat captures are written to docs/screens/.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { DialtoneClient, register, type ChannelView } from "../client/core/index.js";
import { CLIENT_BIN } from "./support/cli.js";
import { freePort } from "./support/ports.js";
import { cleanEnv, REPO, startServerProcess, tempDir, type ServerProcess } from "./support/process.js";
import { TEST_ADMIN_TOKEN } from "./support/server.js";
import { requireTmux, startTmux, type TmuxSession } from "./support/tmux.js";

const PASSWORD = "correct horse battery staple";
const PASSPHRASE = "keystore passphrase 42";
const WIDTH = 120;
const HEIGHT = 40;
const STAMP = String.raw`\[\d\d:\d\d\]`;

let root: { dir: string; remove: () => void };
let dataDir: string;
let port: number;
let server: ServerProcess;
let alice: TmuxSession | undefined;
let bob: TmuxSession | undefined;
let carol: DialtoneClient | undefined;
let alpha: ChannelView;

async function startServer(): Promise<void> {
  server = await startServerProcess(
    cleanEnv({ DIALTONE_DATA_DIR: dataDir, DIALTONE_LISTEN_ADDR: `127.0.0.1:${port}`, DIALTONE_ADMIN_TOKEN: TEST_ADMIN_TOKEN }),
    180_000,
  );
}

/** `dialtone --server URL` in a 120x40 tmux pane, with only its own config dir and home. */
async function startClient(who: string): Promise<TmuxSession> {
  const home = join(root.dir, `home-${who}`);
  mkdirSync(home, { recursive: true });
  return startTmux([process.execPath, CLIENT_BIN, "--server", server.url], {
    width: WIDTH,
    height: HEIGHT,
    cwd: REPO,
    env: { HOME: home, DIALTONE_CONFIG_DIR: join(root.dir, who), LANG: "C.UTF-8", PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
  });
}

const saveScreen = (name: string, screen: string) => {
  if (process.env["DIALTONE_WRITE_SCREENS"] !== "1") return;
  mkdirSync(join(REPO, "docs", "screens"), { recursive: true });
  writeFileSync(join(REPO, "docs", "screens", name), `${screen.replace(/\s+$/, "")}\n`);
};

/** Fills in the register form key by key (passwords are typed, not taken from the environment). */
async function registerThroughForm(s: TmuxSession, username: string, invite: string, capture?: string): Promise<void> {
  await s.waitFor("[ Register ]", 60_000);
  await s.waitFor(/> Username/); // the server came from --server: the cursor starts on the username
  await s.type(username);
  await s.keys("Tab");
  await s.type(PASSWORD);
  await s.keys("Tab");
  await s.type(PASSWORD);
  await s.keys("Tab");
  await s.type(PASSPHRASE);
  await s.keys("Tab");
  const screen = await s.waitFor(/> Invite Token/);
  // Secrets never show: one "*" per character.
  expect(screen).toContain(`Password             ${"*".repeat(PASSWORD.length)}`);
  expect(screen).not.toContain(PASSWORD);
  if (capture) {
    // The documented capture is taken at 100x24, which also redraws the form for a new size.
    await s.resize(100, 24);
    saveScreen(capture, await s.waitFor((t) => t.split("\n").length === 24 && t.includes("> Invite Token") && t.includes("ctrl+q: quit")));
    await s.resize(WIDTH, HEIGHT);
    await s.waitFor((t) => t.split("\n").length === HEIGHT && t.includes("> Invite Token"));
  }
  await s.type(invite);
  await s.keys("Enter");
  await s.waitFor("● online", 120_000, "the chat screen, online");
}

async function command(s: TmuxSession, line: string): Promise<void> {
  await s.type(line);
  await s.keys("Enter");
}

/** The message pane's rows (left of the sidebar, between the header rule and the input rule), the marker row left out. */
function paneRows(screen: string): string[] {
  const rows = screen.split("\n");
  const end = rows.findIndex((r, i) => i > 1 && r.startsWith("─"));
  return rows
    .slice(2, end < 0 ? undefined : end)
    .map((r) => (r.includes("│") ? r.slice(0, r.indexOf("│")) : r).trimEnd())
    .filter((r) => !/new messages? below|more below/.test(r));
}

const count = (screen: string, text: string) => screen.split(text).length - 1;

/** An invite code an admin's client mints: server token, admission secret, root fingerprint. */
const INVITE_CODE = /[\w-]{43}\.[\w-]{43}\.[\w-]{43}/;

/**
 * Mints an invite with /server invite in the admin's UI, read on a row wide enough for the whole
 * code, in the system view (esc then goes back to the channel). The admin's running client admits whoever registers with it once they publish their identity.
 */
async function inviteFromUi(s: TmuxSession): Promise<string> {
  await s.resize(200, HEIGHT);
  await s.waitFor((t) => t.split("\n")[0]!.length > WIDTH, 20_000, "the admin's UI at 200 columns");
  const before = count((await s.capture()).join("\n"), "server invite (");
  await command(s, "/server invite");
  const screen = await s.waitFor(
    (t) => count(t, "server invite (") > before && INVITE_CODE.test(t.slice(t.lastIndexOf("server invite ("))),
    30_000,
    "the invite code",
  );
  await s.resize(WIDTH, HEIGHT);
  await s.waitFor((t) => t.split("\n")[0]!.length <= WIDTH, 20_000, "the admin's UI back at its width");
  // The invite shows in the system view; esc goes back to the channel open before (if any).
  await s.keys("Escape");
  return INVITE_CODE.exec(screen.slice(screen.lastIndexOf("server invite (")))![0];
}

beforeAll(async () => {
  requireTmux(); // fails (never skips) without tmux
  root = tempDir("dialtone-tui-");
  dataDir = join(root.dir, "server-data");
  port = await freePort();
  await startServer();
}, 240_000);

afterAll(async () => {
  await carol?.close().catch(() => {});
  await alice?.kill();
  await bob?.kill();
  await server?.stop();
  root?.remove();
}, 60_000);

describe("the terminal UI", () => {
  test("two users register through the form, create channels and talk both ways; unread counts and the help footer show", async () => {
    const firstInvite = /invite:\s+(\S+)/.exec(server.stdout())?.[1];
    expect(firstInvite).toBeDefined();
    alice = await startClient("alice");
    await registerThroughForm(alice, "alice", firstInvite!, "login.txt");
    await alice.waitFor(/› dialtone {2}alice \(admin\)/);

    bob = await startClient("bob");
    await registerThroughForm(bob, "bob", await inviteFromUi(alice));
    // Alice's client admits bob (her invite) and shares the directory key with his device: his name is published.
    await bob.waitFor(/› dialtone {2}bob /, 60_000, "bob's published name in his header");

    await command(alice, "/channel create alpha");
    await alice.waitFor(/#alpha {2}·/);
    await command(alice, "/channel create beta");
    await alice.waitFor(/#beta {2}·/);
    await command(alice, "/join alpha");
    await alice.waitFor(/#alpha {2}·/);

    // Bob reads both names once alice's client shared the channel keys with his device.
    await bob.waitFor((s) => /│ .*alpha/.test(s) && /│ .*beta/.test(s), 60_000, "both channels in bob's sidebar");
    await command(bob, "/join alpha");
    await bob.waitFor(/#alpha {2}·/);

    await command(alice, "hello from alice");
    await bob.waitFor(new RegExp(`${STAMP} alice: hello from alice`), 30_000);
    await command(bob, "hi alice, bob here");
    await alice.waitFor(new RegExp(`${STAMP} bob: hi alice, bob here`), 30_000);
    for (const s of [alice, bob]) {
      const screen = (await s.capture()).join("\n");
      expect(screen).toMatch(new RegExp(`${STAMP} alice: hello from alice`));
      expect(screen).toMatch(new RegExp(`${STAMP} bob: hi alice, bob here`));
      expect(count(screen, "hello from alice")).toBe(1);
      expect(count(screen, "hi alice, bob here")).toBe(1);
    }

    // A message in the other channel: bob's sidebar counts it.
    await command(alice, "/join beta");
    await alice.waitFor(/#beta {2}·/);
    await command(alice, "news in beta");
    const bobScreen = await bob.waitFor(/│\s+beta \(1\)/, 30_000, "beta (1) in bob's sidebar");
    expect(bobScreen).not.toContain("news in beta");
    expect(bobScreen).toContain("/help: commands");
    expect(bobScreen).toContain("ctrl+q: quit");
    await command(alice, "/join alpha");
    await alice.waitFor(/#alpha {2}·/);

    // Multi-line entry: alt+enter adds a line; the message keeps it.
    await alice.type("two lines:");
    await alice.keys("M-Enter");
    await alice.type("second line");
    await alice.keys("Enter");
    await bob.waitFor(new RegExp(`${STAMP} alice: two lines:[^\\n]*\\n\\s+second line`), 30_000);

    // A paste keeps its newlines in the input (it is not sent line by line); enter sends it whole.
    await alice.paste("pasted line one\npasted line two");
    await alice.waitFor(/ {2}> pasted line one\n {4}pasted line two/);
    await alice.keys("Enter");
    await bob.waitFor(new RegExp(`${STAMP} alice: pasted line one[^\\n]*\\n\\s+pasted line two`), 30_000);

    // A smaller terminal: everything is laid out again (and this is the documented capture).
    await bob.resize(100, 26);
    const small = await bob.waitFor(
      (t) => {
        const rows = t.split("\n");
        return rows.length === 26 && rows[0]!.endsWith("● online") && rows[0]!.length <= 100 && t.includes("pasted line two");
      },
      20_000,
      "the chat screen redrawn at 100x26",
    );
    expect(small).toMatch(/│\s+beta \(1\)/);
    saveScreen("chat.txt", small);
    await bob.resize(WIDTH, HEIGHT);
    await bob.waitFor((t) => t.split("\n").length === HEIGHT && t.split("\n")[0]!.length > 100);
  }, 600_000);

  test("a user scrolled up keeps seeing the same lines while 200 messages arrive, with the marker shown", async () => {
    const res = await register(
      { server: server.url, configDir: join(root.dir, "carol"), passphrase: PASSPHRASE },
      { username: "carol", password: PASSWORD, invite: await inviteFromUi(alice!) },
    );
    carol = await DialtoneClient.fromStore(res.store);
    await carol.reconcile(); // publishes her identity with the invite's admission request: alice's client admits her
    await carol.setProfileName("carol", 60_000);
    alpha = await carol.resolveChannel("alpha", 60_000);
    await bob!.waitFor(/now known as carol/, 60_000);

    for (let i = 0; i < 100; i++) await carol.send(alpha.id, `fill-${i}`, 60_000);
    await bob!.waitFor(/carol: fill-99\b/, 60_000);

    await bob!.keys("PPage");
    const scrolled = await bob!.waitFor(/more below \(End\)/);
    const before = paneRows(scrolled);
    expect(before.some((r) => /carol: fill-\d+/.test(r))).toBe(true);
    expect(scrolled).not.toMatch(/fill-99\b/);

    for (let i = 0; i < 200; i++) {
      await carol.send(alpha.id, `burst-${i}`);
      if (i % 40 === 39) expect(paneRows((await bob!.capture()).join("\n"))).toEqual(before);
    }
    const after = await bob!.waitFor(/── 200 new messages below \(End\) ──/, 60_000);
    expect(paneRows(after)).toEqual(before);
    expect(after).not.toContain("burst-");

    // End (with nothing typed) goes to the newest messages; the marker goes away.
    await bob!.keys("End");
    const bottom = await bob!.waitFor(/carol: burst-199\b/);
    expect(bottom).not.toMatch(/new messages? below/);
    expect(count(bottom, "burst-199")).toBe(1);
  }, 600_000);

  test("with the server stopped the header shows offline and typing works; after a restart each missed message shows once", async () => {
    await server.stop();
    // Acceptance (issue 4): offline within 5 s of the server going away.
    await bob!.waitFor("○ offline", 5_000);
    await alice!.waitFor("○ offline", 5_000);
    await bob!.type("typed while offline");
    await bob!.waitFor("  > typed while offline");

    await startServer();
    const missed = [0, 1, 2, 3, 4].map((i) => `missed-${i}-while-reconnecting`);
    for (const text of missed) await carol!.send(alpha.id, text);

    for (const s of [bob!, alice!]) {
      const screen = await s.waitFor(
        (t) => t.includes("● online") && missed.every((m) => t.includes(m)),
        120_000,
        "online with every missed message",
      );
      for (const m of missed) expect(count(screen, m)).toBe(1);
    }
    // The draft survived the reconnect.
    expect((await bob!.capture()).join("\n")).toContain("  > typed while offline");
  }, 600_000);

  test("ctrl+q quits and gives the terminal back", async () => {
    await bob!.keys("C-q");
    await bob!.waitFor((s) => !s.includes("› dialtone"), 30_000, "the main screen");
    const deadline = Date.now() + 30_000;
    while ((await bob!.alive()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await bob!.alive()).toBe(false);
  }, 120_000);

  test("started again, a saved session needs only the passphrase; scrolling past the top loads older history", async () => {
    await bob!.kill();
    bob = await startClient("bob");
    await bob.waitFor("[ Login ]", 60_000);
    await bob.waitFor("the passphrase is enough to resume");
    await bob.waitFor(/> Keystore Passphrase/); // the cursor starts where a resume needs it
    await bob.type(PASSPHRASE);
    await bob.keys("Enter");
    await bob.waitFor((t) => t.includes("● online") && t.includes("missed-4-while-reconnecting"), 120_000, "online in #alpha");
    expect((await bob.capture()).join("\n")).not.toContain("hello from alice"); // only the newest page is loaded

    // Each ctrl+home goes to the top of what is loaded, which pages older messages in.
    const deadline = Date.now() + 120_000;
    let screen = "";
    while (!screen.includes("the beginning of #alpha") && Date.now() < deadline) {
      await bob.keys("C-Home");
      await new Promise((r) => setTimeout(r, 300));
      screen = (await bob.capture()).join("\n");
    }
    expect(screen).toContain("the beginning of #alpha");
    expect(screen).toMatch(new RegExp(`${STAMP} alice: hello from alice`));
    expect(count(screen, "hello from alice")).toBe(1);
  }, 300_000);
});
