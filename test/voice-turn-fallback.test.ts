// Every TURN URL of a deployment is a fallback, in order: with an unreachable UDP TURN URL first
// and a working TCP one (a real coturn) second, two relay-only daemons still connect and hear
// each other. werift itself gathers from the first TURN URL only (docs/VOICE.md, TURN).
import { randomBytes, randomUUID } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { Database } from "../server/db/client.js";
import { registerUser, sealedValue, type TestUser } from "./support/api.js";
import { startCoturn, type Coturn } from "./support/coturn.js";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { removeDaemonDir, startDaemon, type TestDaemon } from "./support/voiced.js";

let source: DatabaseSource;
let db: Database;
let coturn: Coturn;
let server: TestServer;
let blackHole: Socket;
let deadUrl: string;
let tcpUrl: string;
const daemons: TestDaemon[] = [];

beforeAll(async () => {
  coturn = await startCoturn();
  // A UDP port that takes packets and never answers (nothing listens on its TCP side either):
  // a TURN server behind a firewall that drops UDP.
  blackHole = createSocket("udp4");
  await new Promise<void>((resolve) => blackHole.bind(0, "127.0.0.1", resolve));
  deadUrl = `turn:127.0.0.1:${blackHole.address().port}`;
  tcpUrl = `turn:127.0.0.1:${coturn.port}?transport=tcp`;
  source = await databaseSource("pglite");
  db = await source.fresh();
  server = await startTestServer(db, { turn: { urls: [deadUrl, tcpUrl], secret: coturn.secret, ttlSeconds: 3600 } });
}, 60_000);

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  daemons.forEach(removeDaemonDir);
  await server?.close();
  await db?.close();
  await coturn?.stop();
  blackHole?.close();
});

const relayReady = (id: string) => (s: { members: Array<{ deviceId: string; ready: boolean; candidateType: string }> }) =>
  s.members.some((m) => m.deviceId === id && m.ready && m.candidateType === "relay");
const hears = (id: string) => (s: { members: Array<{ deviceId: string; speaking: boolean; packetsReceived: bigint }> }) =>
  s.members.some((m) => m.deviceId === id && m.speaking && m.packetsReceived > 10n);
const notices = (d: TestDaemon) => d.updates.flatMap((u) => (u.kind === "info" ? [u.message] : []));

test("TURN list [unreachable UDP, working TCP]: a relay-only call connects through the TCP one", async () => {
  const channelId = randomUUID();
  // One after the other: the first user registered is the admin, who may create the channel.
  const alice = await registerUser(server.url);
  const bob = await registerUser(server.url);
  await alice.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
  const key = randomBytes(32);
  const join = (d: TestDaemon, u: TestUser) =>
    d.voice.join({ serverUrl: server.url, sessionToken: u.token, channelId, channelKey: key, keyEpoch: 1 });
  const [a, b] = await Promise.all(
    ["a", "b"].map((n, i) => startDaemon(n, ["--audio-backend", `tone:${440 * (i + 1)}`, "--ptt", "", "--relay-only"])),
  );
  daemons.push(a!, b!);
  // Both from the server's GetIceServers: the deployment's list, in its order.
  await join(a!, alice);
  await join(b!, bob);
  await a!.waitFor(relayReady(bob.deviceId), 30_000, "a relay connection to bob");
  await b!.waitFor(relayReady(alice.deviceId), 30_000, "a relay connection to alice");
  await a!.waitFor(hears(bob.deviceId), 10_000, "bob heard");
  await b!.waitFor(hears(alice.deviceId), 10_000, "alice heard");

  for (const d of [a!, b!]) {
    // The skipped URL is named with its reason, and the TCP one is what werift was given.
    expect(notices(d)).toContainEqual(
      expect.stringMatching(new RegExp(`TURN server ${deadUrl} did not answer.*; using TURN server ${tcpUrl.replace("?", "\\?")}`)),
    );
    const iceLine = d
      .log()
      .split("\n")
      .find((l) => l.includes('"msg":"ice config"') && l.includes('"source":"server"'));
    expect(iceLine).toBeDefined();
    expect(JSON.parse(iceLine!)).toMatchObject({ servers: tcpUrl, candidates: `${deadUrl},${tcpUrl}` });
  }
}, 90_000);
