// Issue 16, the terminal UI half ("What a newcomer tripped over"): each test drives a real
// `dialtone` in tmux against a real dialtone-server and reads `tmux capture-pane` text. A
// channel deleted on one enter, a saved session that puts the cursor on Username and opens the
// first channel by name, a register form with one error at a time in the server's field names,
// a refused command glued to what is typed next, an input that wraps mid-word, /help and voice
// notices in the open channel, /devices as an unaligned list, and admin work that needed buf curl.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { TmuxSession } from "./support/tmux.js";
import { PASSPHRASE, PASSWORD, startTuiWorld, TONE_VOICE, type TuiWorld } from "./support/tui-world.js";

let world: TuiWorld;
let alice: TmuxSession;

/** A UI whose passphrase is typed (never taken from the environment); its voice daemon plays a tone. */
const startClient = (dir: string, withServer = true) => world.startClient(dir, { passphrase: false, withServer, args: TONE_VOICE });

async function command(s: TmuxSession, line: string): Promise<void> {
  await s.type(line);
  await s.keys("Enter");
}

const rows = (screen: string) => screen.split("\n");
/** The header row. */
const header = (screen: string) => rows(screen)[0] ?? "";
/** The message pane's rows (left of the sidebar, between the header rule and the input rule). */
const pane = (screen: string) => {
  const all = rows(screen);
  const end = all.findIndex((r, i) => i > 1 && r.startsWith("─"));
  return all
    .slice(2, end < 0 ? undefined : end)
    .map((r) => (r.includes("│") ? r.slice(0, r.indexOf("│")) : r).trimEnd())
    .join("\n");
};
/** The sidebar's rows (right of the "│"). */
const sidebar = (screen: string) =>
  rows(screen)
    .filter((r) => r.includes("│"))
    .map((r) => r.slice(r.indexOf("│") + 1).trim());
/** The status row: the rule above the input. */
const statusRow = (screen: string) => {
  const all = rows(screen);
  const at = all.findIndex((r) => r.startsWith("  > "));
  return at > 0 ? all[at - 1]! : "";
};
/** The input box's rows (from the "  > " prompt to the footer), prompt and indent cut off. */
const inputRows = (screen: string) => {
  const all = rows(screen);
  const at = all.findIndex((r) => r.startsWith("  > "));
  return at < 0
    ? []
    : all
        .slice(at)
        .filter((r, i) => i === 0 || r.startsWith("    "))
        .map((r) => r.slice(4));
};

/** Logs in with the passphrase alone: the cursor must already be on it. */
async function resume(s: TmuxSession): Promise<void> {
  await s.waitFor("[ Login ]", 60_000);
  await s.waitFor(/^\s*> Keystore Passphrase/m, 20_000, "the cursor on the passphrase");
  await s.type(PASSPHRASE);
  await s.keys("Enter");
  await s.waitFor("● online", 120_000, "online");
}

beforeAll(async () => {
  world = await startTuiWorld("dialtone-tui-newcomer-");
  const a = await world.install("alice");
  await a.setProfileName("alice", 30_000);
  const b = await world.install("bob", a);
  await b.setProfileName("bob", 30_000);
  for (const name of ["alpha", "beta", "gamma"]) await a.createChannel(name);
  await a.reconcile();
  await b.requireChannelKey(a.channels().find((c) => c.name === "alpha")!.id, 30_000);
  await a.close();
  await b.close();
}, 300_000);

afterAll(async () => {
  await world?.stop();
}, 60_000);

