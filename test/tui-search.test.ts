// /search and /jump in the terminal UI (issue 15), driven in tmux against a real dialtone-server:
// a message this install opened before the UI started and one that arrives live are both found,
// newest first, in the system view; #channel restricts; /jump opens a result's channel.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { DialtoneClient } from "../client/core/index.js";
import type { TmuxSession } from "./support/tmux.js";
import { PASSPHRASE, startTuiWorld, TONE_VOICE, type TuiWorld } from "./support/tui-world.js";

let world: TuiWorld;
let ui: TmuxSession | undefined;
let bob: DialtoneClient;

const header = (screen: string) => screen.split("\n")[0] ?? "";

beforeAll(async () => {
  world = await startTuiWorld("dialtone-tui-search-");
  const alice = await world.install("alice");
  await alice.setProfileName("alice", 30_000);
  bob = await world.install("bob", alice);
  await bob.setProfileName("bob", 30_000);
  const alpha = await alice.createChannel("alpha");
  const beta = await alice.createChannel("beta");
  await alice.reconcile();
  await bob.requireChannelKey(alpha.id, 30_000);
  // Opened (sent) by alice's install before the UI starts: in its cache once the client closes.
  await alice.send(beta.id, "an old nightingale in beta");
  await alice.close();
}, 300_000);

afterAll(async () => {
  await bob?.close();
  await world?.stop();
}, 60_000);

test("/search lists cached and live messages newest first; #channel restricts; /jump opens the channel", async () => {
  // The passphrase is typed, as a user would.
  ui = await world.startClient("alice", { passphrase: false, args: TONE_VOICE });
  await ui.waitFor(/^\s*> Keystore Passphrase/m, 60_000, "the cursor on the passphrase");
  await ui.type(PASSPHRASE);
  await ui.keys("Enter");
  await ui.waitFor("● online", 120_000, "online");
  await ui.waitFor((t) => header(t).includes("#alpha"), 30_000, "#alpha open");

  const alpha = bob.channels().find((c) => c.name === "alpha")!;
  await bob.send(alpha.id, "a live nightingale in alpha");
  await ui.waitFor(/bob: a live nightingale in alpha/, 30_000, "the live message shown");

  await ui.type("/search NIGHTINGALE");
  await ui.keys("Enter");
  const found = await ui.waitFor(/2 matches among 2 cached messages in 2 channels/, 30_000, "the results");
  const one = found.search(/ 1\. \[\d{4}-\d\d-\d\d \d\d:\d\d\] #alpha bob: a live nightingale in alpha/);
  const two = found.search(/ 2\. \[\d{4}-\d\d-\d\d \d\d:\d\d\] #beta alice: an old nightingale in beta/);
  expect(one).toBeGreaterThan(0);
  expect(two).toBeGreaterThan(one);

  await ui.type("/search #beta nightingale");
  await ui.keys("Enter");
  await ui.waitFor(/search "nightingale": 1 match among 2 cached messages/, 30_000, "the restricted results");
  await ui.type("/jump 1");
  await ui.keys("Enter");
  await ui.waitFor((t) => header(t).includes("#beta"), 30_000, "#beta opened by /jump");
}, 300_000);
