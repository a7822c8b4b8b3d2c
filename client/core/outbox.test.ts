// The outbox's rules, with the network, the keys and the clock replaced by fakes.
import { describe, expect, test } from "@jest/globals";
import { chatMessage } from "../../test/support/chat-message.js";
import type { EpochKey } from "../crypto/index.js";
import { ApiError, KeyError } from "./errors.js";
import type { ChatMessage } from "./messages.js";
import { Outbox, OutboxClosed, SEND_RULES, type OutboxUpdate, type SealedMessage } from "./outbox.js";

interface Post {
  readonly messageId: string;
  readonly keyEpoch: number;
}

/** Fakes: `answers` are consumed one per post (an Error is thrown, "ok" stores the message). */
function harness(
  answers: Array<Error | "ok">,
  opts: { epochs?: number[]; pause?: (ms: number, signal: AbortSignal) => Promise<void> } = {},
) {
  const posts: Post[] = [];
  const pauses: number[] = [];
  const seals: number[] = [];
  const updates: OutboxUpdate[] = [];
  const epochs = [...(opts.epochs ?? [1])];
  let ids = 0;
  const outbox = new Outbox({
    key: async (): Promise<EpochKey> => ({ epoch: epochs.length > 1 ? epochs.shift()! : epochs[0]!, key: new Uint8Array(32) }),
    seal: async (key): Promise<SealedMessage> => {
      seals.push(key.epoch);
      return { encryptedBody: "b", encryptedSenderName: "n", keyEpoch: key.epoch };
    },
    post: async (channelId, messageId, sealed): Promise<ChatMessage> => {
      posts.push({ messageId, keyEpoch: sealed.keyEpoch });
      const a = answers.shift() ?? "ok";
      if (a !== "ok") throw a;
      return message(channelId, messageId, sealed.keyEpoch);
    },
    pause: async (ms, signal) => {
      pauses.push(ms);
      await opts.pause?.(ms, signal);
    },
    newId: () => `id-${++ids}`,
  });
  outbox.on((u) => updates.push(u));
  const settled = () =>
    new Promise<void>((resolve) => {
      const check = () => (outbox.status.count === 0 ? resolve() : setTimeout(check, 1));
      check();
    });
  return { outbox, posts, pauses, seals, updates, settled };
}

const message = (channelId: string, messageId: string, keyEpoch: number): ChatMessage =>
  chatMessage({ seq: 1n, channelId, messageId, keyEpoch, senderUserId: "u", senderDeviceId: "d", sender: "me", body: "hi" });

const down = () => new ApiError("unavailable", "cannot reach the server");

