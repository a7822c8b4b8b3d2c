// Issue 13, acceptance 3, end to end: a dialtone-voiced process with --ptt-backend hotkey on a
// real X server (Xvfb), in a call on a real server; a key pressed and released through XTEST
// (another X connection, as a keyboard would) turns the daemon's speaking on and off in
// WatchState. Push-to-talk mode and the notice naming the backend show there too.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { Database } from "../server/db/client.js";
import { RoomStatus, SpeakingMode } from "../client/core/voice.js";
import { registerUser, sealedValue, type TestUser } from "./support/api.js";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { removeDaemonDir, startDaemon, type TestDaemon } from "./support/voiced.js";
import { KEYSYM, keyboard, startXvfb, type Keyboard, type Xvfb } from "./support/xvfb.js";

let x: Xvfb;
let kb: Keyboard;
let source: DatabaseSource;
let db: Database;
let server: TestServer;
let alice: TestUser;
let d: TestDaemon;

beforeAll(async () => {
  x = await startXvfb();
  kb = await keyboard(x.display);
  source = await databaseSource("pglite");
  db = await source.fresh();
  server = await startTestServer(db);
  alice = await registerUser(server.url);
  d = await startDaemon("hotkey", ["--audio-backend", "tone:440", "--ptt", "F12", "--ptt-backend", "hotkey"], {
    env: { DISPLAY: x.display },
  });
}, 90_000); // a database, a server, an account and a daemon: as test/voice-cli.test.ts

afterAll(async () => {
  await d?.stop();
  if (d) removeDaemonDir(d);
  await server?.close();
  await db?.close();
  kb?.close();
  await x?.close();
});

test("the daemon holds F12 on the X display: pressing it makes the daemon speak, letting go stops it", async () => {
  // The speaking-mode notice, whichever it is: a fallback to VAD fails here with its reason.
  const notices = () => d.updates.filter((u) => u.kind === "info").map((u) => (u as { message: string }).message);
  await d.waitFor(() => notices().some((m) => m.startsWith("push-to-talk")), 20_000, "the speaking-mode notice");
  expect(notices()).toContain(`push-to-talk on F12 (X11 F12) through an X11 key grab on ${x.display}`);
  const s = d.latest()!;
  expect(s.speakingMode).toBe(SpeakingMode.PUSH_TO_TALK);
  expect(s.pushToTalkKey).toBe("F12");

  const channelId = randomUUID();
  await alice.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
  await d.voice.join({ serverUrl: server.url, sessionToken: alice.token, channelId, channelKey: randomBytes(32), keyEpoch: 1 });
  await d.waitFor((st) => st.status === RoomStatus.JOINED, 15_000, "joined");
  // The tone plays all along, so only the key decides.
  expect(d.latest()!.speaking).toBe(false);

  await kb.press(KEYSYM.F12);
  await d.waitFor((st) => st.speaking, 10_000, "speaking after F12 pressed");
  await kb.release(KEYSYM.F12);
  await d.waitFor((st) => !st.speaking, 10_000, "not speaking after F12 released");
  await kb.press(KEYSYM.F12);
  await d.waitFor((st) => st.speaking, 10_000, "speaking after F12 pressed again");
  await kb.release(KEYSYM.F12);
  await d.waitFor((st) => !st.speaking, 10_000, "not speaking after F12 released again");
  await d.voice.leave();
});
