// Messages: body and sender display name sealed with the channel key, bound to channel, message
// and sender account ids. The name a reader sees comes from the directory (the sender account's
// profile), not from the sealed claim, which any key holder can write: a differing claim is
// flagged.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Message } from "../../gen/dialtone/v1/message_pb.js";
import { openContent, openText, sealText, type EpochKey } from "../crypto/index.js";
import { shortId, userLabel } from "./names.js";

export interface ChatMessage {
  readonly seq: bigint;
  readonly channelId: string;
  readonly messageId: string;
  readonly senderUserId: string;
  readonly senderDeviceId: string;
  /** What to show as the sender: the directory name, else the sealed claim, else "user-xxxx". */
  readonly sender: string;
  /** The display name the sender sealed into the message (a claim), if it opened. */
  readonly claimedSender: string | undefined;
  /** The directory knows the sender account's name, and the claim differs from it. */
  readonly senderMismatch: boolean;
  /** The body, or undefined if it did not open (see `error`). */
  readonly body: string | undefined;
  readonly error: "missing-key" | "undecryptable" | undefined;
  readonly keyEpoch: number;
  readonly sentAt: Date;
}

export interface MessageIds {
  readonly channelId: string;
  readonly messageId: string;
  readonly senderUserId: string;
}

export async function sealMessage(
  key: EpochKey,
  ids: MessageIds,
  body: string,
  senderName: string,
): Promise<{ encryptedBody: string; encryptedSenderName: string; keyEpoch: number }> {
  return {
    encryptedBody: await sealText(key, { purpose: "msg-body", ...ids }, body),
    encryptedSenderName: await sealText(key, { purpose: "msg-sender", ...ids }, senderName),
    keyEpoch: key.epoch,
  };
}

const sameName = (a: string, b: string) => a.normalize("NFC").trim() === b.normalize("NFC").trim();

/**
 * Opens a message with the key of its epoch. The ids come from the message row (the server's
 * word), so a ciphertext moved to another message, channel or sender fails to open.
 */
/**
 * `directoryName` is the sender account's profile name; `directoryLabel` how it is shown (the
 * name with a mark from the account id when two people share it: "alice#1a2b").
 */
export async function openMessage(
  msg: Message,
  key: EpochKey | undefined,
  directoryName: string | undefined,
  directoryLabel: string | undefined = directoryName,
): Promise<ChatMessage> {
  const ids: MessageIds = { channelId: msg.channelId, messageId: msg.messageId, senderUserId: msg.senderUserId };
  let body: string | undefined;
  let claimed: string | undefined;
  let error: ChatMessage["error"];
  if (!key || key.epoch !== msg.keyEpoch) {
    error = "missing-key";
  } else {
    try {
      // MessageContent (msg-content), or an older client's text (msg-body).
      body = (await openContent(key, ids, msg.encryptedBody)).content.text;
    } catch {
      error = "undecryptable";
    }
    try {
      claimed = await openText(key, { purpose: "msg-sender", ...ids }, msg.encryptedSenderName);
    } catch {
      claimed = undefined;
    }
  }
  return {
    seq: msg.seq,
    ...ids,
    senderDeviceId: msg.senderDeviceId,
    // A claim alone (no directory name yet) carries the account's mark: it is no proof of who sent it.
    sender:
      (directoryName !== undefined ? directoryLabel : undefined) ??
      (claimed !== undefined ? `${claimed}#${shortId(msg.senderUserId).slice(0, 4)}` : userLabel(msg.senderUserId, undefined)),
    claimedSender: claimed,
    senderMismatch: directoryName !== undefined && claimed !== undefined && !sameName(directoryName, claimed),
    body,
    error,
    keyEpoch: msg.keyEpoch,
    sentAt: msg.createdAt ? timestampDate(msg.createdAt) : new Date(0),
  };
}
