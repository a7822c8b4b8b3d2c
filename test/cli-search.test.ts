// `dialtone search` on a real server (PGlite): a word from a message 5,000 messages back is found
// across channels after --fetch pages history into the local cache, later searches run from the
// cache alone, a channel whose key this device lacks yields nothing, and the cache on disk holds
// no message word and no channel name.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { runCli } from "../client/cli/run.js";
import { newChannelKey, sealChannelName, type ChannelView } from "../client/core/index.js";
import { fakeIo } from "./support/cli-io.js";
import { Harness, PASSPHRASE, type TestInstall } from "./support/client-harness.js";

const BACK = 5_000;
const LOUNGE = "quartermaster-lounge";
const DECK = "observatory-deck";
const HIDDEN = "whispering-gallery";

let h: Harness;
let admin: TestInstall;
let alice: TestInstall;
let deck: ChannelView;
let hiddenId: string;

async function cli(install: TestInstall, args: string[], stdin = "") {
  const f = fakeIo({ DIALTONE_CONFIG_DIR: install.configDir, DIALTONE_PASSPHRASE: PASSPHRASE }, undefined, stdin);
  const code = await runCli([...args, "--server", h.url], f.io);
  return { code, out: f.out(), err: f.err() };
}

interface Hit {
  channel: string | null;
  body: string;
  sender: string;
  message_id: string;
}
const hits = (out: string): Hit[] =>
  out
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Hit);

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

beforeAll(async () => {
  h = await Harness.start();
  admin = await h.register("admin");
  alice = await h.register("alice");
  // Names come from the directory when results are shown; the cache keeps user ids only.
  await admin.client.setProfileName("Ada Quartz");
  await alice.client.setProfileName("Alice Vermilion");
  await admin.client.createChannel(LOUNGE);
  deck = await admin.client.createChannel(DECK);
  await alice.client.reconcile();

  // The word, then 5,000 messages on top of it, through the CLI's batch send.
  const lines = ["the xylophone arrives on Tuesday", ...Array.from({ length: BACK }, (_, i) => `filler ${i} about nothing much`)];
  const sent = await cli(admin, ["send", LOUNGE, "-"], `${lines.join("\n")}\n`);
  expect(sent.err).toBe(`${BACK + 1} messages sent to #${LOUNGE}\n`);
  await admin.client.send(deck.id, "a second XYLOPHONE, in another channel");
  await admin.client.send(deck.id, "the trombone will be deleted");

  // The admin makes a channel and keeps its key to that one device: no envelope for any other,
  // and no reconcile of the admin's runs later to share it. Its messages reach alice's device sealed.
  hiddenId = randomUUID();
  const key = newChannelKey();
  admin.client.store.keystore.setChannelKey(hiddenId, key.epoch, key.key);
  await admin.client.api.channel.createChannel({ channelId: hiddenId, encryptedName: await sealChannelName(key, hiddenId, HIDDEN) });
  await admin.client.refreshChannels();
  await admin.client.send(hiddenId, "the xylophone hides in zanzibar");
}, 600_000);
afterAll(() => h?.close());

test("a fresh device's cache is empty, and search says how to fill it", async () => {
  const r = await cli(alice, ["search", "xylophone"]);
  expect(r.code).toBe(0);
  expect(r.out).toBe(
    "0 matches among 0 cached messages in 0 channels; dialtone search --fetch pages channel history into the cache first\n",
  );
  expect(r.err).toBe("");
});

