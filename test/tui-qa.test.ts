// Regressions found by exploring the terminal UI in tmux as a demanding user: small terminals,
// long words, editing a multi-line message, Home, typos in names, sends while the server is
// down (queued, sent once after the reconnect), and a new install of a known account (it waits
// for approval from the account's first device, then reads the history). A real dialtone-server,
// real `dialtone` processes in tmux; every assertion reads `tmux capture-pane` text.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { dialtone } from "./support/cli.js";
import { cleanEnv } from "./support/process.js";
import type { TmuxSession } from "./support/tmux.js";
import { PASSPHRASE, PASSWORD, startTuiWorld, type TuiWorld } from "./support/tui-world.js";

let world: TuiWorld;
let alice: TmuxSession;
let bob: TmuxSession;

async function command(s: TmuxSession, line: string): Promise<void> {
  await s.type(line);
  await s.keys("Enter");
}

const rows = (screen: string) => screen.split("\n");
const count = (screen: string, text: string) => screen.split(text).length - 1;
/** The message pane's rows (left of the sidebar) as one text: a notice wrapped over rows reads whole. */
const paneText = (screen: string) =>
  rows(screen)
    .map((r) => (r.includes("│") ? r.slice(0, r.indexOf("│")) : r).trim())
    .join(" ");
/** The input box's rows (from the "  > " prompt to the footer). */
const inputRows = (screen: string) => {
  const all = rows(screen);
  const at = all.findIndex((r) => r.startsWith("  > "));
  return at < 0 ? [] : all.slice(at).filter((r, i) => i === 0 || r.startsWith("    "));
};

beforeAll(async () => {
  world = await startTuiWorld("dialtone-tui-qa-");
  const a = await world.install("alice");
  await a.setProfileName("alice", 30_000);
  const b = await world.install("bob", a);
  await b.setProfileName("bob", 30_000);
  for (const name of ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]) await a.createChannel(name);
  await a.reconcile();
  await b.requireChannelKey(a.channels().find((c) => c.name === "alpha")!.id, 30_000);
  await a.close();
  await b.close();
}, 300_000);

afterAll(async () => {
  await world?.stop();
}, 60_000);