describe("queued sends", () => {
  test("a connection error is retried with the same message id, with the rule's waits, until stored", async () => {
    const h = harness([down(), down(), down(), down(), down(), down(), down(), "ok"]);
    const entry = h.outbox.enqueue("c1", "hello");
    await h.settled();
    expect(new Set(h.posts.map((p) => p.messageId))).toEqual(new Set([entry.id]));
    expect(h.posts).toHaveLength(8);
    expect(h.pauses).toEqual([300, 1_000, 2_000, 5_000, 10_000, 15_000, 15_000]);
    expect(h.updates.filter((u) => u.type === "waiting")).toHaveLength(7);
    expect(h.updates.at(-1)).toMatchObject({ type: "sent", entry, message: { messageId: entry.id } });
  });

  test("status says waiting only while the first message waits for the connection", async () => {
    let release!: () => void;
    const h = harness([down()], { pause: () => new Promise<void>((r) => (release = r)) });
    h.outbox.enqueue("c1", "one");
    h.outbox.enqueue("c1", "two");
    await new Promise((r) => setTimeout(r, 5));
    expect(h.outbox.status).toEqual({ count: 2, waiting: true });
    release();
    await h.settled();
    expect(h.outbox.status).toEqual({ count: 0, waiting: false });
  });

  test("messages go out in order, one at a time, each with its own id", async () => {
    const h = harness([down(), "ok", "ok"]);
    const a = h.outbox.enqueue("c1", "first");
    const b = h.outbox.enqueue("c1", "second");
    await h.settled();
    expect(h.posts.map((p) => p.messageId)).toEqual([a.id, a.id, b.id]);
    expect(h.updates.filter((u) => u.type === "sent").map((u) => u.entry.id)).toEqual([a.id, b.id]);
  });

  test("a refusal fails at once and is reported once; the next message still goes", async () => {
    const h = harness([new KeyError("missing-key", "no key"), "ok"]);
    const a = h.outbox.enqueue("c1", "refused");
    const b = h.outbox.enqueue("c1", "fine");
    await h.settled();
    const failed = h.updates.filter((u) => u.type === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ entry: a, error: expect.any(KeyError) });
    expect(h.pauses).toEqual([]);
    expect(h.updates.filter((u) => u.type === "sent").map((u) => u.entry.id)).toEqual([b.id]);
  });

  test("a server failing oddly gets three attempts in all, then the failure is reported once", async () => {
    const odd = () => new ApiError("internal", "boom");
    const h = harness([odd(), odd(), odd(), odd()]);
    h.outbox.enqueue("c1", "x");
    await h.settled();
    expect(h.posts).toHaveLength(SEND_RULES.oddAttempts);
    expect(h.updates.filter((u) => u.type === "failed")).toHaveLength(1);
  });

  test("the session refused (unauthenticated) is final, not retried", async () => {
    const h = harness([new ApiError("unauthenticated", "invalid or expired session")]);
    h.outbox.enqueue("c1", "x");
    await h.settled();
    expect(h.posts).toHaveLength(1);
    expect(h.updates.map((u) => u.type)).toEqual(["sending", "failed"]);
  });

  test("re-sealed under a newer key epoch that arrived between attempts, same id", async () => {
    const h = harness([down(), down(), "ok"], { epochs: [1, 2, 2] });
    const entry = h.outbox.enqueue("c1", "x");
    await h.settled();
    expect(h.seals).toEqual([1, 2]); // sealed again only when the epoch changed
    expect(h.posts).toEqual([
      { messageId: entry.id, keyEpoch: 1 },
      { messageId: entry.id, keyEpoch: 2 },
      { messageId: entry.id, keyEpoch: 2 },
    ]);
  });

  test("close ends the wait: the queued messages stay pending (unsent), none is reported failed", async () => {
    const h = harness([down()], { pause: (_ms, signal) => new Promise<void>((r) => signal.addEventListener("abort", () => r())) });
    const a = h.outbox.enqueue("c1", "one");
    const b = h.outbox.enqueue("c1", "two");
    await new Promise((r) => setTimeout(r, 5));
    h.outbox.close();
    await new Promise((r) => setTimeout(r, 5));
    expect(h.outbox.pending()).toEqual([a, b]);
    expect(h.updates.some((u) => u.type === "failed" || u.type === "sent")).toBe(false);
    expect(h.posts).toHaveLength(1);
    expect(() => h.outbox.enqueue("c1", "three")).toThrow(OutboxClosed);
  });
});

describe("one-shot sends", () => {
  test("three attempts at most, then the last error", async () => {
    const h = harness([down(), down(), down(), "ok"]);
    await expect(h.outbox.send("c1", "x")).rejects.toMatchObject({ code: "unavailable" });
    expect(h.posts).toHaveLength(3);
    expect(h.pauses).toEqual([300, 1_000]);
  });

  test("a caller's message id is kept for every attempt", async () => {
    const h = harness([down(), "ok"]);
    const m = await h.outbox.send("c1", "x", { messageId: "mine" });
    expect(m.messageId).toBe("mine");
    expect(h.posts.map((p) => p.messageId)).toEqual(["mine", "mine"]);
    expect(h.updates).toEqual([]); // answered by the promise, not the queue's listeners
  });

  test("the key wait applies to the first attempt only", async () => {
    const waits: number[] = [];
    let first = true;
    const outbox = new Outbox({
      key: async (_c, waitMs) => {
        waits.push(waitMs);
        return { epoch: 1, key: new Uint8Array(32) };
      },
      seal: async (key) => ({ encryptedBody: "b", encryptedSenderName: "n", keyEpoch: key.epoch }),
      post: async (c, id, s) => {
        if (first) {
          first = false;
          throw down();
        }
        return message(c, id, s.keyEpoch);
      },
      pause: async () => {},
      newId: () => "id",
    });
    await outbox.send("c1", "x", { waitMs: 5_000 });
    expect(waits).toEqual([5_000, 0]);
  });
});
