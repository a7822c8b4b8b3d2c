// Replies, edits, reactions and deletions from the CLI, as another member's live client and a
// fresh history read see them; and what a database dump can tell of them (issue 15, items 1-2).
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { runCli } from "../client/cli/run.js";
import { sealTyping } from "../client/crypto/index.js";
import type { ChannelView, ChatMessage, ClientEvents } from "../client/core/index.js";
import { inArray } from "drizzle-orm";
import { decodeStored } from "../server/codec/event-log.js";
import { events, messages } from "../server/db/schema.js";
import { toMessage } from "../server/domain/wire.js";
import { dumpAllTables } from "./support/assertions.js";
import { fakeIo } from "./support/cli-io.js";
import { eventually, Harness, PASSPHRASE, type TestInstall } from "./support/client-harness.js";

let h: Harness;
let admin: TestInstall;
let alice: TestInstall;
let bob: TestInstall;
let channel: ChannelView;
const live: ChatMessage[] = [];
const deletions: Array<ClientEvents["message-deleted"]> = [];

beforeAll(async () => {
  h = await Harness.start("postgres");
  admin = await h.register("admin");
  alice = await h.register("alice");
  bob = await h.register("bob");
  channel = await admin.client.createChannel("talk");
  for (const i of [admin, alice, bob]) await i.client.setProfileName(i.username, 10_000);
  for (const i of [admin, alice, bob]) await i.client.reconcile();
  // Bob's running client: what he sees live.
  bob.client.on("message", (m) => live.push(m));
  bob.client.on("message-deleted", (d) => deletions.push(d));
  bob.client.start();
  await bob.client.waitOnline();
}, 240_000);
afterAll(() => h?.close());

