// Voice in the terminal UI end to end: a real dialtone-server minting TURN credentials for a real
// coturn on 127.0.0.1, alice in the UI (tmux) with a 440 Hz tone as her microphone and relay-only
// ICE, bob in the same channel's voice room through `dialtone voice join` (880 Hz). Every UI
// assertion reads `tmux capture-pane` text: the header's voice state, the sidebar's "In Voice"
// room with both members and bob's speaking marker, mute, bob's volume, deafen, and leave (which
// bob's CLI sees).
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { rememberServer } from "../client/core/index.js";
import { DialtoneClient, register, VoiceDaemon, voicedSocketPath, type ChannelView } from "../client/core/index.js";
import { mintInvite } from "./support/api.js";
import { CLIENT_BIN, follow, killClients, type FollowProcess } from "./support/cli.js";
import { startCoturn, type Coturn } from "./support/coturn.js";
import { freePort } from "./support/ports.js";
import { cleanEnv, REPO, startServerProcess, tempDir, type Env, type ServerProcess } from "./support/process.js";
import { TEST_ADMIN_TOKEN } from "./support/server.js";
import { requireTmux, startTmux, type TmuxSession } from "./support/tmux.js";

const PASSWORD = "correct horse battery staple";
const PASSPHRASE = "keystore passphrase 42";

let root: { dir: string; remove: () => void };
let coturn: Coturn;
let server: ServerProcess;
let ui: TmuxSession | undefined;
let bobCli: FollowProcess | undefined;
let channel: ChannelView;
let aliceDevice: string;

/** Each user has their own config dir, home, state dir and runtime dir (where the daemon's socket lives). */
const dirs = (who: string) => ({
  config: join(root.dir, who, "config"),
  home: join(root.dir, who, "home"),
  state: join(root.dir, who, "state"),
  run: join(root.dir, who, "run"),
});

const bobEnv = (): Env =>
  cleanEnv({
    DIALTONE_CONFIG_DIR: dirs("bob").config,
    DIALTONE_PASSPHRASE: PASSPHRASE,
    HOME: dirs("bob").home,
    XDG_RUNTIME_DIR: dirs("bob").run,
    XDG_STATE_HOME: dirs("bob").state,
  });

/**
 * Registers through client/core (the UI's own form is covered by tui.test.ts): the first account
 * (the admin) with the server's invite, a member with one the admin's client `inviter` mints,
 * whose next run admits the member and shares its keys.
 */
async function install(who: string, inviter?: DialtoneClient): Promise<DialtoneClient> {
  for (const d of Object.values(dirs(who))) mkdirSync(d, { recursive: true, mode: 0o700 });
  const invite = inviter ? (await inviter.createInvite()).token : await mintInvite(server.url);
  const res = await register(
    { server: server.url, configDir: dirs(who).config, passphrase: PASSPHRASE },
    { username: who, password: PASSWORD, invite },
  );
  await rememberServer(dirs(who).config, server.url); // as `dialtone register` does: the UI opens on Login
  const client = await DialtoneClient.fromStore(res.store);
  await client.reconcile(); // publishes its identity with the invite's admission request
  await inviter?.reconcile();
  return client;
}

