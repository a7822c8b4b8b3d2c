// `dialtone send CHANNEL -`: each line of stdin is one message, sent in order, empty lines
// skipped, a summary on stderr; a line the server refuses stops the batch and says how far it got.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { runCli } from "../client/cli/run.js";
import type { ChannelView } from "../client/core/index.js";
import { fakeIo } from "./support/cli-io.js";
import { Harness, PASSPHRASE, type TestInstall } from "./support/client-harness.js";

let h: Harness;
let admin: TestInstall;
let alice: TestInstall;
let channel: ChannelView;

beforeAll(async () => {
  h = await Harness.start();
  admin = await h.register("admin");
  alice = await h.register("alice");
  channel = await admin.client.createChannel("batch");
  await alice.client.reconcile();
}, 240_000);
afterAll(() => h?.close());

async function sendLines(stdin: string) {
  const f = fakeIo({ DIALTONE_CONFIG_DIR: alice.configDir, DIALTONE_PASSPHRASE: PASSPHRASE }, undefined, stdin);
  const code = await runCli(["send", "--server", h.url, "batch", "-", "--json"], f.io);
  return { code, out: f.out(), err: f.err() };
}

/** The channel's latest bodies as the admin's `dialtone history` prints them (a fresh read, no cache). */
async function bodies(limit: number): Promise<string[]> {
  const f = fakeIo({ DIALTONE_CONFIG_DIR: admin.configDir, DIALTONE_PASSPHRASE: PASSPHRASE });
  expect(await runCli(["history", "--server", h.url, channel.id.slice(0, 8), "--limit", String(limit), "--json"], f.io)).toBe(0);
  return f
    .out()
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { body: string }).body);
}

test("many lines: one message each, in order, empty lines skipped, a summary on stderr", async () => {
  const lines = Array.from({ length: 300 }, (_, i) => `line ${i} of the batch`);
  // Empty and blank lines, a CRLF line ending and no newline at the end.
  const stdin = `${lines.slice(0, 100).join("\n")}\n\n   \n${lines.slice(100, 200).join("\r\n")}\r\n\n${lines.slice(200).join("\n")}`;
  const r = await sendLines(stdin);
  expect(r.err).toBe("300 messages sent to #batch\n");
  expect(r.code).toBe(0);
  const printed = r.out
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { body: string }).body);
  expect(printed).toEqual(lines);
  expect(await bodies(300)).toEqual(lines);
}, 120_000);

test("a line the server refuses stops the batch: the lines before it stay sent, and it says which line", async () => {
  const tooLong = "x".repeat(70_000);
  const r = await sendLines(`first of two\n\nsecond of two\n${tooLong}\nnever sent\n`);
  expect(r.err.split("\n")[0]).toBe("dialtone: 2 messages sent to #batch; line 4 was not sent");
  expect(r.code).not.toBe(0);
  expect((await bodies(2)).slice(-2)).toEqual(["first of two", "second of two"]);
  expect(await bodies(400)).not.toContain("never sent");
}, 60_000);

test("stdin with no message at all is a usage error", async () => {
  const r = await sendLines("\n  \n\n");
  expect(r.err).toBe("dialtone: stdin held no message (every line was empty)\n");
  expect(r.code).toBe(1);
});