describe("the terminal UI, as a newcomer finds it (issue 16)", () => {
  test("a saved session puts the cursor on the passphrase; started again, the UI reopens the channel used last", async () => {
    alice = await startClient("alice");
    await resume(alice);
    await alice.waitFor((t) => header(t).includes("#alpha"), 30_000, "the first channel by name, the first time");
    await command(alice, "/join gamma");
    await alice.waitFor((t) => header(t).includes("#gamma"));
    await alice.keys("C-q");
    await alice.waitFor((t) => !t.includes("● online"), 30_000, "the UI gone");
    await alice.kill();

    alice = await startClient("alice");
    await resume(alice);
    await alice.waitFor((t) => header(t).includes("#gamma"), 30_000, "#gamma reopened");
  }, 300_000);

  test("/channel delete asks for --yes: without it the channel and its messages stay", async () => {
    await command(alice, "/channel create doomed");
    await alice.waitFor((t) => header(t).includes("#doomed"));
    await command(alice, "a message in doomed");
    await alice.waitFor(/alice: a message in doomed/);
    await command(alice, "/channel delete doomed");
    const asked = await alice.waitFor(/x this deletes #doomed and all its messages, for everyone/, 20_000, "the question");
    expect(asked.replace(/\n\s*/g, " ")).toContain("/channel delete doomed --yes");
    expect(sidebar(asked)).toContain("> doomed");
    expect(asked).not.toContain("deleted channel");
    expect(pane(asked)).toContain("alice: a message in doomed");

    await command(alice, "/channel delete doomed --yes");
    await alice.waitFor((t) => t.includes("deleted channel 'doomed'") && !sidebar(t).some((l) => /doomed/.test(l)), 30_000, "doomed gone");
    await command(alice, "/join gamma");
    await alice.waitFor((t) => header(t).includes("#gamma"));
  }, 120_000);

  test("/help goes to the system view (esc goes back); a voice notice waits there, shown in the status row, not in the channel", async () => {
    await command(alice, "/help");
    const help = await alice.waitFor((t) => /^ › dialtone {2}alice \(admin\) {2}· {2}system\b/.test(header(t)), 20_000, "the system view");
    expect(pane(help)).toMatch(/\/join <channel> +open a channel/);
    expect(sidebar(help)).toContain("> (system)");
    await alice.keys("Escape");
    const back = await alice.waitFor((t) => header(t).includes("#gamma"), 20_000, "back in #gamma");
    expect(pane(back)).not.toMatch(/\/join <channel>|open a channel/);

    // Voice settings with no room joined: the daemon starts, answers, and its words go to the system view.
    await command(alice, "/voice mute");
    const noted = await alice.waitFor(
      (t) => /microphone muted|voice error/.test(statusRow(t)),
      60_000,
      "the voice notice in the status row",
    );
    expect(statusRow(noted)).toContain("(/system)");
    expect(sidebar(noted).some((l) => /^\(system\) \(\d+\)$/.test(l))).toBe(true);
    expect(pane(noted)).not.toMatch(/voice|microphone/);
    expect(header(noted)).toContain("#gamma");
    await command(alice, "/system");
    const sys = await alice.waitFor(
      (t) => header(t).includes("system") && /microphone muted|voice error/.test(pane(t)),
      20_000,
      "the notice in the system view",
    );
    expect(statusRow(sys)).not.toContain("(/system)");
    await alice.keys("Escape");
    await alice.waitFor((t) => header(t).includes("#gamma"));
  }, 180_000);

  test("/admin users lists accounts by name in aligned columns; /admin promote makes bob an admin; /server invite takes --uses and --hours", async () => {
    await command(alice, "/admin users");
    let screen = await alice.waitFor((t) => /accounts \(2\):/.test(pane(t)), 30_000, "the account list");
    const list = pane(screen).split("\n");
    const head = list.find((l) => /name +id +devices +registered +flags/.test(l));
    expect(head).toBeDefined();
    const aliceRow = list.find((l) => /^ +alice +[0-9a-f]{8} +1 +\d{4}-\d\d-\d\d +admin, online$/.test(l));
    const bobRow = list.find((l) => /^ +bob +[0-9a-f]{8} +1 +\d{4}-\d\d-\d\d/.test(l));
    expect(aliceRow).toBeDefined();
    expect(bobRow).toBeDefined();
    expect(bobRow).not.toContain("admin");
    // Columns line up: the id starts in the same column on every row.
    expect(head!.indexOf(" id ") + 1).toBe(bobRow!.search(/[0-9a-f]{8}/));
    expect(aliceRow!.search(/[0-9a-f]{8}/)).toBe(bobRow!.search(/[0-9a-f]{8}/));

    await command(alice, "/admin promote bob");
    await alice.waitFor(/bob \([0-9a-f]{8}\) is now an admin/, 30_000);
    await command(alice, "/admin users");
    screen = await alice.waitFor(
      (t) =>
        pane(t)
          .split("\n")
          .some((l) => /^ +bob +[0-9a-f]{8} .* admin\b/.test(l)),
      30_000,
      "bob an admin",
    );
    expect(
      pane(screen)
        .split("\n")
        .filter((l) => /^ +alice +[0-9a-f]{8} /.test(l))
        .at(-1),
    ).toMatch(/admin, online$/);

    // Removal asks first, like channel deletion.
    await command(alice, "/admin remove bob");
    const asked = await alice.waitFor(/x this removes bob \([0-9a-f]{8}\) for good/, 30_000, "the question");
    expect(asked.replace(/\n\s*/g, " ")).toContain("/admin remove bob --yes");

    await command(alice, "/server invite --uses 3 --hours 2");
    await alice.waitFor(/server invite \(3 uses, expires in 2 h,/, 30_000, "the invite with its uses and lifetime");
    await command(alice, "/invite --uses 0");
    await alice.waitFor("x --uses must be a whole number from 1 to 1000, not 0");
    await alice.keys("C-u");
  }, 180_000);

  test("/devices: a header, aligned columns, grouped by person", async () => {
    await command(alice, "/devices");
    const screen = await alice.waitFor((t) => /devices \(2, of 2 people\):/.test(pane(t)), 30_000, "the device table");
    const list = pane(screen).split("\n");
    const head = list.findIndex((l) => /person +device +fingerprint +last seen +status/.test(l));
    expect(head).toBeGreaterThanOrEqual(0);
    const table = list.slice(head, head + 3);
    expect(table[1]).toMatch(/^ +alice +[0-9a-f]{8} +[0-9a-f]{4}( [0-9a-f]{4}){4} .*this device/);
    expect(table[2]).toMatch(/^ +bob +[0-9a-f]{8} +[0-9a-f]{4}( [0-9a-f]{4}){4}/);
    const col = (l: string) => l.search(/[0-9a-f]{8}/);
    expect(col(table[1]!)).toBe(col(table[2]!));
    expect(table[0]!.indexOf("device")).toBe(col(table[1]!));
    await alice.keys("Escape");
    await alice.waitFor((t) => header(t).includes("#gamma"));
  }, 120_000);

  test("a refused command stays selected: what is typed next replaces it instead of being appended", async () => {
    await command(alice, "/join alhpa");
    const refused = await alice.waitFor("x unknown channel name");
    expect(inputRows(refused)).toEqual(["/join alhpa"]);
    await command(alice, "/join beta");
    const joined = await alice.waitFor((t) => header(t).includes("#beta"), 20_000, "#beta open");
    expect(inputRows(joined).join("")).not.toContain("alhpa");
  }, 60_000);

  test("the input wraps between words, like the messages", async () => {
    const words =
      "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua";
    await alice.keys("C-u"); // an empty input whatever came before
    await alice.resize(60, 24);
    await alice.type(words);
    const screen = await alice.waitFor(
      (t) => rows(t).length === 24 && inputRows(t).length > 1 && t.includes("aliqua"),
      20_000,
      "the wrapped input",
    );
    const shown = inputRows(screen);
    for (const r of shown) for (const w of r.trim().split(/\s+/)) expect(words.split(" ")).toContain(w);
    expect(shown.map((r) => r.trim()).join(" ")).toBe(words);
    await alice.keys("C-u");
    await alice.resize(120, 40);
  }, 60_000);

  test("register form: every problem at once, the cursor on the first field at fault, the form's own words; a server without http:// is taken", async () => {
    const carol = await startClient("carol", false);
    await carol.waitFor("[ Register ]", 60_000);
    await carol.waitFor(/^\s*> Server/m);
    await carol.type(`127.0.0.1:${world.server.port}`);
    await carol.keys("Enter");
    let screen = await carol.waitFor("x username is required", 20_000, "the form's errors");
    for (const e of ["x password is required", "x keystore passphrase must be at least 8 characters", "x invite token is required"])
      expect(screen).toContain(e);
    expect(screen).not.toContain("must start with http");
    expect(screen).toMatch(/^\s*> Username/m);

    await carol.type("carol");
    await carol.keys("Tab");
    await carol.type(PASSWORD);
    await carol.keys("Tab");
    await carol.type(PASSWORD);
    await carol.keys("Tab");
    await carol.type(PASSPHRASE);
    await carol.keys("Tab");
    await carol.type("notaninviteanyoneminted");
    await carol.keys("Up", "Up", "Up"); // the cursor elsewhere: the server's answer moves it back
    await carol.keys("Enter");
    screen = await carol.waitFor("x the server does not know this invite token", 60_000, "the server's refusal, worded");
    expect(screen).not.toContain("invite_token");
    expect(screen).toMatch(/^\s*> Invite Token/m);
  }, 180_000);
});
