import { describe, expect, test } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ChannelSchema } from "../../gen/dialtone/v1/channel_pb.js";
import { MessageSchema } from "../../gen/dialtone/v1/message_pb.js";
import { generateSymmetricKey, sealText } from "../crypto/index.js";
import { UsageError } from "./errors.js";
import { Timeline } from "./history.js";
import { openMessage, sealMessage, withDirectoryName, type ChatMessage } from "./messages.js";
import { ENCRYPTED_PLACEHOLDER, channelView, resolveByNameOrId } from "./names.js";

const channels = [
  { id: "1a2b3c4d-0000-4000-8000-000000000001", name: "general", label: "general" },
  { id: "1a2b9999-0000-4000-8000-000000000002", name: "General", label: "General" },
  { id: "7f000000-0000-4000-8000-000000000003", name: "random", label: "random" },
  { id: "7e000000-0000-4000-8000-000000000004", name: undefined, label: ENCRYPTED_PLACEHOLDER },
];
const pick = (arg: string) => resolveByNameOrId(channels, arg, (c) => c, "channel").id;

describe("resolving what the user typed", () => {
  test("by name, any case, with or without #", () => {
    expect(pick("#random")).toBe(channels[2]!.id);
    expect(pick("RANDOM")).toBe(channels[2]!.id);
  });

  test("by id prefix, dashes optional", () => {
    expect(pick("7f")).toBe(channels[2]!.id);
    expect(pick("7e00")).toBe(channels[3]!.id);
    expect(pick("1a2b3c4d-00")).toBe(channels[0]!.id);
  });

  test("ambiguous names and prefixes list the candidates", () => {
    for (const arg of ["general", "1a2b"]) {
      let err: unknown;
      try {
        pick(arg);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe("ambiguous-channel");
      expect((err as UsageError).candidates).toEqual(["general (1a2b3c4d)", "General (1a2b9999)"]);
    }
  });

  test("unknown and empty", () => {
    expect(() => pick("nope")).toThrow(/no channel named "nope"/);
    expect(() => pick("#")).toThrow(/empty channel name/);
  });
});

describe("messages", () => {
  const key = { epoch: 1, key: generateSymmetricKey() };
  const ids = {
    channelId: channels[0]!.id,
    messageId: "0b9d4bd6-7f3c-4c39-9c1a-2f0f1b7a6e01",
    senderUserId: "5d7b2d2a-1111-4f4f-8a8a-000000000001",
  };
  const row = async (senderName: string, seq = 5n) =>
    create(MessageSchema, {
      ...ids,
      senderDeviceId: "d",
      seq,
      createdAt: timestampFromDate(new Date("2026-01-02T03:04:05Z")),
      ...(await sealMessage(key, ids, { text: "hello" }, senderName)),
    });

  test("the directory name is shown; a different sealed claim is flagged", async () => {
    expect(await openMessage(await row("bob"), key, "bob")).toMatchObject({ body: "hello", sender: "bob", senderMismatch: false });
    expect(await openMessage(await row("alice"), key, "bob")).toMatchObject({
      sender: "bob",
      claimedSender: "alice",
      senderMismatch: true,
    });
    // A claim with no directory name behind it carries the account's mark; so does a shared name.
    expect(await openMessage(await row("alice"), key, undefined)).toMatchObject({ sender: "alice#5d7b", senderMismatch: false });
    expect(await openMessage(await row("bob"), key, "bob", "bob#5d7b")).toMatchObject({ sender: "bob#5d7b", senderMismatch: false });
  });

  test("a held message takes the directory's name once it opens or changes, and stays the same object otherwise", async () => {
    const claimOnly = await openMessage(await row("alice"), key, undefined);
    expect(claimOnly.sender).toBe("alice#5d7b");
    // The account's name opened after the message: the directory's label replaces the marked claim.
    expect(withDirectoryName(claimOnly, "alice", "alice")).toMatchObject({ sender: "alice", senderMismatch: false, body: "hello" });
    // It opened as a different name: shown by the directory's name, the claim flagged.
    expect(withDirectoryName(claimOnly, "mallory", "mallory")).toMatchObject({
      sender: "mallory",
      claimedSender: "alice",
      senderMismatch: true,
    });
    // Renamed later: the new name, and the old claim is now a mismatch.
    const named = await openMessage(await row("bob"), key, "bob");
    expect(withDirectoryName(named, "robert", "robert")).toMatchObject({ sender: "robert", senderMismatch: true });
    // Nothing changed: the same object, so nothing is shown again.
    expect(withDirectoryName(named, "bob", "bob")).toBe(named);
    expect(withDirectoryName(claimOnly, undefined, "user-5d7b2d2a")).toBe(claimOnly);
    // An unopened body keeps its placeholder; only the sender moves.
    const unopened = await openMessage(await row("bob"), undefined, undefined);
    expect(withDirectoryName(unopened, "bob", "bob")).toMatchObject({
      sender: "bob",
      body: undefined,
      error: "missing-key",
      senderMismatch: false,
    });
  });

  test("a missing or wrong key gives placeholders, never an exception", async () => {
    expect(await openMessage(await row("bob"), undefined, "bob")).toMatchObject({ body: undefined, error: "missing-key", sender: "bob" });
    const wrong = { epoch: 1, key: generateSymmetricKey() };
    expect(await openMessage(await row("bob"), wrong, undefined)).toMatchObject({
      body: undefined,
      error: "undecryptable",
      sender: "user-5d7b2d2a",
    });
    // Moved to another message id: the AAD no longer matches.
    const moved = create(MessageSchema, { ...(await row("bob")), messageId: "0b9d4bd6-7f3c-4c39-9c1a-2f0f1b7a6e02" });
    expect((await openMessage(moved, key, undefined)).error).toBe("undecryptable");
  });

  test("a channel name opens with its key, else shows the placeholder", async () => {
    const channelId = channels[2]!.id;
    const encryptedName = await sealText(key, { purpose: "channel-name", channelId }, "random");
    const rowC = create(ChannelSchema, { channelId, encryptedName, keyEpoch: 1 });
    expect((await channelView(rowC, () => key)).label).toBe("random");
    expect((await channelView(rowC, () => undefined)).label).toBe(ENCRYPTED_PLACEHOLDER);
    expect((await channelView({ ...rowC, encryptedName: "garbage" }, () => key)).name).toBeUndefined();
  });

  test("a timeline keeps each id once, in seq order", () => {
    const m = (id: string, seq: bigint) => ({ messageId: id, seq }) as ChatMessage;
    const t = new Timeline();
    expect(t.merge([m("c", 30n), m("a", 10n)]).map((x) => x.messageId)).toEqual(["a", "c"]);
    expect(t.merge([m("b", 20n), m("c", 30n)]).map((x) => x.messageId)).toEqual(["b"]);
    expect(t.messages().map((x) => x.messageId)).toEqual(["a", "b", "c"]);
    expect(t.oldestSeq).toBe(10n);
  });
});
