// Voice over time: TURN credentials that expire (the daemons fetch fresh ones at half their
// lifetime and move their connections onto them with an ICE restart in place), and a TURN
// server that goes away mid-call and comes back (the connection fails, ICE restarts in place).
// Real server, real coturn, real daemons relay-only; audio checked in the recordings.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { Database } from "../server/db/client.js";
import { registerUser, sealedValue, type TestUser } from "./support/api.js";
import { startCoturn, type Coturn } from "./support/coturn.js";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { removeDaemonDir, startDaemon, type TestDaemon } from "./support/voiced.js";
import { loadWav, tonePowers } from "./support/wav.js";

const TTL_SECONDS = 20; // the daemons refresh after 10 s

let source: DatabaseSource;
let db: Database;
let coturn: Coturn;
let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let a: TestDaemon;
let b: TestDaemon;

beforeAll(async () => {
  coturn = await startCoturn({ verbose: true });
  source = await databaseSource("pglite");
  db = await source.fresh();
  server = await startTestServer(db, { turn: { urls: [coturn.url], secret: coturn.secret, ttlSeconds: TTL_SECONDS } });
  alice = await registerUser(server.url); // first: the admin, who may create the channel
  bob = await registerUser(server.url);
  const channelId = randomUUID();
  await alice.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
  const key = randomBytes(32);
  [a, b] = await startPair("r");
  for (const [d, u] of [
    [a, alice],
    [b, bob],
  ] as const) {
    await d.voice.join({ serverUrl: server.url, sessionToken: u.token, channelId, channelKey: key, keyEpoch: 1 });
  }
}, 90_000);

afterAll(async () => {
  for (const d of [a, b]) {
    await d?.stop();
    if (d) removeDaemonDir(d);
  }
  await server?.close();
  await db?.close();
  await coturn?.stop();
});

/** Alice's daemon (a 440 Hz tone) and bob's (880 Hz), relay-only, VAD. */
const startPair = (prefix: string): Promise<[TestDaemon, TestDaemon]> =>
  Promise.all([
    startDaemon(`${prefix}a`, ["--audio-backend", "tone:440", "--ptt", "", "--relay-only", "--debug"]),
    startDaemon(`${prefix}b`, ["--audio-backend", "tone:880", "--ptt", "", "--relay-only", "--debug"]),
  ]);

const relayReady = (id: string) => (s: { members: Array<{ deviceId: string; ready: boolean; candidateType: string }> }) =>
  s.members.some((m) => m.deviceId === id && m.ready && m.candidateType === "relay");
const speaking = (id: string) => (s: { members: Array<{ deviceId: string; speaking: boolean }> }) =>
  s.members.some((m) => m.deviceId === id && m.speaking);
const count = (d: TestDaemon, needle: string) => d.log().split(needle).length - 1;

/** Median 440/880 Hz power over the last second of a recording. */
function toneAt(d: TestDaemon, freq: number): number {
  const wav = loadWav(d.recordPath);
  const last = wav.samples.subarray(Math.max(0, wav.samples.length - 48000));
  const p = tonePowers(last, freq)
    .map((w) => w.power)
    .sort((x, y) => x - y);
  return p[Math.floor(p.length / 2)] ?? 0;
}