test("--fetch pages history in; the word 5,000 messages back is found across channels, newest first; the hidden channel yields nothing", async () => {
  const r = await cli(alice, ["search", "xylophone", "--fetch", "--json"]);
  expect(r.code).toBe(0);
  expect(r.err).toContain(`fetching #${LOUNGE}: ${(BACK + 1).toLocaleString("en-US")} messages\n`);
  expect(r.err).toContain(`fetched ${(BACK + 3).toLocaleString("en-US")} messages from 2 channels\n`);
  expect(hits(r.out).map((x) => [x.channel, x.body, x.sender])).toEqual([
    [DECK, "a second XYLOPHONE, in another channel", "Ada Quartz"],
    [LOUNGE, "the xylophone arrives on Tuesday", "Ada Quartz"],
  ]);
  expect(r.err).toMatch(/^2 matches among 5,003 cached messages in 2 channels$/m);

  // alice's device sees the hidden channel's message but cannot open it: it is never cached.
  const seen = await alice.client.loadOlder(hiddenId, 10);
  expect(seen.map((m) => m.error)).toEqual(["missing-key"]);
  await alice.client.searchCache.flush();
  const hidden = await cli(alice, ["search", "zanzibar", "--json"]);
  expect(hidden.out).toBe("");
  expect(hidden.err).toMatch(/^0 matches among 5,003 cached messages in 2 channels/);
}, 300_000);

test("later searches run from the cache alone: --channel restricts, --limit caps, case folds", async () => {
  const one = await cli(alice, ["search", "Xylophone", "--channel", LOUNGE]);
  expect(one.code).toBe(0);
  expect(one.out).toMatch(
    new RegExp(
      `^\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\] #${LOUNGE} Ada Quartz: the xylophone arrives on Tuesday\\n1 match among 5,003 cached messages in 2 channels\\n$`,
    ),
  );
  const capped = await cli(alice, ["search", "filler", "nothing", "--limit", "3", "--json"]);
  expect(hits(capped.out).map((x) => x.body)).toEqual([4999, 4998, 4997].map((i) => `filler ${i} about nothing much`));
  expect(capped.err).toMatch(/^3 of 5,000 matches among 5,003 cached messages/);
  const bad = await cli(alice, ["search", "x", "--limit", "0"]);
  expect(bad.code).toBe(1);
  expect(bad.err).toBe("dialtone: --limit: a whole number from 1 to 10000\n");
}, 120_000);

test("an edit replaces the text found, a reaction is no hit, a message deleted meanwhile leaves the cache at --fetch; what the device sends goes in", async () => {
  const deck = (await admin.client.resolveChannel(DECK)).id;
  const [second] = hits((await cli(alice, ["search", "second", "xylophone", "--json"])).out);
  const [trombone] = hits((await cli(alice, ["search", "trombone", "--json"])).out);
  await admin.client.edit(deck, second!.message_id, "a second glockenspiel, in another channel");
  await admin.client.react(deck, second!.message_id, "🎺");
  await admin.client.deleteMessage(deck, trombone!.message_id);

  const r = await cli(alice, ["search", "glockenspiel", "--fetch", "--json"]);
  expect(hits(r.out).map((x) => [x.message_id, x.body])).toEqual([[second!.message_id, "a second glockenspiel, in another channel"]]);
  expect(hits((await cli(alice, ["search", "xylophone", "--json"])).out).map((x) => x.channel)).toEqual([LOUNGE]);
  expect((await cli(alice, ["search", "trombone"])).out).toMatch(/^0 matches among/);
  expect((await cli(alice, ["search", "🎺"])).out).toMatch(/^0 matches among/);

  expect((await cli(alice, ["send", DECK, "marimbas are louder"])).code).toBe(0);
  expect((await cli(alice, ["search", "MARIMBAS", "--json"])).out).toContain('"sender":"Alice Vermilion"');
}, 180_000);

test("nothing on disk holds a message word or a channel name in clear", async () => {
  const files = await filesUnder(alice.configDir);
  expect(files.some((f) => f.endsWith(".seg"))).toBe(true);
  for (const file of files) {
    const bytes = await readFile(file);
    for (const word of [
      "xylophone",
      "XYLOPHONE",
      "Tuesday",
      "filler",
      "marimbas",
      "glockenspiel",
      "trombone",
      LOUNGE,
      DECK,
      HIDDEN,
      "Quartz",
      "Vermilion",
    ]) {
      expect([file, bytes.includes(word)]).toEqual([file, false]);
    }
  }
});
