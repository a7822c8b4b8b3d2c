// The daemon as a process behind its socket, without a Dialtone server: start-up notices,
// mute and push-to-talk, Join's validation and ICE checks (against a real coturn), shutdown,
// and a stale socket after SIGKILL.
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { RoomStatus, SpeakingMode, VoiceDaemon } from "../client/core/voice.js";
import { startCoturn, type Coturn } from "./support/coturn.js";
import { freePort } from "./support/ports.js";
import { removeDaemonDir, startDaemon, type TestDaemon } from "./support/voiced.js";

let coturn: Coturn;
let d: TestDaemon;

beforeAll(async () => {
  coturn = await startCoturn();
  d = await startDaemon("ipc", ["--audio-backend", "tone:440"]); // default --ptt ctrl+v, backend auto
}, 60_000);

afterAll(async () => {
  await d?.kill();
  if (d) removeDaemonDir(d);
  await coturn?.stop();
});

const join = (o: {
  relayOnly?: boolean;
  iceServers?: Array<{ urls: string[]; username?: string; credential?: string }>;
  channelId?: string;
  key?: Uint8Array;
}) =>
  d.voice.join({
    serverUrl: "http://127.0.0.1:1",
    sessionToken: "a-token-that-must-not-leak-0123456789",
    channelId: o.channelId ?? randomUUID(),
    channelKey: o.key ?? randomBytes(32),
    keyEpoch: 1,
    iceServers: o.iceServers ?? [],
    relayOnly: o.relayOnly ?? false,
  });

test("no session bus here: push-to-talk falls back to VAD, and WatchState says why (also to late watchers)", async () => {
  const s = await d.waitFor((x) => x.status === RoomStatus.IDLE);
  expect(s.speakingMode).toBe(SpeakingMode.VOICE_ACTIVITY);
  expect(s.vadThreshold).toBe(500);
  const late = await VoiceDaemon.connect(d.socketPath);
  const ac = new AbortController();
  const seen: string[] = [];
  for await (const u of late!.watch(ac.signal)) {
    if (u.kind === "info") {
      seen.push(u.message);
      break;
    }
  }
  ac.abort();
  expect(seen[0]).toMatch(/push-to-talk unavailable \(portal: .*\); using voice activity detection \(threshold 500\)/);
});

test("mute and push-to-talk changes show in the state", async () => {
  await d.voice.setMuted(true);
  await d.waitFor((s) => s.muted, 3000, "muted");
  await d.voice.setMuted(false);
  await d.waitFor((s) => !s.muted, 3000, "unmuted");
  await d.voice.setPushToTalk("");
  const s = await d.waitFor((x) => x.pushToTalkKey === "" && x.speakingMode === SpeakingMode.VOICE_ACTIVITY, 3000, "VAD");
  expect(s.status).toBe(RoomStatus.IDLE);
});

test("deafen and volumes show in the state; undeafen restores the mute; bad volumes are refused naming the field", async () => {
  await d.voice.setMuted(true);
  await d.voice.setDeafened(true);
  await d.waitFor((s) => s.deafened && s.muted, 3000, "deafened, muted kept");
  await d.voice.setDeafened(false);
  await d.waitFor((s) => !s.deafened && s.muted, 3000, "undeafened, still muted");
  await d.voice.setDeafened(true);
  await d.voice.setMuted(false);
  await d.waitFor((s) => !s.deafened && !s.muted, 3000, "unmute undeafens");

  const [bob, carol] = [randomUUID(), randomUUID()];
  await d.voice.setVolumes({ [bob]: 50, [carol]: 0 });
  await d.waitFor((s) => s.volumes[bob] === 50 && s.volumes[carol] === 0, 3000, "volumes");
  await d.voice.setVolumes({ [bob]: 100 }); // merged: carol keeps hers, 100 is the default again
  await d.waitFor((s) => s.volumes[bob] === undefined && s.volumes[carol] === 0, 3000, "bob back to 100 %");
  await expect(d.voice.setVolumes({ [bob]: 250 })).rejects.toThrow(`percent_by_user[${bob}]: 250 is not a percent from 0 to 200`);
  await expect(d.voice.setVolumes({ bob: 50 })).rejects.toThrow(/percent_by_user: key "bob" is not a user id/);
  // A refused request changes nothing, not even its valid entries.
  await expect(d.voice.setVolumes({ [bob]: 20, [carol]: 201 })).rejects.toMatchObject({ code: "rejected" });
  expect((await d.voice.state()).volumes).toEqual({ [carol]: 0 });
  await d.voice.setVolumes({ [carol]: 100 });
});

test("Join checks its arguments and names the field", async () => {
  await expect(join({ channelId: "not-a-uuid" })).rejects.toMatchObject({ code: "rejected", message: expect.stringMatching(/channel_id/) });
  await expect(join({ key: randomBytes(16) })).rejects.toThrow(/channel_key: must be 32 bytes/);
  await expect(
    d.voice.join({ serverUrl: "ftp://x", sessionToken: "t", channelId: randomUUID(), channelKey: randomBytes(32), keyEpoch: 1 }),
  ).rejects.toThrow(/server_url/);
});

test("relay-only without a usable TURN server is refused with the reason (werift would quietly use host candidates)", async () => {
  await expect(join({ relayOnly: true, iceServers: [{ urls: ["stun:127.0.0.1:3478"] }] })).rejects.toThrow(
    /relay-only needs a TURN server/,
  );
  const started = Date.now();
  await expect(
    join({
      relayOnly: true,
      iceServers: [{ urls: [coturn.url], username: `${Math.floor(Date.now() / 1000) + 60}:x`, credential: "wrong" }],
    }),
  ).rejects.toThrow(/relay-only: TURN server turn:127\.0\.0\.1:\d+ refused the credentials \(401/);
  expect(Date.now() - started).toBeLessThan(3000); // told at once, not after werift's ~13 s stall

  const dead = await freePort();
  await expect(
    join({ relayOnly: true, iceServers: [{ urls: [`turn:127.0.0.1:${dead}`], username: "u", credential: "p" }] }),
  ).rejects.toThrow(/relay-only: TURN server .* did not answer/);
  const s = await d.waitFor((x) => x.status === RoomStatus.IDLE && x.channelId === "", 3000, "idle again");
  expect(s.members).toEqual([]);
  expect(d.updates.some((u) => u.kind === "error" && /join failed/.test(u.message))).toBe(true);
  expect(d.log()).not.toContain("a-token-that-must-not-leak");
}, 30_000);

test("Shutdown stops the daemon and removes its socket; a socket left by SIGKILL is replaced by the next daemon", async () => {
  const other = await startDaemon("ipc2", ["--audio-backend", "tone:300", "--ptt", ""]);
  expect(other.voice.info.pid).toBe(other.pid);
  await other.voice.shutdown();
  await new Promise((r) => setTimeout(r, 300));
  expect(existsSync(other.socketPath)).toBe(false);
  removeDaemonDir(other);

  await d.kill("SIGKILL");
  expect(existsSync(d.socketPath)).toBe(true); // stale
  const again = await startDaemon("ipc3", ["--audio-backend", "tone:300", "--ptt", ""], { socketPath: d.socketPath });
  expect(again.voice.info.socketPath).toBe(d.socketPath);
  expect(again.pid).not.toBe(d.pid);
  await again.stop();
  removeDaemonDir(again);
}, 60_000);
