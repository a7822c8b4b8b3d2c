// Conversations in the terminal UI (issue 15), end to end: alice replies, edits, reacts and deletes
// from her UI and bob's UI shows each live and after a restart; a mention of bob rings the bell in
// his tmux window and counts in his sidebar; his read state survives a restart and follows him to
// a second install of his account. A real dialtone-server, real `dialtone` processes in tmux;
// every assertion on the UI reads `tmux capture-pane` text or tmux's own bell flag.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { DialtoneClient, login } from "../client/core/index.js";
import type { TmuxSession } from "./support/tmux.js";
import { PASSPHRASE, PASSWORD, startTuiWorld, type TuiWorld } from "./support/tui-world.js";

const SIZE = { width: 110, height: 30 };
let world: TuiWorld;
let alice: TmuxSession;
let bob: TmuxSession;
let general: string;

/** The message pane's rows (left of the sidebar) as one text. */
const pane = (screen: string) =>
  screen
    .split("\n")
    .map((r) => (r.includes("│") ? r.slice(0, r.indexOf("│")) : r).trimEnd())
    .join("\n");
/** The sidebar's rows (right of the pane). */
const sidebar = (screen: string) =>
  screen
    .split("\n")
    .map((r) => (r.includes("│") ? r.slice(r.indexOf("│") + 1).trim() : ""))
    .join("\n");

async function open(who: string): Promise<TmuxSession> {
  const s = await world.startClient(who, SIZE);
  await s.waitFor("[ Login ]", 60_000);
  await s.keys("Enter"); // the saved session resumes with the pre-filled passphrase
  await s.waitFor("● online", 120_000, `${who} online`);
  return s;
}

/** Quits bob's UI (ctrl+q, as a user does) and starts it again. */
async function restart(): Promise<void> {
  await bob.keys("C-q");
  const deadline = Date.now() + 30_000;
  while (await bob.alive()) {
    if (Date.now() > deadline) throw new Error("bob's UI did not quit on ctrl+q");
    await new Promise((r) => setTimeout(r, 100));
  }
  await bob.kill();
  bob = await open("bob");
}

async function command(s: TmuxSession, line: string): Promise<void> {
  await s.type(line);
  await s.keys("Enter");
}

beforeAll(async () => {
  world = await startTuiWorld("dialtone-tui-conversation-");
  const a = await world.install("alice");
  await a.setProfileName("alice", 30_000);
  const b = await world.install("bob", a);
  await b.setProfileName("bob", 30_000);
  general = (await a.createChannel("general")).id;
  const random = (await a.createChannel("random")).id;
  await a.reconcile();
  await b.requireChannelKey(general, 30_000);
  await b.requireChannelKey(random, 30_000);
  await b.send(general, "lunch?", 30_000);
  await a.close();
  await b.close();
}, 300_000);

afterAll(async () => {
  await world?.stop();
}, 60_000);

