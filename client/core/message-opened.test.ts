// A message that arrives before its channel key (a device nobody has shared the key with yet)
// comes as a placeholder, and opens in place ("message-opened") as soon as the key arrives.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { ChatMessage } from "./messages.js";
import { eventually, Harness, type TestInstall } from "../../test/support/client-harness.js";

let h: Harness;
let admin: TestInstall;

beforeAll(async () => {
  h = await Harness.start();
  admin = await h.register("admin");
}, 90_000);
afterAll(() => h?.close());

test("a placeholder message opens when its key arrives, once, and the history holds the opened one", async () => {
  const general = await admin.client.createChannel("general");
  // A server-side invite: bob is pending, so no client shares anything with his device yet.
  const bob = await h.register("bob", { serverInvite: true });
  const messages: ChatMessage[] = [];
  const opened: ChatMessage[] = [];
  bob.client.on("message", (m) => void messages.push(m));
  bob.client.on("message-opened", (m) => void opened.push(m));
  bob.client.start();
  await bob.client.waitOnline();

  const sent = await admin.client.send(general.id, "before the key");
  const first = await eventually(() => messages.find((m) => m.messageId === sent.messageId), 10_000, "the message");
  expect(first).toMatchObject({ body: undefined, error: "missing-key" });
  expect(opened).toEqual([]);

  await admin.client.admit(bob.client.me.userId); // then shares general's key: a KeyShared event reaches him
  const done = await eventually(() => opened.find((m) => m.messageId === sent.messageId), 10_000, "the message opened");
  expect(done).toMatchObject({ body: "before the key", error: undefined, seq: first.seq });
  expect(opened.filter((m) => m.messageId === sent.messageId)).toHaveLength(1);
  const history = await bob.client.history(general.id, 10);
  expect(history.find((m) => m.messageId === sent.messageId)?.body).toBe("before the key");
}, 60_000);

test("a held message shows its sender's name once the name opens, and the new one after a rename", async () => {
  await admin.client.setProfileName("carol", 10_000);
  const general = admin.client.channels().find((c) => c.name === "general") ?? (await admin.client.createChannel("general"));
  // Pending: bob holds neither the channel's key nor the directory's, so neither the body nor
  // carol's name opens until he is admitted; which of the two opens first is a race.
  const bob = await h.register("bob2", { serverInvite: true });
  const opened: ChatMessage[] = [];
  bob.client.on("message-opened", (m) => void opened.push(m));
  bob.client.on("senders-relabelled", ({ messages }) => void opened.push(...messages));
  bob.client.start();
  await bob.client.waitOnline();

  const sent = await admin.client.send(general.id, "who sent this?");
  await admin.client.admit(bob.client.me.userId);
  const latest = () => opened.filter((m) => m.messageId === sent.messageId).at(-1);
  await eventually(() => latest()?.body !== undefined && latest()?.sender === "carol", 10_000, "the message opened, sent by carol");
  expect(latest()).toMatchObject({ body: "who sent this?", sender: "carol", senderMismatch: false });

  // A rename shows on the message already held, with the name it was sealed under kept as its claim.
  await admin.client.setProfileName("caroline", 10_000);
  await eventually(() => latest()?.sender === "caroline", 10_000, "the message relabelled");
  expect(latest()).toMatchObject({ body: "who sent this?", claimedSender: "carol", senderMismatch: true });
  expect((await bob.client.history(general.id, 10)).find((m) => m.messageId === sent.messageId)?.sender).toBe("caroline");
}, 60_000);
