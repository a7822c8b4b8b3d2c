// Leave and join again, ten times, on the same two daemons (relay-only through real coturns):
// every cycle, audio must flow both ways within 3 s of the join and must not stop for more than
// 1 s during 5 s of talking. Cycles alternate between two servers, each with a coturn of its own,
// as when a user leaves one call and at once joins another elsewhere (the case in which media
// was seen to stop in both directions soon after "connected"). Without the own-relay TURN
// permission (voiced/rtc/turn.ts permitOwnRelay), a join whose answer takes more than ~0.75 s
// connects only after 5-7 s: the answerer's first check dies against the offerer's relay,
// which has no permission until the offerer first sends.
// Set VOICE_KEEP_LOGS=1 to keep the daemons' logs, werift's debug output (with DEBUG=werift*)
// and the coturn logs.
import { randomBytes, randomUUID } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { Database } from "../server/db/client.js";
import { registerUser, sealedValue, type TestUser } from "./support/api.js";
import { startCoturn, type Coturn } from "./support/coturn.js";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { removeDaemonDir, startDaemon, type TestDaemon } from "./support/voiced.js";
import { goertzel } from "./support/wav.js";

const CYCLES = Number(process.env.VOICE_REJOIN_CYCLES ?? 10);
const FIRST_AUDIO_MS = 3000;
const TALK_MS = 5000;
const MAX_GAP_MS = 1000;
/**
 * Each daemon holds its SDP answers this long (DIALTONE_VOICED_TEST_ANSWER_DELAY_MS), as a slow
 * server or a loaded machine does: the answerer then checks the offerer's relay for a second
 * before the offerer sends anything through it. That made the race deterministic here.
 */
const ANSWER_DELAY_MS = 1000;

interface Site {
  coturn: Coturn;
  server: TestServer;
  alice: TestUser;
  bob: TestUser;
}

let source: DatabaseSource;
const dbs: Database[] = [];
const sites: Site[] = [];
let a: TestDaemon;
let b: TestDaemon;

async function startSite(): Promise<Site> {
  const coturn = await startCoturn({ verbose: true });
  const db = await source.fresh();
  dbs.push(db);
  const server = await startTestServer(db, { turn: { urls: [coturn.url], secret: coturn.secret, ttlSeconds: 3600 } });
  const alice = await registerUser(server.url); // the admin, who may create channels
  const bob = await registerUser(server.url);
  return { coturn, server, alice, bob };
}

beforeAll(async () => {
  source = await databaseSource("pglite");
  sites.push(await startSite(), await startSite());
  process.env.DIALTONE_VOICED_TEST_ANSWER_DELAY_MS = String(ANSWER_DELAY_MS); // copied into the daemons' environment
  [a, b] = await Promise.all([
    startDaemon("ja", ["--audio-backend", "tone:440", "--ptt", "", "--relay-only", "--debug", "--stats-interval", "1"]),
    startDaemon("jb", ["--audio-backend", "tone:880", "--ptt", "", "--relay-only", "--debug", "--stats-interval", "1"]),
  ]).finally(() => delete process.env.DIALTONE_VOICED_TEST_ANSWER_DELAY_MS);
}, 120_000);

afterAll(async () => {
  if (process.env.VOICE_KEEP_LOGS && a && b) {
    sites.forEach((s, i) => writeFileSync(join(a.dir, `coturn-${i}.log`), s.coturn.output()));
    for (const d of [a, b]) writeFileSync(join(d.dir, "output.log"), d.output());
    console.log(`voice-rejoin logs: ${a.dir} ${b.dir}`);
  }
  for (const d of [a, b]) {
    await d?.stop();
    if (d && !process.env.VOICE_KEEP_LOGS) removeDaemonDir(d);
  }
  for (const s of sites) {
    await s.server.close();
    await s.coturn.stop();
  }
  for (const db of dbs) await db.close();
});

const TONE_FLOOR = 1e-3;

/**
 * The samples of `d`'s recording between wall-clock times `from` and `to` (ms), read from the
 * file directly: the recording grows by 96 kB/s, and parsing all of it on every poll would
 * load this process, which also runs the servers.
 */
function recordedSpan(d: TestDaemon, from: number, to: number): { start: number; samples: Int16Array } {
  let fd: number;
  try {
    fd = openSync(d.recordPath, "r");
  } catch {
    return { start: from, samples: new Int16Array(0) };
  }
  try {
    const head = Buffer.alloc(128);
    const n = readSync(fd, head, 0, head.length, 0);
    const dtms = head.indexOf("dtms");
    const data = head.indexOf("data", 12);
    if (n < 44 || dtms < 0 || data < 0) return { start: from, samples: new Int16Array(0) }; // nothing recorded yet
    const startMs = head.readDoubleLE(dtms + 8);
    const size = fstatSync(fd).size - (data + 8);
    const first = Math.max(0, Math.floor(((from - startMs) * 48000) / 1000));
    const last = Math.min(size >> 1, Math.ceil(((to - startMs) * 48000) / 1000));
    if (last <= first) return { start: from, samples: new Int16Array(0) };
    const buf = Buffer.alloc((last - first) * 2);
    readSync(fd, buf, 0, buf.length, data + 8 + first * 2);
    const samples = new Int16Array(last - first);
    for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(i * 2);
    return { start: startMs + (first * 1000) / 48000, samples };
  } finally {
    closeSync(fd);
  }
}