describe("conversations in the terminal UI", () => {
  test("reply, edit, react and delete from alice's UI show live in bob's, and the same after his restart", async () => {
    alice = await open("alice");
    bob = await open("bob");
    await alice.waitFor("bob: lunch?");
    await bob.waitFor("bob: lunch?");

    // /reply with no selection answers the newest message.
    await command(alice, "/reply yes at noon");
    let screen = await bob.waitFor("alice: yes at noon");
    expect(pane(screen)).toMatch(/↱ bob: lunch\?\n +\[\d\d:\d\d\] alice: yes at noon/);

    // /edit with no selection edits my newest message: one line, the new text, "(edited)".
    await command(alice, "/edit yes at one");
    screen = await bob.waitFor("alice: yes at one (edited)");
    expect(screen).not.toContain("yes at noon");

    // alt+up selects the newest message, up the one before it; + reacts with the emoji typed.
    await alice.keys("M-Up");
    await alice.waitFor("message selected");
    await alice.keys("Up");
    await alice.type("+");
    await alice.waitFor("reacting to (type an emoji) bob: lunch?");
    await alice.type("🍕");
    await alice.keys("Enter");
    screen = await bob.waitFor((t) => /bob: lunch\?\n +🍕 1/.test(pane(t)), 20_000, "the reaction under lunch?");
    expect(pane(await alice.waitFor("[🍕 1]"))).toContain("[🍕 1]"); // her own, in brackets

    // A message deleted from the selection (d, then y) reads "message deleted" in place, live.
    await command(alice, "oops, wrong channel");
    await bob.waitFor("alice: oops, wrong channel");
    await alice.keys("M-Up");
    await alice.type("d");
    await alice.waitFor("y deletes, any other key keeps it");
    await alice.type("y");
    screen = await bob.waitFor("alice: message deleted");
    expect(screen).not.toContain("oops, wrong channel");

    // Bob starts again: the conversation reads the same (the deleted message is simply gone).
    await restart();
    screen = await bob.waitFor("alice: yes at one (edited)", 60_000);
    expect(pane(screen)).toMatch(/↱ bob: lunch\?\n +\[\d\d:\d\d\] alice: yes at one \(edited\)/);
    expect(pane(screen)).toMatch(/bob: lunch\?\n +🍕 1/);
    expect(screen).not.toContain("oops");
    expect(screen).not.toContain("yes at noon");

    // g on a selected reply goes to the message it answers.
    await bob.keys("M-Up");
    await bob.waitFor("message selected: alice: yes at one");
    await bob.type("g");
    await bob.waitFor("message selected: bob: lunch?");
    await bob.keys("Escape");
  }, 400_000);

  test("a mention of bob in a channel he does not have open rings his bell and counts in his sidebar", async () => {
    await command(bob, "/join random");
    await bob.waitFor(/#random/);
    await bob.away(); // his UI's window in the background, as when he works in another one
    expect(await bob.bellFlag()).toBe(false);
    await command(alice, "@bob the room is booked");
    let screen = await bob.waitFor((t) => /general \(1 @1\)/.test(sidebar(t)), 30_000, "general (1 @1) in bob's sidebar");
    // The bell came with the same message (one frame cannot show the count before the bell is written).
    expect(await bob.bellFlag()).toBe(true);
    // A message without a mention counts as unread but does not ring again.
    await command(alice, "and lunch is at one");
    screen = await bob.waitFor((t) => /general \(2 @1\)/.test(sidebar(t)), 30_000, "general (2 @1)");
    expect(pane(screen)).not.toContain("room is booked"); // it went to general, not the open channel
  }, 120_000);

  test("read state survives a restart and follows bob to his second install", async () => {
    // Restart: the counts come back from the server's read marker (random reopens: the last channel).
    await restart();
    const restarted = await bob.waitFor((t) => /general \(2 @1\)/.test(sidebar(t)), 60_000, "general (2 @1) after the restart");
    expect(restarted).toMatch(/#random/); // the last channel used reopens

    // A second install of bob's account reads general up to its newest message: the count here drops.
    const second = await login(
      { server: world.server.url, configDir: join(world.root, "bob2"), passphrase: PASSPHRASE },
      { username: "bob", password: PASSWORD },
    );
    const b2 = await DialtoneClient.fromStore(second.store);
    try {
      const newest = await b2.api.message.listMessages({ channelId: general, beforeSeq: 0n, limit: 1 });
      const seq = newest.messages[0]!.seq;
      await b2.markRead(general, seq);
      await bob.waitFor((t) => /general\s*$/m.test(sidebar(t)) && !/general \(/.test(sidebar(t)), 30_000, "general without counts");

      // And back: alice writes, bob opens general in the UI (reading it), the second install's marker follows.
      await command(alice, "see you there");
      await bob.waitFor((t) => /general \(1\)/.test(sidebar(t)), 30_000, "general (1)");
      await command(bob, "/join general");
      await bob.waitFor("alice: see you there");
      await bob.waitFor("── new messages ──");
      const deadline = Date.now() + 30_000;
      for (;;) {
        await b2.loadReadMarkers();
        if (b2.readMarker(general) > seq) break;
        if (Date.now() > deadline)
          throw new Error(`bob's second install still has general read to ${b2.readMarker(general)}, not past ${seq}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await b2.close();
    }
  }, 200_000);

  test("alice typing in the channel bob has open shows above his input", async () => {
    // (Its going away is not asserted: the notice also expires by itself after 6 s, so such a check could not fail.)
    await alice.type("a draft she has not sent");
    const screen = await bob.waitFor("alice is typing…", 20_000);
    expect(screen.split("\n").findIndex((r) => r.includes("alice is typing…"))).toBe(
      screen.split("\n").findIndex((r) => r.startsWith("  > ")) - 1,
    );
    await alice.keys("C-u");
  }, 60_000);
});
