// `dialtone tail` and a channel whose key reaches this device after the channel was announced:
// the name follows once the key arrives, instead of "<encrypted>(…)" for good.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { runCli } from "../client/cli/run.js";
import { newChannelKey, sealChannelName, userLabel } from "../client/core/index.js";
import { fakeIo } from "./support/cli-io.js";
import { eventually, Harness, PASSPHRASE, type TestInstall } from "./support/client-harness.js";

let h: Harness;
let admin: TestInstall;
let alice: TestInstall;

beforeAll(async () => {
  h = await Harness.start();
  admin = await h.register("admin");
  alice = await h.register("alice");
}, 90_000);
afterAll(() => h?.close());

test("a channel announced before its key arrives is named once the key does", async () => {
  const stop = new AbortController();
  const f = fakeIo({ DIALTONE_CONFIG_DIR: alice.configDir, DIALTONE_PASSPHRASE: PASSPHRASE }, stop.signal);
  const tail = runCli(["tail", "--server", h.url], f.io);
  try {
    const online = async () => (await alice.client.api.presence.listPresence({ userIds: [alice.client.me.userId] })).presences[0]?.online;
    await eventually(async () => (await online()) || undefined, 10_000, "alice's tail online");
    // The admin's client creates the channel but shares its key only a moment later.
    const channelId = randomUUID();
    const key = newChannelKey();
    await admin.client.api.channel.createChannel({ channelId, encryptedName: await sealChannelName(key, channelId, "late") });
    const short = channelId.replaceAll("-", "").slice(0, 8);
    await eventually(() => f.out().includes(`new channel <encrypted>(${short})`) || undefined, 10_000, "the announcement");
    await admin.client.keys.adoptNewChannelKey(channelId, key);
    await eventually(() => f.out().includes(`channel <encrypted>(${short}) is now #late`) || undefined, 10_000, "the name following");
  } finally {
    stop.abort();
    expect(await tail).toBe(0);
  }
});

test("a profile published again with the same name is not news: one line per name change", async () => {
  const stop = new AbortController();
  const f = fakeIo({ DIALTONE_CONFIG_DIR: admin.configDir, DIALTONE_PASSPHRASE: PASSPHRASE }, stop.signal);
  const tail = runCli(["tail", "--server", h.url, "--json"], f.io);
  const profiles = () =>
    f
      .out()
      .split("\n")
      .filter((l) => l.includes('"profile_updated"'))
      .map((l) => JSON.parse(l) as { name: string; previous: string });
  try {
    const online = async () => (await admin.client.api.presence.listPresence({ userIds: [admin.client.me.userId] })).presences[0]?.online;
    await eventually(async () => (await online()) || undefined, 10_000, "the admin's tail online");
    // The UI's register publishes the name a second time when the directory key arrives while
    // it waits for it: the same name, twice, then a real change.
    await alice.client.setProfileName("Alice Twice");
    await alice.client.setProfileName("Alice Twice");
    await alice.client.setProfileName("Alice Once");
    await eventually(() => profiles().some((p) => p.name === "Alice Once") || undefined, 10_000, "the last change");
    expect(profiles().map((p) => p.name)).toEqual(["Alice Twice", "Alice Once"]);
    expect(profiles().map((p) => p.previous)).toEqual([userLabel(alice.client.me.userId, undefined), "Alice Twice"]);
  } finally {
    stop.abort();
    expect(await tail).toBe(0);
  }
});
