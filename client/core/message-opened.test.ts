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