describe("the terminal UI, as a demanding user finds it", () => {
  test("the login form at 20x8 keeps the focused field and how to quit in view", async () => {
    alice = await world.startClient("alice", { width: 20, height: 8 });
    const screen = await alice.waitFor("[ Login ]", 60_000);
    expect(rows(screen)).toHaveLength(8);
    expect(screen).toContain("ctrl+q: quit");
    // A saved session needs only the passphrase: the cursor goes there.
    const focused = await alice.waitFor(/^> Passphrase +\*+/m);
    await alice.keys("Up"); // short labels: the value has room
    await alice.waitFor(/^> Password/m);
    await alice.keys("Up");
    expect(await alice.waitFor(/^> Username +user/m)).toContain("ctrl+q: quit");
    await alice.keys("Down", "Down");
    await alice.waitFor(/^> Passphrase +\*+/m);
    expect(focused).toContain("ctrl+q: quit");
    await alice.keys("Enter"); // the saved session resumes with the pre-filled passphrase
    await alice.waitFor("● online", 120_000, "alice online");
  }, 300_000);

  test("40x12 and 20x8: the header keeps the channel and the connection, the footer how to quit; ctrl+l shows the sidebar instead of the messages", async () => {
    await alice.resize(40, 12);
    // The name goes before the channel does; the title and the admin badge first.
    let screen = await alice.waitFor(
      (t) => rows(t).length === 12 && /^ alice · #alpha · voice: off +● online$/.test(rows(t)[0]!),
      20_000,
      "the 40x12 header",
    );
    expect(rows(screen).at(-1)).toContain("ctrl+q: quit");
    expect(screen).toContain("> type a message");

    await alice.keys("C-l");
    screen = await alice.waitFor(/^ Channels$/m, 20_000, "the sidebar in place of the messages");
    expect(screen).toMatch(/^ > alpha$/m);
    await alice.keys("C-Down");
    await alice.waitFor(/^ > beta$/m);
    await alice.keys("Enter"); // opens beta and goes back to the messages
    screen = await alice.waitFor((t) => rows(t)[0]!.includes("#beta") && !t.includes(" Channels"), 20_000, "beta open");

    await alice.resize(20, 8);
    screen = await alice.waitFor((t) => rows(t).length === 8 && /^ #beta +● online$/.test(rows(t)[0]!), 20_000, "the 20x8 header");
    expect(rows(screen).at(-1)).toContain("ctrl+q: quit");
    await alice.type("hi");
    await alice.waitFor(/^ {2}> hi$/m);
    await alice.keys("C-u");
    // Three rows for the sidebar: it scrolls to keep the selection in view; esc closes it.
    await alice.keys("C-l");
    await alice.waitFor(/^ > beta$/m);
    await alice.keys("C-Down", "C-Down", "C-Down", "C-Down");
    screen = await alice.waitFor(/^ > zeta$/m, 20_000, "zeta selected and in view");
    expect(screen).not.toContain(" Channels");
    await alice.keys("Escape");
    await alice.waitFor((t) => rows(t)[0]!.includes("#beta") && !/^ > zeta$/m.test(t), 20_000, "the messages again");

    // 60 columns: the messages keep the width (the sidebar left them 18 characters per line).
    await alice.resize(60, 16);
    await alice.type("a line that is long enough to show how wide the message pane is now");
    screen = await alice.waitFor(
      (t) => rows(t).length === 16 && /> a line that is long enough to show how wide/.test(t),
      20_000,
      "the 60x16 input",
    );
    expect(screen).not.toContain("│ Channels");
    await alice.keys("C-u");
    // 80 columns, the common default: the sidebar fits beside the messages.
    await alice.resize(80, 24);
    await alice.waitFor((t) => rows(t).length === 24 && /│ Channels/.test(t), 20_000, "the sidebar beside the messages at 80 columns");
    await alice.resize(100, 30);
    await alice.waitFor((t) => rows(t).length === 30 && /│ Channels/.test(t), 20_000, "the sidebar beside the messages again");
    await command(alice, "/join alpha");
    await alice.waitFor(/#alpha {2}·/);
  }, 300_000);

  test("a word longer than a row starts right after the name (no row with the name alone)", async () => {
    bob = await world.startClient("bob", { width: 100, height: 30 });
    await bob.waitFor("[ Login ]", 60_000);
    await bob.keys("Enter");
    await bob.waitFor("● online", 120_000, "bob online");
    await command(bob, "/join alpha");
    await bob.waitFor(/#alpha {2}·/);
    const word = "w".repeat(150);
    await command(alice, word);
    const screen = await bob.waitFor(/alice: w+/, 30_000, "the long word at bob's");
    expect(screen).not.toMatch(/\] alice: *│/); // not a lone "[HH:MM] alice:" row
    expect((screen.match(/w{5,}/g) ?? []).join("")).toBe(word);
  }, 300_000);

  test("up and down move between the rows of a multi-line message before they reach the history", async () => {
    await command(alice, "an earlier message");
    await alice.waitFor(/alice: an earlier message/);
    await alice.type("line one");
    await alice.keys("M-Enter");
    await alice.type("line two");
    await alice.keys("Up");
    await alice.type("!");
    let screen = await alice.waitFor((t) => inputRows(t).join("\n") === "  > line one!\n    line two", 20_000, "the edit on the first row");
    await alice.keys("Up"); // on the first row: now the history
    screen = await alice.waitFor((t) => inputRows(t).join("\n") === "  > an earlier message", 20_000, "the previous message recalled");
    await alice.keys("Down"); // and back to the draft, intact
    screen = await alice.waitFor((t) => inputRows(t).join("\n") === "  > line one!\n    line two", 20_000, "the draft back");
    expect(screen).not.toContain("not sent");
    await alice.keys("C-u");
    await alice.waitFor("> type a message");
  }, 120_000);

  test("Home with nothing typed goes to the top of the messages, as End goes to the bottom", async () => {
    for (let i = 0; i < 40; i++) await command(alice, `filler ${i}`);
    await alice.waitFor((t) => /alice: filler 39\b/.test(t) && !t.includes("sending…"), 60_000, "every filler sent");
    await alice.keys("Home");
    const top = await alice.waitFor("the beginning of #alpha", 20_000, "the top of #alpha");
    if (/filler 39\b/.test(top)) throw new Error(`the newest message is still in view at the top:\n${top}`);
    await alice.keys("End");
    await alice.waitFor(/alice: filler 39\b/);
  }, 120_000);

  test("a typo in a channel or user name keeps the line to fix it", async () => {
    await command(alice, "/join alhpa");
    let screen = await alice.waitFor("x unknown channel name");
    expect(inputRows(screen)).toEqual(["  > /join alhpa"]);
    await alice.keys("C-u");
    await command(alice, "/verify bbo");
    screen = await alice.waitFor(/x no user named "bbo"/);
    expect(inputRows(screen)).toEqual(["  > /verify bbo"]);
    await alice.keys("C-u");
  }, 60_000);

  test("a channel deleted while another user reads a different one: they are told; the admin sees one line", async () => {
    await command(alice, "/channel create doomed");
    await alice.waitFor(/#doomed {2}·/);
    await bob.waitFor(/│ {3}doomed/, 30_000, "doomed in bob's sidebar");
    await command(alice, "/channel delete doomed --yes");
    const deleted = await alice.waitFor("deleted channel 'doomed'");
    await bob.waitFor("channel #doomed was deleted", 30_000);
    expect((await bob.capture()).join("\n")).not.toMatch(/│ {3}doomed/);
    await command(alice, "/join alpha");
    await alice.waitFor(/#alpha {2}·/);
    expect(deleted).not.toContain("channel #doomed was deleted");
  }, 120_000);

  test("sent while the server is down: shown as waiting, then delivered once after the reconnect (never marked failed, never doubled)", async () => {
    await alice.waitFor(/│ ● bob\b/, 30_000, "bob online in alice's sidebar");
    await world.stopServer();
    await alice.waitFor("○ offline", 30_000);
    // Offline, alice cannot know who is online: bob is no longer shown so (he stayed with the dot).
    await alice.waitFor((t) => /│ ○ bob\b/.test(t) && !/│ ● bob\b/.test(t), 30_000, "bob not shown online while alice is offline");
    await command(alice, "queued while offline 1");
    await command(alice, "queued while offline 2");
    await alice.waitFor(/2 messages waiting for the connection/, 30_000);
    // Voice needs the server too: said plainly, the line kept for later.
    await command(alice, "/voice join");
    const voice = await alice.waitFor("x offline: voice needs the server");
    expect(inputRows(voice)).toEqual(["  > /voice join"]);
    await alice.keys("C-u");
    await world.startServer();
    for (const s of [bob, alice]) {
      const screen = await s.waitFor(
        (t) => t.includes("● online") && /alice: queued while offline 2/.test(t),
        120_000,
        "both queued messages delivered",
      );
      expect(count(screen, "queued while offline 1")).toBe(1);
      expect(count(screen, "queued while offline 2")).toBe(1);
      expect(screen).not.toContain("not sent");
      expect(screen.indexOf("queued while offline 1")).toBeLessThan(screen.indexOf("queued while offline 2"));
    }
    await alice.waitFor((t) => !t.includes("waiting for the connection"), 30_000);
  }, 300_000);

  test("a new install of a known account waits for approval: the others see an unverified device; approved from the first device, it reads the history", async () => {
    const fresh = await world.startClient("bob-laptop", { width: 100, height: 30, passphrase: false });
    await fresh.waitFor("[ Register ]", 60_000);
    await fresh.keys("C-r");
    await fresh.waitFor("[ Login ]");
    await fresh.type("bob");
    await fresh.keys("Tab");
    await fresh.type(PASSWORD);
    await fresh.keys("Tab");
    await fresh.type("laptop passphrase");
    await fresh.keys("Enter");
    await fresh.waitFor("● online", 120_000, "the new install online");
    const waitsFor = /this device \(fingerprint ([0-9a-f]{4}(?: [0-9a-f]{4}){4})\) waits for approval/;
    const waiting = await fresh.waitFor((t) => waitsFor.test(paneText(t)), 60_000, "the wait for approval");
    const fp = waitsFor.exec(paneText(waiting))![1]!;
    expect(paneText(waiting)).toContain(`run /devices approve ${fp}`);
    // Nothing promises it keys before then.
    expect(paneText(waiting)).toContain("this install is a new device of your account");
    expect(paneText(waiting)).not.toContain("channel keys reach it");
    await alice.waitFor((t) => paneText(t).includes(`unverified device of bob: ${fp}`), 60_000, "the unverified device at alice's");
    await bob.waitFor((t) => paneText(t).includes(`a device of your account waits for approval: ${fp}`), 60_000, "the request at bob's");
    // Until approved it gets no keys: the channel names stay sealed to it. Nor is it asked to approve itself.
    const unapproved = (await fresh.capture()).join("\n");
    expect(unapproved).not.toMatch(/│ .{2}alpha\b/);
    expect(paneText(unapproved)).not.toContain("a device of your account waits for approval");
    await command(bob, `/devices approve ${fp}`);
    await bob.waitFor((t) => paneText(t).includes(`approved device ${fp}`), 60_000, "the approval at bob's");
    // The first device hands over the identity and the keys it holds, the older epochs too.
    await fresh.waitFor((t) => paneText(t).includes(`your device ${fp} was approved`), 60_000, "the approval at the new install");
    await fresh.waitFor(/│ .{2}alpha\b/, 60_000, "channel names on the new install");
    await command(fresh, "/join alpha");
    await fresh.waitFor(/alice: queued while offline 2/, 60_000, "alpha's history on the new install");
    await command(fresh, "/devices");
    const devices = await fresh.waitFor(/devices \(\d+, of \d+ people\):/, 30_000);
    expect(paneText(devices)).toMatch(new RegExp(`bob +[0-9a-f]{8} +${fp} .*this device`));
    // Any notice would be queued before /devices answered; give the check a moment to settle.
    await new Promise((r) => setTimeout(r, 2000));
    const after = (await fresh.capture()).join("\n");
    expect(after).not.toContain("a device of your account waits for approval"); // bob's older device is certified
    expect(after).not.toContain("a new device of your account appeared");
  }, 300_000);

  test("a session logged out elsewhere: its stream ends at once, the header says so, the send is refused and not retried; /logout and a fresh login work", async () => {
    const out = await dialtone(
      ["logout", "--server", world.server.url],
      cleanEnv({ DIALTONE_CONFIG_DIR: join(world.root, "bob"), DIALTONE_PASSPHRASE: PASSPHRASE }),
    );
    expect(out.code).toBe(0);
    await command(bob, "after the revocation");
    // The server ends the session's stream at once, and refuses the send.
    const ended = await bob.waitFor((t) => t.includes("○ session ended") && t.includes("not sent ("), 30_000, "session ended");
    expect(ended).toMatch(/the session ended \((the session was logged out|invalid or expired session)\): \/logout, then/);
    expect(ended).toMatch(/not sent \(invalid or expired session/);
    expect(ended).not.toContain("waiting for the connection");
    // The stream the server ended is not announced as a connection to win back.
    expect(ended.slice(ended.indexOf("the session ended ("))).not.toContain("reconnecting");
    await command(bob, "/logout");
    await bob.waitFor("[ Login ]", 30_000);
    await bob.waitFor("logged out");
    await bob.waitFor(/> Username/); // the server is known: the cursor starts on the username
    await bob.type("bob");
    await bob.keys("Tab");
    await bob.type(PASSWORD);
    await bob.keys("Enter");
    await bob.waitFor((t) => t.includes("● online") && t.includes("logged in as bob"), 120_000, "bob logged in again");
  }, 300_000);

  test("quitting with a message still waiting for the server prints it on the terminal given back", async () => {
    await world.stopServer();
    await alice.waitFor("○ offline", 30_000);
    await command(alice, "typed just before quitting");
    await alice.waitFor(/1 message waiting for the connection/, 30_000);
    await alice.keys("C-q");
    // The terminal wraps the line at its width: read it as one text.
    const after = await alice.waitFor(
      (t) => t.replace(/\n/g, "").includes("dialtone: the server never confirmed 1 message"),
      30_000,
      "the unsent message on the terminal",
    );
    expect(after).toMatch(/^ {2}#alpha: typed just before quitting$/m);
    expect(after).not.toContain("› dialtone");
  }, 120_000);
});
