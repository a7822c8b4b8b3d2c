// Deafen and per-person volume end to end: a real server and coturn, two dialtone-voiced
// processes (tone backends, relay only, real Opus), alice's daemon driven by the `dialtone voice`
// CLI and joined through client/core's VoiceSession (as the CLI's and the UI's join do). What is
// heard is measured in the daemons' recordings, over stretches recorded after each change.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { Database } from "../server/db/client.js";
import { DialtoneClient, register, VoiceSession, type ChannelView } from "../client/core/index.js";
import { mintInvite } from "./support/api.js";
import { dialtone, killClients } from "./support/cli.js";
import { startCoturn, type Coturn } from "./support/coturn.js";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { cleanEnv, type Env } from "./support/process.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { daemonEnv, removeDaemonDir, startDaemon, type TestDaemon } from "./support/voiced.js";
import { goertzel, loadWav } from "./support/wav.js";

const PASSWORD = "correct horse battery";
const PASSPHRASE = "keystore passphrase";
const BOB_NAME = "Bob Example";
const ALICE_TONE = 440;
const BOB_TONE = 880;

let source: DatabaseSource;
let db: Database;
let coturn: Coturn;
let server: TestServer;
let root: string;
let alice: DialtoneClient;
let bob: DialtoneClient;
let channel: ChannelView;
let a: TestDaemon;
let b: TestDaemon;
let session: VoiceSession;
const daemons: TestDaemon[] = [];
const clients: DialtoneClient[] = [];
/** Power of bob's tone in alice's recording at 100 % (test "volume"), the reference for the others. */
let fullPower = 0;

/** The CLI's environment for alice: her config dir, and the runtime dir of `d`, so it talks to that daemon. */
const aliceEnv = (d: TestDaemon): Env =>
  cleanEnv({ DIALTONE_CONFIG_DIR: join(root, "alice"), DIALTONE_PASSPHRASE: PASSPHRASE, XDG_RUNTIME_DIR: d.dir });

async function install(who: string, inviter?: DialtoneClient): Promise<DialtoneClient> {
  const access = { server: server.url, configDir: join(root, who), passphrase: PASSPHRASE };
  const invite = inviter ? (await inviter.createInvite()).token : await mintInvite(server.url);
  const res = await register(access, { username: `${who}${randomUUID().slice(0, 6)}`, password: PASSWORD, invite });
  const client = await DialtoneClient.fromStore(res.store);
  clients.push(client);
  return client;
}

const daemonArgs = (tone: number) => ["--audio-backend", `tone:${tone}`, "--ptt", "", "--relay-only"];

/** Alice in the room through a VoiceSession on daemon `d` (which hands it her remembered volumes). */
async function aliceJoins(d: TestDaemon): Promise<VoiceSession> {
  const s = new VoiceSession(alice, {}, daemonEnv(d.dir));
  await s.join(channel.id, 10_000);
  return s;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "voice-deafen-"));
  coturn = await startCoturn();
  source = await databaseSource("pglite");
  db = await source.fresh();
  server = await startTestServer(db, { turn: { urls: [coturn.url], secret: coturn.secret, ttlSeconds: 3600 } });
  alice = await install("alice");
  bob = await install("bob", alice);
  await bob.reconcile(); // publishes bob's identity with the invite's admission request
  channel = await alice.createChannel(`talk${randomUUID().slice(0, 6)}`);
  await alice.reconcile(); // admits bob and shares the channel key with his device
  await bob.reconcile();
  await bob.setProfileName(BOB_NAME, 10_000); // the name alice's CLI sets his volume by
  await alice.store.flush();
  [a, b] = await Promise.all([startDaemon("alice", daemonArgs(ALICE_TONE)), startDaemon("bob", daemonArgs(BOB_TONE))]);
  daemons.push(a, b);
  const key = await bob.requireChannelKey(channel.id, 10_000);
  await b.voice.join({
    serverUrl: server.url,
    sessionToken: bob.session.token,
    channelId: channel.id,
    channelKey: key.key,
    keyEpoch: key.epoch,
  });
  session = await aliceJoins(a);
  await a.waitFor(heard(bob.me.deviceId), 30_000, "bob connected over the relay and heard");
  await b.waitFor(heard(alice.me.deviceId), 30_000, "alice connected over the relay and heard");
}, 120_000);