/** Kills whatever daemon still answers on a user's socket (a failed test must not leave one). */
async function killDaemon(who: string): Promise<void> {
  const d = await VoiceDaemon.connect(voicedSocketPath({ XDG_RUNTIME_DIR: dirs(who).run })).catch(() => undefined);
  if (!d) return;
  try {
    process.kill(d.info.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

beforeAll(async () => {
  requireTmux(); // fails (never skips) without tmux; startCoturn fails the same way without coturn
  root = tempDir("dialtone-tui-voice-");
  coturn = await startCoturn();
  server = await startServerProcess(
    cleanEnv({
      DIALTONE_DATA_DIR: join(root.dir, "server-data"),
      DIALTONE_LISTEN_ADDR: `127.0.0.1:${await freePort()}`,
      DIALTONE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      DIALTONE_TURN_URLS: coturn.url,
      DIALTONE_TURN_SECRET: coturn.secret,
    }),
    180_000,
  );

  // alice (the first account: admin) and bob, with names, a channel, and its key shared with bob.
  const alice = await install("alice");
  await alice.setProfileName("alice", 30_000);
  const bob = await install("bob", alice); // alice's client admits bob and shares the directory key with his device
  await bob.setProfileName("bob", 30_000);
  channel = await alice.createChannel("talk");
  await alice.reconcile(); // and the channel key
  await bob.requireChannelKey(channel.id, 30_000);
  aliceDevice = alice.me.deviceId;
  await alice.close();
  await bob.close();
}, 300_000);

afterAll(async () => {
  await bobCli?.stop().catch(() => {});
  killClients();
  await ui?.kill();
  await killDaemon("alice");
  await killDaemon("bob");
  await server?.stop();
  await coturn?.stop();
  root?.remove();
}, 60_000);

const typed =
  (type: string, more: (l: Record<string, unknown>) => boolean = () => true) =>
  (l: Record<string, unknown>) =>
    l["type"] === type && more(l);

/** The sidebar's "In Voice" section (the right column, from its heading to the next blank line). */
function inVoice(screen: string): string[] {
  const side = screen.split("\n").map((r) => (r.includes("│") ? r.slice(r.lastIndexOf("│") + 2) : ""));
  const start = side.indexOf("In Voice");
  if (start < 0) return [];
  const end = side.indexOf("", start);
  return side.slice(start + 1, end < 0 ? undefined : end);
}

test("/voice join, the room in the sidebar with both members and bob speaking, /voice mute, volume and deafen, /voice leave (bob's CLI sees alice go)", async () => {
  const a = dirs("alice");
  const voiceLog = join(a.state, "voiced.log");
  ui = await startTmux(
    [process.execPath, CLIENT_BIN, "--server", server.url, "--voice-audio", "tone:440", "--voice-relay-only", "--voice-log", voiceLog],
    {
      width: 120,
      height: 40,
      cwd: REPO,
      env: {
        HOME: a.home,
        DIALTONE_CONFIG_DIR: a.config,
        DIALTONE_PASSPHRASE: PASSPHRASE, // pre-fills the passphrase: the saved session resumes on enter
        XDG_RUNTIME_DIR: a.run,
        XDG_STATE_HOME: a.state,
        LANG: "C.UTF-8",
        PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      },
    },
  );
  const onFailure = (e: unknown) => {
    let log = "";
    try {
      log = readFileSync(voiceLog, "utf8").split("\n").slice(-30).join("\n");
    } catch {
      // no log yet
    }
    throw new Error(
      `${e instanceof Error ? e.message : String(e)}\nalice's daemon log (tail):\n${log}\nbob's CLI stderr:\n${bobCli?.stderr() ?? ""}`,
    );
  };

  try {
    await ui.waitFor("[ Login ]", 60_000);
    await ui.waitFor("the passphrase is enough to resume");
    await ui.keys("Enter");
    await ui.waitFor((s) => s.includes("● online") && /#talk {2}· {2}voice: off/.test(s), 120_000, "alice online in #talk, voice off");
    expect(inVoice((await ui.capture()).join("\n"))).toEqual(["(not connected)"]);

    await ui.type("/voice join");
    await ui.keys("Enter");
    await ui.waitFor(/#talk {2}· {2}voice: #talk/, 60_000, "the header's voice state for #talk");
    // Voice notices go to the system view, not into #talk; the newest shows in the status row.
    await ui.waitFor(/^─ .*voice.* \(\/system\) ─/m, 30_000, "the newest voice notice in the status row");
    await ui.type("/system");
    await ui.keys("Enter");
    const notices = await ui.waitFor(/system {2}· {2}voice: #talk/, 30_000, "the system view");
    expect(notices).toContain(`voice log: ${voiceLog}`);
    await ui.keys("Escape");
    const back = await ui.waitFor(/#talk {2}· {2}voice: #talk/, 30_000, "back in #talk");
    expect(back).not.toContain("voice log:");
    await ui.waitFor(
      (s) => inVoice(s).some((l) => /^• talk/.test(l)) && inVoice(s).some((l) => /alice \(admin\)/.test(l)),
      30_000,
      "alice in the talk room",
    );

    // bob joins the same room from the CLI, with an 880 Hz tone and voice activity detection.
    bobCli = follow(
      ["voice", "join", "#talk", "--server", server.url, "--json", "--voice-audio", "tone:880", "--voice-relay-only", "--voice-ptt", ""],
      bobEnv(),
    );
    await bobCli.waitFor(
      typed("voice_joined", (l) => l["channel_id"] === channel.id && l["relay_only"] === true),
      60_000,
    );
    await bobCli.waitFor(
      typed("voice_member", (l) => l["device_id"] === aliceDevice && l["ready"] === true && l["candidate_type"] === "relay"),
      60_000,
    );

    // Both members in alice's sidebar, bob marked as speaking while his tone plays.
    const both = await ui.waitFor(
      (s) => {
        const room = inVoice(s);
        return room.some((l) => /^ {2}\+ bob$/.test(l)) && room.some((l) => /^ {2}[ +] alice \(admin\)$/.test(l));
      },
      30_000,
      "alice and bob in the In Voice section, bob speaking",
    );
    expect(inVoice(both).filter((l) => / (alice|bob)\b/.test(l))).toHaveLength(2);

    await ui.type("/voice mute");
    await ui.keys("Enter");
    await ui.waitFor(/voice: #talk \(muted\)/, 30_000, "muted in the header");
    await ui.waitFor("microphone muted");

    // Per-person volume by display name, shown beside bob in the voice pane; a name nobody has
    // is refused naming the field, with the line left to fix.
    await ui.type("/voice volume nobody 50");
    await ui.keys("Enter");
    await ui.waitFor('name: no user named "nobody"', 30_000, "the unknown name refused");
    await ui.keys("C-u");
    await ui.type("/voice volume bob 50");
    await ui.keys("Enter");
    await ui.waitFor("bob: volume 50 %", 30_000, "the volume notice");
    await ui.waitFor((s) => inVoice(s).some((l) => /^ {2}[ +] bob · 50%$/.test(l)), 30_000, "bob at 50 % in the voice pane");

    // Deafen shows in the header and beside alice; undeafen brings back the mute chosen before.
    await ui.type("/voice deafen");
    await ui.keys("Enter");
    await ui.waitFor(/voice: #talk \(deafened\)/, 30_000, "deafened in the header");
    await ui.waitFor((s) => inVoice(s).some((l) => /^ {4}alice \(admin\) · deaf$/.test(l)), 30_000, "alice deafened in the voice pane");
    await ui.type("/voice undeafen");
    await ui.keys("Enter");
    await ui.waitFor(/voice: #talk \(muted\)/, 30_000, "undeafened, still muted");
    expect(inVoice((await ui.capture()).join("\n")).some((l) => / · deaf$/.test(l))).toBe(false);

    await ui.type("/voice leave");
    await ui.keys("Enter");
    await ui.waitFor(/#talk {2}· {2}voice: off/, 30_000, "voice: off in the header");
    await ui.waitFor("left voice");
    await bobCli.waitFor(
      typed("voice_member_left", (l) => l["device_id"] === aliceDevice && l["user"] === "alice"),
      30_000,
    );
    // bob's room is still there in alice's sidebar, without alice.
    const after = await ui.waitFor(
      (s) => inVoice(s).some((l) => /bob$/.test(l)) && !inVoice(s).some((l) => /alice/.test(l)),
      30_000,
      "only bob in the room",
    );
    expect(inVoice(after).some((l) => /^• /.test(l))).toBe(false); // not marked as joined any more

    // Out of voice, the UI no longer uses the daemon, and no other client does: it ends.
    const sock = voicedSocketPath({ XDG_RUNTIME_DIR: a.run });
    const unused = Date.now() + 15_000;
    while ((await VoiceDaemon.connect(sock)) && Date.now() < unused) await new Promise((r) => setTimeout(r, 200));
    expect(await VoiceDaemon.connect(sock)).toBeUndefined();
    expect(await ui.alive()).toBe(true);

    // Quitting leaves no daemon either.
    await ui.keys("C-q");
    const deadline = Date.now() + 30_000;
    while ((await ui.alive()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await ui.alive()).toBe(false);
    const gone = Date.now() + 15_000;
    while ((await VoiceDaemon.connect(voicedSocketPath({ XDG_RUNTIME_DIR: a.run }))) && Date.now() < gone)
      await new Promise((r) => setTimeout(r, 200));
    expect(await VoiceDaemon.connect(voicedSocketPath({ XDG_RUNTIME_DIR: a.run }))).toBeUndefined();
  } catch (e) {
    onFailure(e);
  }

  expect(await bobCli!.stop()).toBe(0);
}, 600_000);