async function cli(who: TestInstall, ...args: string[]): Promise<Array<Record<string, unknown>>> {
  const f = fakeIo({ DIALTONE_CONFIG_DIR: who.configDir, DIALTONE_PASSPHRASE: PASSPHRASE });
  const code = await runCli([...args, "--server", h.url, "--json"], f.io);
  if (code !== 0) throw new Error(`dialtone ${args.join(" ")} exited ${code}: ${f.err()}`);
  return f
    .out()
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const liveOf = (id: string) => eventually(() => live.find((m) => m.messageId === id), 10_000, `bob's client seeing ${id}`);

test("reply, edit, react and delete from the CLI: live on another client, and in a fresh history read", async () => {
  const [question] = await cli(alice, "send", "talk", "lunch at noon, @bob?");
  const qid = String(question!.message_id);
  expect(question!.mentions).toEqual([bob.client.me.userId]);
  expect((await liveOf(qid)).mentions).toEqual([bob.client.me.userId]);

  const [answer] = await cli(bob, "reply", "talk", qid.slice(0, 8), "yes, the usual place");
  expect(answer!.relation).toEqual({ kind: "reply", message_id: qid });
  const [reaction] = await cli(admin, "react", "talk", qid.slice(0, 6), "🍕");
  expect(reaction).toMatchObject({ type: "reaction", added: true, body: "🍕" });
  // Twice is once.
  expect((await cli(admin, "react", "talk", qid.slice(0, 6), "🍕"))[0]).toMatchObject({ added: false });
  const [edit] = await cli(alice, "edit", "talk", qid, "lunch at one, @bob?");
  expect(edit).toMatchObject({ type: "edit", relation: { kind: "edit", message_id: qid } });
  // Only the sender edits.
  const f = fakeIo({ DIALTONE_CONFIG_DIR: bob.configDir, DIALTONE_PASSPHRASE: PASSPHRASE });
  expect(await runCli(["edit", "talk", qid, "hijacked", "--server", h.url], f.io)).toBe(1);
  expect(f.err()).toMatch(/message: only its sender can edit a message/);

  // Live: bob's client saw each, and folds them.
  await liveOf(String(edit!.message_id));
  await liveOf(String(reaction!.message_id));
  const entry = bob.client.entries(channel.id).find((e) => e.message.messageId === qid)!;
  expect(entry).toMatchObject({ text: "lunch at one, @bob?", deleted: false });
  expect(entry.edited).toBeDefined();
  expect(entry.reactions).toEqual([{ emoji: "🍕", userIds: [admin.client.me.userId], mine: [] }]);

  // A fresh read (a new process: a reconnect from nothing).
  const history = await cli(bob, "history", "talk");
  expect(history.map((e) => e.text)).toEqual(["lunch at one, @bob?", "yes, the usual place"]);
  expect(history[0]).toMatchObject({ edited: true, deleted: false, reactions: [{ emoji: "🍕", count: 1, users: ["admin"], mine: false }] });
  // The reply quotes the question as it reads now.
  expect(history[1]).toMatchObject({ reply_to: { message_id: qid, sender: "alice", text: "lunch at one, @bob?" } });
  const ciphertexts = await storedBodies();
  expect(ciphertexts.size).toBe(4);

  // The admin takes the pizza back; alice deletes her question (and with it her edit).
  await cli(admin, "react", "talk", qid.slice(0, 6), "🍕", "--remove");
  await cli(alice, "delete", "talk", qid.slice(0, 8));
  await eventually(() => deletions.find((d) => d.messageId === qid), 10_000, "the tombstone reaching bob");
  expect(deletions.map((d) => [d.messageId, d.message?.relation?.kind ?? "message"])).toEqual([
    [reaction!.message_id, "reaction"],
    [edit!.message_id, "edit"],
    [qid, "message"],
  ]);
  expect(bob.client.entries(channel.id).find((e) => e.message.messageId === qid)).toMatchObject({
    deleted: true,
    text: undefined,
    reactions: [],
  });
  const after = await cli(bob, "history", "talk");
  expect(after.map((e) => e.text)).toEqual(["yes, the usual place"]);
  expect(after[0]).toMatchObject({ reply_to: { message_id: qid, sender: null, text: null } });

  // An admin deletes anyone's message (moderation); a member cannot.
  const g = fakeIo({ DIALTONE_CONFIG_DIR: alice.configDir, DIALTONE_PASSPHRASE: PASSPHRASE });
  expect(await runCli(["delete", "talk", String(answer!.message_id), "--server", h.url], g.io)).toBe(1);
  expect(g.err()).toMatch(/only its sender or an admin can delete a message/);
  await cli(admin, "delete", "talk", String(answer!.message_id));
  expect(await cli(bob, "history", "talk")).toEqual([]);

  // With the database in hand: none of the deleted ciphertexts is anywhere (rows or event log).
  const dump = await dumpAllTables(h.server.database);
  expect(dump).toContain("messages");
  for (const body of ciphertexts.values()) expect(dump).not.toContain(body);
}, 120_000);

/** The ciphertext the server holds for each message now, by id. */
async function storedBodies(): Promise<Map<string, string>> {
  const rows = await h.server.database.db.select({ id: messages.id, body: messages.encryptedBody }).from(messages);
  return new Map(rows.map((r) => [r.id, r.body]));
}

test("a database dump cannot tell a reaction or an edit from a message, and holds no mention", async () => {
  const [hello] = await cli(alice, "send", "talk", "hi @bob, see you at 3");
  const id = String(hello!.message_id);
  const [plain] = await cli(bob, "send", "talk", "ok");
  const [reaction] = await cli(bob, "react", "talk", id, "👍");
  const [edit] = await cli(alice, "edit", "talk", id, "hi @bob, see you at 4");
  const [reply] = await cli(bob, "reply", "talk", id, "@alice fine");
  const ids = [hello, plain, reaction, edit, reply].map((m) => String(m!.message_id));
  const rows = (await h.server.database.db.select().from(messages)).filter((r) => ids.includes(r.id));
  expect(rows).toHaveLength(5);
  // Every body is the same size: a reaction, an edit, a reply and a message look alike.
  expect(new Set(rows.map((r) => r.encryptedBody.length)).size).toBe(1);
  // No user id anywhere in a message row but its sender's own column, nor in the event log.
  const people = [admin, alice, bob].map((i) => i.client.me.userId);
  for (const r of rows) {
    const { senderUserId, ...rest } = r;
    const text = JSON.stringify(rest, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    for (const u of people) expect(text).not.toContain(u);
    expect(people).toContain(senderUserId);
  }
  // The event log carries each of them as the same row again, nothing more.
  const logged = await h.server.database.db
    .select()
    .from(events)
    .where(
      inArray(
        events.seq,
        rows.map((r) => r.seq),
      ),
    );
  expect(logged).toHaveLength(5);
  for (const e of logged) {
    const ev = decodeStored(e.seq, e.payload);
    const row = rows.find((r) => r.seq === e.seq)!;
    expect(ev.payload.case).toBe("messageCreated");
    expect(ev.payload.value).toEqual(expect.objectContaining({ message: expect.objectContaining(toMessage(row)) }));
  }
}, 60_000);

test("read state follows bob to his second device and survives a restart; typing notices arrive sealed, stale ones are dropped", async () => {
  const laptop = await h.newDevice("bob");
  await bob.client.reconcile(); // shares the channel key with the laptop
  const seen: bigint[] = [];
  laptop.client.on("read-marker", (m) => {
    if (m.channelId === channel.id) seen.push(m.seq);
  });
  laptop.client.start();
  await laptop.client.waitOnline();
  const [last] = await cli(alice, "send", "talk", "read me");
  const seq = BigInt(Number(last!.seq));
  await bob.client.markRead(channel.id, seq);
  await eventually(() => seen.includes(seq), 10_000, "the laptop hearing of the marker");
  expect(laptop.client.readMarker(channel.id)).toBe(seq);
  // A device that read less does not move it back.
  await laptop.client.markRead(channel.id, seq - 1n);
  expect(bob.client.readMarker(channel.id)).toBe(seq);
  // A restart: a new process of the laptop's install loads the marker from the server.
  const again = await h.reopen(laptop);
  await again.loadReadMarkers();
  expect(again.readMarker(channel.id)).toBe(seq);

  const typing: Array<ClientEvents["typing"]> = [];
  bob.client.on("typing", (t) => typing.push(t));
  await alice.client.setTyping(channel.id, true);
  await eventually(() => typing.find((t) => t.typing && t.user === "alice"), 10_000, "bob seeing alice type");
  // The server replays an old notice of alice's: dropped by its sealed clock.
  const key = alice.client.keys.channelKey(channel.id)!;
  const ids = { channelId: channel.id, senderUserId: alice.client.me.userId, senderDeviceId: alice.client.me.deviceId };
  const old = await sealTyping(key, ids, { typing: false, sentAt: new Date(Date.now() - 60_000) });
  await alice.client.api.message.sendTyping({ channelId: channel.id, encryptedPayload: old, keyEpoch: key.epoch });
  await alice.client.setTyping(channel.id, true);
  await eventually(() => (typing.filter((t) => t.typing).length >= 2 ? true : undefined), 10_000, "the second notice");
  expect(typing.map((t) => t.typing)).toEqual([true, true]);
}, 120_000);