afterAll(async () => {
  killClients();
  await session?.close();
  await Promise.all(daemons.map((d) => d.stop()));
  daemons.forEach(removeDaemonDir);
  for (const c of clients) await c.close().catch(() => {});
  await server?.close();
  await db?.close();
  await coturn?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

const heard =
  (deviceId: string) => (s: { members: Array<{ deviceId: string; ready: boolean; candidateType: string; speaking: boolean }> }) =>
    s.members.some((m) => m.deviceId === deviceId && m.ready && m.candidateType === "relay" && m.speaking);
const quiet = (deviceId: string) => (s: { members: Array<{ deviceId: string; speaking: boolean }> }) =>
  s.members.some((m) => m.deviceId === deviceId && !m.speaking);

const SAMPLES_PER_MS = 48;

/**
 * What `d` records from now on: waits until its recording has grown by `settleMs + ms` and returns
 * the last `ms` of that (the first `settleMs` may still hold audio from before the change, in the
 * jitter buffer or not yet flushed to the file).
 */
async function recordFromNow(d: TestDaemon, ms = 1500, settleMs = 400): Promise<Int16Array> {
  const start = loadWav(d.recordPath).samples.length;
  const want = start + (settleMs + ms) * SAMPLES_PER_MS;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const samples = loadWav(d.recordPath).samples;
    if (samples.length >= want) return samples.slice(want - ms * SAMPLES_PER_MS, want);
    if (Date.now() > deadline) throw new Error(`${d.name}'s recording stopped growing (${samples.length} of ${want} samples)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const FRAME = 960;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
/**
 * The median power of `freq` over the stretch's 20 ms frames that hold anything: a daemon the
 * loaded machine stalled writes exact silence for the slots it skipped, which says nothing of the
 * level (0 when nothing at all was played).
 */
function tone(samples: Int16Array, freq: number): number {
  const powers: number[] = [];
  for (let i = 0; i + FRAME <= samples.length; i += FRAME) {
    if (samples.subarray(i, i + FRAME).some((x) => x !== 0)) powers.push(goertzel(samples, freq, 48000, i, FRAME));
  }
  return median(powers);
}
const silent = (samples: Int16Array) => samples.every((x) => x === 0);
const dB = (power: number, reference: number) => 10 * Math.log10(power / reference);
const received = (d: TestDaemon, deviceId: string) => Number(d.latest()!.members.find((m) => m.deviceId === deviceId)!.packetsReceived);

async function cli(args: string[], d: TestDaemon) {
  return dialtone(["voice", ...args, "--server", server.url], aliceEnv(d));
}

test("deafened: alice plays silence while bob keeps sending, and bob hears nothing from her; undeafened: both hear again", async () => {
  const before = { atAlice: tone(await recordFromNow(a), BOB_TONE), atBob: tone(await recordFromNow(b), ALICE_TONE) };
  expect(before.atAlice).toBeGreaterThan(5e-3);
  expect(before.atBob).toBeGreaterThan(5e-3);

  const deafen = await cli(["deafen", "--json"], a);
  expect(deafen.code).toBe(0);
  expect(JSON.parse(deafen.stdout)).toEqual({ deafened: true, muted: false });
  await a.waitFor((s) => s.deafened && !s.muted, 5000, "deafened");
  await b.waitFor(quiet(alice.me.deviceId), 10_000, "alice quiet at bob");
  const packets = received(a, bob.me.deviceId);
  const [atAlice, atBob] = await Promise.all([recordFromNow(a), recordFromNow(b)]);
  expect(silent(atAlice)).toBe(true);
  // Bob kept sending and alice's daemon kept receiving (and shows him speaking) all along.
  expect(received(a, bob.me.deviceId)).toBeGreaterThan(packets + 25);
  expect(a.latest()!.members.find((m) => m.deviceId === bob.me.deviceId)!.speaking).toBe(true);
  // Alice's microphone is not sent while deafened.
  expect(tone(atBob, ALICE_TONE)).toBeLessThan(before.atBob / 1000);

  const status = await cli(["status", "--json"], a);
  expect(JSON.parse(status.stdout)).toMatchObject({ channel_id: channel.id, deafened: true, muted: false });
  expect((await cli(["status"], a)).stdout).toMatch(/^in \S+: joined, deafened, relay only$/m);

  const undeafen = await cli(["undeafen"], a);
  expect(undeafen.code).toBe(0);
  expect(undeafen.stdout).toBe("* undeafened\n");
  await a.waitFor((s) => !s.deafened && !s.muted, 5000, "undeafened");
  await b.waitFor(heard(alice.me.deviceId), 10_000, "alice heard at bob again");
  const [again, againAtBob] = await Promise.all([recordFromNow(a), recordFromNow(b)]);
  expect(tone(again, BOB_TONE)).toBeGreaterThan(before.atAlice / 2);
  expect(tone(againAtBob, ALICE_TONE)).toBeGreaterThan(before.atBob / 2);
}, 120_000);

test("undeafen restores the mute chosen before; unmuting while deafened undeafens (as Discord and Mumble do)", async () => {
  expect((await cli(["mute"], a)).code).toBe(0);
  expect((await cli(["deafen"], a)).code).toBe(0);
  await a.waitFor((s) => s.deafened && s.muted, 5000, "muted and deafened");
  const undeafen = await cli(["undeafen"], a);
  expect(undeafen.stdout).toBe("* undeafened (still muted)\n");
  await a.waitFor((s) => !s.deafened && s.muted, 5000, "undeafened, still muted");
  expect(tone(await recordFromNow(b), ALICE_TONE)).toBeLessThan(1e-5); // still not sending

  expect((await cli(["deafen"], a)).code).toBe(0);
  await a.waitFor((s) => s.deafened, 5000, "deafened");
  expect((await cli(["unmute"], a)).code).toBe(0);
  await a.waitFor((s) => !s.deafened && !s.muted, 5000, "unmuted and undeafened");
  await b.waitFor(heard(alice.me.deviceId), 10_000, "alice heard at bob again");
  expect(tone(await recordFromNow(a), BOB_TONE)).toBeGreaterThan(5e-3);
}, 120_000);

test("volume by display name: 50 % plays bob ~6 dB lower, 0 % silent; bad input names the field", async () => {
  fullPower = tone(await recordFromNow(a), BOB_TONE);
  expect(fullPower).toBeGreaterThan(5e-3);

  const half = await cli(["volume", BOB_NAME.toLowerCase(), "50", "--json"], a);
  expect(half.code).toBe(0);
  expect(JSON.parse(half.stdout)).toEqual({ user_id: bob.me.userId, user: BOB_NAME, percent: 50, applied: true });
  await a.waitFor((s) => s.volumes[bob.me.userId] === 50, 5000, "bob at 50 %");
  const level = dB(tone(await recordFromNow(a), BOB_TONE), fullPower);
  expect(level).toBeGreaterThan(-8);
  expect(level).toBeLessThan(-4);
  const status = JSON.parse((await cli(["status", "--json"], a)).stdout) as { members: Array<Record<string, unknown>> };
  expect(status.members).toEqual([expect.objectContaining({ user_id: bob.me.userId, user: BOB_NAME, volume_percent: 50 })]);

  expect((await cli(["volume", BOB_NAME, "0%"], a)).stdout).toBe(`* ${BOB_NAME}: volume 0 %\n`);
  await a.waitFor((s) => s.volumes[bob.me.userId] === 0, 5000, "bob at 0 %");
  expect(silent(await recordFromNow(a))).toBe(true);
  expect(received(a, bob.me.deviceId)).toBeGreaterThan(0); // still received, just not played

  for (const [args, message] of [
    [["nobody", "50"], /^dialtone: NAME: no user named "nobody"/m],
    [[BOB_NAME, "250"], /^dialtone: PERCENT: "250" is not a whole percent from 0 to 200/m],
    [[BOB_NAME, "abc"], /^dialtone: PERCENT: "abc" is not a whole percent from 0 to 200/m],
    [["alice"], /^dialtone: usage: dialtone voice volume NAME PERCENT/m],
  ] as const) {
    const r = await cli(["volume", ...args], a);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  }
  // The bad attempts changed nothing.
  expect(a.latest()!.volumes).toEqual({ [bob.me.userId]: 0 });

  expect((await cli(["volume", BOB_NAME, "50"], a)).code).toBe(0);
  await a.waitFor((s) => s.volumes[bob.me.userId] === 50, 5000, "bob at 50 % again");
}, 120_000);

test("the volume survives a daemon restart: a new daemon gets it at join and plays bob ~6 dB lower", async () => {
  expect(fullPower).toBeGreaterThan(0); // measured by the test before
  await session.leave();
  await session.close();
  await a.stop();
  const fresh = await startDaemon("alice-again", daemonArgs(ALICE_TONE));
  daemons.push(fresh);
  expect(fresh.latest()?.volumes ?? {}).toEqual({}); // nothing in a new daemon before the join
  session = await aliceJoins(fresh);
  await fresh.waitFor(heard(bob.me.deviceId), 30_000, "bob heard by the new daemon");
  expect(fresh.latest()!.volumes).toEqual({ [bob.me.userId]: 50 });
  const level = dB(tone(await recordFromNow(fresh), BOB_TONE), fullPower);
  expect(level).toBeGreaterThan(-8);
  expect(level).toBeLessThan(-4);
}, 120_000);
