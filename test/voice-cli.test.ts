// `dialtone voice join|leave|status|mute` as real processes: the CLI starts its own
// dialtone-voiced (tone backend, relay only through a real coturn) and shows the members of a
// room that a second daemon joined; SIGINT and `voice leave` take it out of the room again.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { Database } from "../server/db/client.js";
import { spawnSync } from "node:child_process";
import { DialtoneClient, login, register, VoiceDaemon, voicedSocketPath, type ChannelView } from "../client/core/index.js";
import { mintInvite } from "./support/api.js";
import { dialtone, follow, killClients, type FollowProcess } from "./support/cli.js";
import { startCoturn, type Coturn } from "./support/coturn.js";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { cleanEnv, type Env } from "./support/process.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { removeDaemonDir, startDaemon, type TestDaemon } from "./support/voiced.js";
import { loadWav, tonePowers } from "./support/wav.js";

const PASSWORD = "correct horse battery";
const PASSPHRASE = "keystore passphrase";
const BOB_NAME = "Bob Example";

let source: DatabaseSource;
let db: Database;
let coturn: Coturn;
let server: TestServer;
let root: string;
let alice: DialtoneClient;
let bob: DialtoneClient;
let channel: ChannelView;
let bobDaemon: TestDaemon;
const clients: DialtoneClient[] = [];

const aliceEnv = (): Env =>
  cleanEnv({
    DIALTONE_CONFIG_DIR: join(root, "alice"),
    DIALTONE_PASSPHRASE: PASSPHRASE,
    XDG_RUNTIME_DIR: join(root, "run"),
    XDG_STATE_HOME: join(root, "state"),
  });

/** `inviter`: the admin's client, whose invite admits the new member when that client next runs. */
async function install(who: string, first: boolean, inviter?: DialtoneClient): Promise<DialtoneClient> {
  const access = { server: server.url, configDir: join(root, who), passphrase: PASSPHRASE };
  const username = `${who}${randomUUID().slice(0, 6)}`;
  const invite = async () => (inviter ? (await inviter.createInvite()).token : await mintInvite(server.url));
  const res = first
    ? await register(access, { username, password: PASSWORD, invite: await invite() })
    : await login(access, { username, password: PASSWORD });
  const client = await DialtoneClient.fromStore(res.store);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "voice-cli-"));
  coturn = await startCoturn();
  source = await databaseSource("pglite");
  db = await source.fresh();
  server = await startTestServer(db, { turn: { urls: [coturn.url], secret: coturn.secret, ttlSeconds: 3600 } });
  alice = await install("alice", true);
  bob = await install("bob", true, alice);
  await bob.reconcile(); // publishes bob's identity with the invite's admission request
  channel = await alice.createChannel(`talk${randomUUID().slice(0, 6)}`);
  await alice.reconcile(); // admits bob and shares the channel key with his device
  await bob.reconcile();
  await alice.store.flush();
  const key = await bob.requireChannelKey(channel.id, 10_000);
  bobDaemon = await startDaemon("bob", ["--audio-backend", "tone:880", "--ptt", "", "--relay-only"]);
  await bobDaemon.voice.join({
    serverUrl: server.url,
    sessionToken: bob.session.token,
    channelId: channel.id,
    channelKey: key.key,
    keyEpoch: key.epoch,
  });
}, 90_000);

afterAll(async () => {
  killClients();
  await bobDaemon?.stop();
  if (bobDaemon) removeDaemonDir(bobDaemon);
  // A daemon the CLI started and did not stop (a failed test) goes too.
  await dialtone(["voice", "status", "--json"], aliceEnv()).then((r) => {
    const pid = r.code === 0 ? (JSON.parse(r.stdout) as { pid?: number }).pid : undefined;
    if (pid) process.kill(pid, "SIGKILL");
  });
  for (const c of clients) await c.close().catch(() => {});
  await server?.close();
  await db?.close();
  await coturn?.stop();
  rmSync(root, { recursive: true, force: true });
});