/** A wait at one daemon that, when it fails, also shows the other side's log (the cause is often there). */
async function waitBoth(
  d: TestDaemon,
  other: TestDaemon,
  pred: Parameters<TestDaemon["waitFor"]>[0],
  ms: number,
  what: string,
): Promise<void> {
  try {
    await d.waitFor(pred, ms, what);
  } catch (err) {
    const tail = other
      .log()
      .split("\n")
      .filter((l) => !l.includes('"msg":"meter"'))
      .slice(-30)
      .join("\n");
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nlog tail of ${other.name}:\n${tail}`);
  }
}

async function talking(): Promise<void> {
  await waitBoth(a, b, relayReady(bob.deviceId), 30_000, "a relay connection to bob");
  await waitBoth(b, a, relayReady(alice.deviceId), 30_000, "a relay connection to alice");
  // Once both sides are ready, audio flows at once (it used to stall now and then on a fresh
  // relay connection: see test/voice-rejoin.test.ts).
  await waitBoth(a, b, speaking(bob.deviceId), 3000, "bob heard");
  await waitBoth(b, a, speaking(alice.deviceId), 3000, "alice heard");
  await new Promise((r) => setTimeout(r, 1500));
  expect(toneAt(b, 440)).toBeGreaterThan(5e-3);
  expect(toneAt(a, 880)).toBeGreaterThan(5e-3);
}

test("fresh TURN credentials at half their lifetime move the call onto new allocations by ICE restart, in place", async () => {
  await talking();
  const before = coturn.output();
  for (const d of [a, b]) {
    await d.waitFor(() => d.log().includes("TURN credentials refreshed"), 30_000, "a credential refresh");
    await d.waitFor(() => d.log().includes("ICE restart completed"), 30_000, "an ICE restart");
  }
  await talking();
  for (const d of [a, b]) {
    // In place: no fresh connection was needed, and the log never shows a credential.
    expect(count(d, "peer reconnect scheduled")).toBe(0);
    expect(count(d, "peer asked for a fresh connection")).toBe(0);
    expect(d.log()).not.toMatch(/"credential"|"password"/);
  }
  // coturn saw allocations made with a later REST username (a later expiry) than the first ones.
  const expiries = (text: string) => [...text.matchAll(/user <(\d+):/g)].map((m) => Number(m[1]));
  const first = Math.min(...expiries(before));
  expect(Math.max(...expiries(coturn.output().slice(before.length)))).toBeGreaterThan(first);
}, 180_000);

test("a TURN server restart mid-call: the path dies, ICE restarts in place onto the new server's relay, audio returns", async () => {
  // A server of its own with long-lived credentials (no refresh restarts in this test), a coturn
  // of its own; the same daemons, which leave the first test's call and join this one at once.
  const turn = await startCoturn({ verbose: true });
  const steady = await startTestServer(db, { turn: { urls: [turn.url], secret: turn.secret, ttlSeconds: 3600 } });
  let again: Coturn | undefined;
  try {
    const channelId = randomUUID();
    await alice.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
    const key = randomBytes(32);
    for (const [d, u] of [
      [a, alice],
      [b, bob],
    ] as const) {
      await d.voice.join({ serverUrl: steady.url, sessionToken: u.token, channelId, channelKey: key, keyEpoch: 1 });
    }
    await talking();
    const restarts = [count(a, "ICE restart completed"), count(b, "ICE restart completed")];
    const fresh = [count(a, "peer reconnect scheduled"), count(b, "peer reconnect scheduled")];
    const watchdog = count(a, "peer sends nothing") + count(b, "peer sends nothing");
    const stoppedAt = Date.now();
    await turn.stop();
    again = await startCoturn({ port: turn.port, secret: turn.secret, verbose: true });
    // The receive watchdog notices within ~3 s that nothing arrives (werift alone would wait for
    // ICE consent to expire, 30 s), then ICE restarts in place.
    await a.waitFor(() => count(a, "ICE restart completed") > restarts[0]!, 60_000, "an ICE restart at alice");
    await b.waitFor(() => count(b, "ICE restart completed") > restarts[1]!, 60_000, "an ICE restart at bob");
    // Started by the watchdog, well before consent could expire.
    expect(count(a, "peer sends nothing") + count(b, "peer sends nothing")).toBeGreaterThan(watchdog);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    await talking();
    // In place: the restart brought it back, no fresh connection was made.
    expect([count(a, "peer reconnect scheduled"), count(b, "peer reconnect scheduled")]).toEqual(fresh);
    expect(again.output()).toMatch(/ALLOCATE processed, success/);
  } finally {
    for (const d of [a, b]) await d.voice.leave().catch(() => {});
    await steady.close();
    await again?.stop();
    await turn.stop();
  }
}, 240_000);