/** Per 20 ms frame of `d`'s recording in [from, to): does it hold `freq`? */
function toneFrames(d: TestDaemon, freq: number, from: number, to: number): boolean[] {
  const span = recordedSpan(d, from, to);
  const out: boolean[] = [];
  for (let t = from; t + 20 <= to; t += 20) {
    const i = Math.round(((t - span.start) * 48000) / 1000);
    if (i < 0 || i + 960 > span.samples.length) out.push(false);
    else out.push(goertzel(span.samples, freq, 48000, i, 960) > TONE_FLOOR);
  }
  return out;
}

/** When `d` first played `freq` in [since, since + ms), or undefined (waits for the recording's 200 ms flushes). */
async function firstHeard(d: TestDaemon, freq: number, since: number, ms: number): Promise<number | undefined> {
  const end = since + ms;
  for (;;) {
    const polledAt = Date.now();
    const i = toneFrames(d, freq, since, Math.min(polledAt, end)).indexOf(true);
    if (i >= 0) return since + i * 20;
    if (polledAt > end + 400) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The longest run of frames without the tone, in ms. */
function longestGap(frames: boolean[]): number {
  let run = 0;
  let max = 0;
  for (const f of frames) {
    run = f ? 0 : run + 1;
    max = Math.max(max, run);
  }
  return max * 20;
}

interface Cycle {
  cycle: number;
  heardByBobMs: number | undefined;
  heardByAliceMs: number | undefined;
  gapAtBobMs: number;
  gapAtAliceMs: number;
}

test(
  `leave and join again ${CYCLES} times on the same daemons: audio both ways within 3 s, no gap over 1 s`,
  async () => {
    const results: Cycle[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const site = sites[cycle % sites.length]!;
      const channelId = randomUUID();
      await site.alice.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
      const key = randomBytes(32);
      const joinedAt = Date.now();
      await Promise.all(
        (
          [
            [a, site.alice],
            [b, site.bob],
          ] as const
        ).map(([d, u]) => d.voice.join({ serverUrl: site.server.url, sessionToken: u.token, channelId, channelKey: key, keyEpoch: 1 })),
      );
      const [atBob, atAlice] = await Promise.all([
        firstHeard(b, 440, joinedAt, FIRST_AUDIO_MS),
        firstHeard(a, 880, joinedAt, FIRST_AUDIO_MS),
      ]);
      const from = Math.max(atBob ?? joinedAt + FIRST_AUDIO_MS, atAlice ?? joinedAt + FIRST_AUDIO_MS);
      // Talk for 5 s, then let the recordings reach the disk (flushed every 200 ms).
      await new Promise((r) => setTimeout(r, from + TALK_MS + 400 - Date.now()));
      const r: Cycle = {
        cycle,
        heardByBobMs: atBob === undefined ? undefined : atBob - joinedAt,
        heardByAliceMs: atAlice === undefined ? undefined : atAlice - joinedAt,
        gapAtBobMs: longestGap(toneFrames(b, 440, from, from + TALK_MS)),
        gapAtAliceMs: longestGap(toneFrames(a, 880, from, from + TALK_MS)),
      };
      results.push(r);
      const bad =
        r.heardByBobMs === undefined || r.heardByAliceMs === undefined || r.gapAtBobMs > MAX_GAP_MS || r.gapAtAliceMs > MAX_GAP_MS;
      console.log(`voice-rejoin cycle ${cycle}: ${JSON.stringify(r)}${bad ? " FAIL" : ""}`);
      await Promise.all([a.voice.leave(), b.voice.leave()]);
    }
    // The receive watchdog never had to step in: no path died, not even outside the talk windows.
    expect([a, b].map((d) => d.log().split("peer sends nothing").length - 1)).toEqual([0, 0]);
    for (const r of results) {
      expect({ cycle: r.cycle, heardByBob: r.heardByBobMs !== undefined, heardByAlice: r.heardByAliceMs !== undefined }).toEqual({
        cycle: r.cycle,
        heardByBob: true,
        heardByAlice: true,
      });
      expect({ cycle: r.cycle, gaps: Math.max(r.gapAtBobMs, r.gapAtAliceMs) <= MAX_GAP_MS }).toEqual({ cycle: r.cycle, gaps: true });
    }
  },
  60_000 + CYCLES * 15_000,
);