const typed =
  (type: string, more: (l: Record<string, unknown>) => boolean = () => true) =>
  (l: Record<string, unknown>) =>
    l["type"] === type && more(l);
const bobHas = (deviceId: string) => (s: { members: Array<{ deviceId: string }> }) => s.members.some((m) => m.deviceId === deviceId);
const bobLacks = (deviceId: string) => (s: { members: Array<{ deviceId: string }> }) => !s.members.some((m) => m.deviceId === deviceId);

function exited(p: FollowProcess): Promise<number | null> {
  if (p.proc.exitCode !== null) return Promise.resolve(p.proc.exitCode);
  return new Promise((resolve) => p.proc.once("exit", (code) => resolve(code)));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function joinCli(): FollowProcess {
  return follow(
    [
      "voice",
      "join",
      `#${channel.name!}`,
      "--server",
      server.url,
      "--json",
      "--voice-relay-only",
      "--voice-audio",
      "tone:440",
      "--voice-ptt",
      "",
      "--voice-debug",
      "--voice-vad",
      "400",
    ],
    aliceEnv(),
  );
}

test("voice join starts the daemon, shows bob connected over the relay and speaking, and bob hears alice; SIGINT leaves and stops it", async () => {
  const cli = joinCli();
  const logLine = await cli.waitFor(typed("voice_log"), 60_000);
  expect(logLine["path"]).toBe(join(root, "state", "dialtone", "voiced.log"));
  await cli.waitFor(
    typed("voice_joined", (l) => l["channel_id"] === channel.id && l["device_id"] === alice.me.deviceId && l["relay_only"] === true),
    60_000,
  );
  await cli.waitFor(typed("voice_member_joined", (l) => l["device_id"] === bob.me.deviceId && l["user_id"] === bob.me.userId));
  await cli.waitFor(
    typed("voice_member", (l) => l["device_id"] === bob.me.deviceId && l["ready"] === true && l["candidate_type"] === "relay"),
    30_000,
  );
  await cli.waitFor(
    typed("voice_speaking", (l) => l["device_id"] === bob.me.deviceId && l["speaking"] === true),
    10_000,
  );
  await bobDaemon.waitFor(bobHas(alice.me.deviceId), 10_000, "alice in bob's roster");

  // Alice's tone reaches bob's recording.
  await new Promise((r) => setTimeout(r, 1500));
  const wav = loadWav(bobDaemon.recordPath);
  const last = wav.samples.subarray(wav.samples.length - 48000);
  const powers = tonePowers(last, 440)
    .map((w) => w.power)
    .sort((a, b) => a - b);
  expect(powers[Math.floor(powers.length / 2)]).toBeGreaterThan(5e-3);

  // status (another process) sees the same daemon and room.
  const status = await dialtone(["voice", "status", "--json", "--server", server.url], aliceEnv());
  expect(status.code).toBe(0);
  const st = JSON.parse(status.stdout) as Record<string, unknown> & { members: Array<Record<string, unknown>>; pid: number };
  expect(st).toMatchObject({
    running: true,
    channel_id: channel.id,
    channel: channel.name,
    status: "joined",
    relay_only: true,
    vad_threshold: 400,
    push_to_talk_key: null,
  });
  expect(st.members).toEqual([expect.objectContaining({ device_id: bob.me.deviceId, ready: true, candidate_type: "relay" })]);

  // The daemon the CLI started: the flags on its argv, never the session token; its log 0600 in 0700.
  const cmdline = readFileSync(`/proc/${st.pid}/cmdline`, "utf8");
  expect(cmdline.split("\0")).toEqual(
    expect.arrayContaining(["--relay-only", "--audio-backend", "tone:440", "--vad-threshold", "400", "--debug", "--exit-when-unused"]),
  );
  expect(cmdline).not.toContain(alice.session.token);
  expect(readFileSync(`/proc/${st.pid}/environ`, "utf8")).not.toContain(alice.session.token);
  const log = logLine["path"] as string;
  expect(statSync(log).mode & 0o777).toBe(0o600);
  expect(statSync(dirname(log)).mode & 0o777).toBe(0o700);
  expect(readFileSync(log, "utf8")).not.toContain(alice.session.token);

  // mute shows in the foreground process.
  expect((await dialtone(["voice", "mute"], aliceEnv())).code).toBe(0);
  await cli.waitFor(typed("voice_muted", (l) => l["muted"] === true));

  cli.proc.kill("SIGINT");
  expect(await exited(cli)).toBe(0);
  expect(cli.lines().at(-1)).toMatchObject({ type: "voice_left", channel_id: channel.id });
  await bobDaemon.waitFor(bobLacks(alice.me.deviceId), 5000, "alice gone from bob's roster");
  // It started the daemon, so it stopped it.
  const end = Date.now() + 10_000;
  while (alive(st.pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  expect(alive(st.pid)).toBe(false);
}, 120_000);

/** Waits until the process is gone; false if it is still there after `ms`. */
async function gone(pid: number, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

test("a running daemon with other flags is restarted with the joining client's; status names the channel and people; voice leave ends the daemon once no other client watches it", async () => {
  // A daemon already running with other settings, which another client (this test's watcher,
  // like an open terminal UI) keeps in use.
  await bob.setProfileName(BOB_NAME, 10_000); // what alice's status shows for him
  const socketPath = voicedSocketPath(aliceEnv());
  const old = await startDaemon("alice-old", ["--audio-backend", "tone:300", "--ptt", "", "--exit-when-unused"], { socketPath });
  const cli = joinCli();
  const restarting = await cli.waitFor(
    typed("voice_info", (l) => /restarting the voice daemon/.test(String(l["message"]))),
    60_000,
  );
  expect(restarting["message"]).toContain(`(pid ${old.pid})`);
  expect(restarting["message"]).toContain('--voice-audio "tone:300" → "tone:440"');
  expect(restarting["message"]).toContain('--voice-vad "500" → "400"');
  await cli.waitFor(
    typed("voice_member", (l) => l["device_id"] === bob.me.deviceId && l["ready"] === true),
    60_000,
  );
  expect(await gone(old.pid)).toBe(true);
  removeDaemonDir(old);
  // The new daemon has the new flags: bob hears 440 Hz, not 300.
  await bobDaemon.waitFor((s) => s.members.some((m) => m.deviceId === alice.me.deviceId && m.speaking), 10_000, "alice speaking");
  await new Promise((r) => setTimeout(r, 1000));
  const wav = loadWav(bobDaemon.recordPath);
  const last = wav.samples.subarray(wav.samples.length - 48000);
  const median = (f: number) => {
    const powers = tonePowers(last, f)
      .map((w) => w.power)
      .sort((x, y) => x - y);
    return powers[Math.floor(powers.length / 2)] ?? 0;
  };
  expect(median(440)).toBeGreaterThan(5e-3);
  expect(median(300)).toBeLessThan(median(440) / 100);

  // status, as text: the channel and bob by name (opened with alice's keystore), not ids.
  const status = await dialtone(["voice", "status", "--server", server.url], aliceEnv());
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(`in #${channel.name!}: joined, relay only`);
  expect(status.stdout).toMatch(new RegExp(`^  ${BOB_NAME} \\(${bob.me.deviceId.slice(0, 8)}\\) +connected via relay`, "m"));
  expect(status.stdout).not.toContain("<encrypted>");
  // Without the passphrase (and no terminal to ask on): ids, and a note saying why.
  const { DIALTONE_PASSPHRASE: _, ...noPassphrase } = aliceEnv();
  const bare = await dialtone(["voice", "status", "--server", server.url], noPassphrase);
  expect(bare.code).toBe(0);
  expect(bare.stderr).toMatch(/voice status: showing ids, not names \(DIALTONE_PASSPHRASE is not set and there is no terminal to ask on\)/);
  expect(bare.stdout).toContain(`(${bob.me.deviceId.slice(0, 8)})`);
  const st = JSON.parse((await dialtone(["voice", "status", "--json", "--server", server.url], aliceEnv())).stdout) as {
    pid: number;
    audio_backend: string;
    members: Array<{ user: string }>;
  };
  expect(st.audio_backend).toBe("tone:440");
  expect(st.members.map((m) => m.user)).toEqual([BOB_NAME]);

  // Another client watching keeps the daemon through a leave; it ends when that client stops.
  const watcher = await VoiceDaemon.connect(socketPath);
  const ac = new AbortController();
  const watching = (async () => {
    for await (const _ of watcher!.watch(ac.signal));
  })();
  const left = await dialtone(["voice", "leave", "--json"], aliceEnv());
  expect(left.code).toBe(0);
  expect(JSON.parse(left.stdout)).toEqual({ left: true, channel_id: channel.id });
  expect(await exited(cli)).toBe(0);
  expect(cli.lines().at(-1)).toMatchObject({ type: "voice_left", channel_id: channel.id });
  await bobDaemon.waitFor(bobLacks(alice.me.deviceId), 5000, "alice gone from bob's roster");
  expect(await gone(st.pid, 4000)).toBe(false); // well past its 1.5 s grace: still in use
  ac.abort();
  await watching;
  expect(await gone(st.pid)).toBe(true);
  expect(JSON.parse((await dialtone(["voice", "status", "--json"], aliceEnv())).stdout)).toEqual({ running: false });
}, 180_000);

test("voice leave from another process ends a running voice join and, with no other client, the daemon: no process left", async () => {
  const cli = joinCli();
  await cli.waitFor(
    typed("voice_member", (l) => l["device_id"] === bob.me.deviceId && l["ready"] === true),
    60_000,
  );
  const { pid } = JSON.parse((await dialtone(["voice", "status", "--json"], aliceEnv())).stdout) as { pid: number };
  const left = await dialtone(["voice", "leave", "--json"], aliceEnv());
  expect(left.code).toBe(0);
  expect(await exited(cli)).toBe(0);
  expect(await gone(pid)).toBe(true);
  expect(JSON.parse((await dialtone(["voice", "status", "--json"], aliceEnv())).stdout)).toEqual({ running: false });
  const procs = spawnSync("pgrep", ["-f", "--", `--socket ${voicedSocketPath(aliceEnv())}`], { encoding: "utf8" });
  expect(procs.stdout.trim()).toBe(""); // no daemon on alice's socket under any pid
}, 120_000);

test("bad voice flags exit 1 with a clear message before anything starts; no daemon: status says so, mute exits 2", async () => {
  const env = aliceEnv();
  for (const [flag, message] of [
    [["--voice-vad", "0"], /--voice-vad: "0" is not a whole number from 1 to 32767/],
    [["--voice-ptt-backend", "x11"], /--voice-ptt-backend: "x11" is not auto, portal, hotkey or none/],
    [["--voice-denoise", "no"], /--voice-denoise: "no" is not on or off/],
    [["--voice-turn", "turn.example"], /--voice-turn: needs --voice-turn-user and --voice-turn-pass/],
    [["--voice-audio", "speakers"], /--voice-audio: "speakers" is not device/],
  ] as const) {
    const r = await dialtone(["voice", "join", "#anything", ...flag], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^dialtone: /);
  }
  const usage = await dialtone(["voice", "join"], env);
  expect(usage.code).toBe(1);
  expect(usage.stderr).toMatch(/usage: dialtone voice join CHANNEL/);

  // Wait for the previous test's daemon to be gone.
  const deadline = Date.now() + 10_000;
  let status = await dialtone(["voice", "status", "--json"], env);
  while ((JSON.parse(status.stdout) as { running: boolean }).running && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    status = await dialtone(["voice", "status", "--json"], env);
  }
  expect(JSON.parse(status.stdout)).toEqual({ running: false });
  const mute = await dialtone(["voice", "mute"], env);
  expect(mute.code).toBe(2);
  expect(mute.stderr).toMatch(/no voice daemon is running/);
  const help = await dialtone(["voice", "join", "--help"], env);
  expect(help.stdout).toMatch(/--voice-ptt-backend B/);
  expect(help.stdout).toMatch(/--voiced PATH/);
}, 120_000);
