// Messages: body and sender display name sealed with the channel key, bound to channel, message
// and sender account ids. The name a reader sees comes from the directory (the sender account's
// profile), not from the sealed claim, which any key holder can write: a differing claim is
// flagged.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Relation_Kind, type MessageContent } from "../../gen/dialtone/v1/message_content_pb.js";
import type { Message } from "../../gen/dialtone/v1/message_pb.js";
import { openContent, openText, sealContent, sealText, type EpochKey } from "../crypto/index.js";
import { shortId, userLabel } from "./names.js";

/** What a message is to an earlier one of its channel (sealed inside it: the server cannot tell). */
export type RelationKind = "reply" | "edit" | "reaction";

export interface MessageRelation {
  readonly kind: RelationKind;
  readonly messageId: string;
}

/** What a sender writes: the text (a reaction's emoji), whom it mentions, and its relation. */
export interface MessageDraft {
  readonly text: string;
  /** User ids of the people the text mentions. */
  readonly mentions?: readonly string[];
  readonly relation?: MessageRelation;
}

/** A sender clock this far from the server's is flagged: a message held back, or a wrong clock. */
export const CLOCK_SKEW_FLAG_MS = 5 * 60_000;

const KIND_TO_WIRE: Record<RelationKind, Relation_Kind> = {
  reply: Relation_Kind.REPLY,
  edit: Relation_Kind.EDIT,
  reaction: Relation_Kind.REACTION,
};
const KIND_FROM_WIRE = new Map<Relation_Kind, RelationKind>(Object.entries(KIND_TO_WIRE).map(([k, v]) => [v, k as RelationKind]));

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
  /** The server's time (shown). */
  readonly sentAt: Date;
  /** The sender's own clock when it sent the message, if the body says (older clients' do not). */
  readonly claimedSentAt: Date | undefined;
  /** User ids the sender says the text mentions. */
  readonly mentions: readonly string[];
  /** A reply, an edit or a reaction; undefined for a plain message (or one that did not open). */
  readonly relation: MessageRelation | undefined;
}

/** How far the sender's clock was from the server's, when more than CLOCK_SKEW_FLAG_MS. */
export function clockSkewMs(m: ChatMessage): number | undefined {
  if (!m.claimedSentAt) return undefined;
  const skew = m.sentAt.getTime() - m.claimedSentAt.getTime();
  return Math.abs(skew) > CLOCK_SKEW_FLAG_MS ? skew : undefined;
}

export interface MessageIds {
  readonly channelId: string;
  readonly messageId: string;
  readonly senderUserId: string;
}

/** Seals a draft as MessageContent (purpose msg-content) and the sender's name (msg-sender). */
export async function sealMessage(
  key: EpochKey,
  ids: MessageIds,
  draft: MessageDraft,
  senderName: string,
  now: Date = new Date(),
): Promise<{ encryptedBody: string; encryptedSenderName: string; keyEpoch: number }> {
  const content = {
    text: draft.text,
    sentAt: timestampFromDate(now),
    mentionUserIds: [...(draft.mentions ?? [])],
    ...(draft.relation ? { relation: { kind: KIND_TO_WIRE[draft.relation.kind], messageId: draft.relation.messageId } } : {}),
  };
  return {
    encryptedBody: await sealContent(key, ids, content),
    encryptedSenderName: await sealText(key, { purpose: "msg-sender", ...ids }, senderName),
    keyEpoch: key.epoch,
  };
}

/** The relation of opened content, if it is one this client knows and names a message. */
function relationOf(content: MessageContent): MessageRelation | undefined {
  const kind = content.relation ? KIND_FROM_WIRE.get(content.relation.kind) : undefined;
  const messageId = content.relation?.messageId ?? "";
  return kind && messageId ? { kind, messageId } : undefined;
}

const sameName = (a: string, b: string) => a.normalize("NFC").trim() === b.normalize("NFC").trim();

/**
 * How a message's sender is shown: the directory's label once the account's name opened, else
 * the name the message claims with the account's mark (a claim alone is no proof of who sent
 * it), else the account's short id. A mismatch flags a claim that differs from the directory.
 */
function senderOf(
  senderUserId: string,
  claimed: string | undefined,
  directoryName: string | undefined,
  directoryLabel: string | undefined,
): Pick<ChatMessage, "sender" | "senderMismatch"> {
  return {
    sender:
      (directoryName !== undefined ? directoryLabel : undefined) ??
      (claimed !== undefined ? `${claimed}#${shortId(senderUserId).slice(0, 4)}` : userLabel(senderUserId, undefined)),
    senderMismatch: directoryName !== undefined && claimed !== undefined && !sameName(directoryName, claimed),
  };
}

/**
 * An opened message shown with the directory as it stands now (a name opened or changed since
 * it was opened); the same object when nothing changes.
 */
export function withDirectoryName(m: ChatMessage, directoryName: string | undefined, directoryLabel: string | undefined): ChatMessage {
  const next = senderOf(m.senderUserId, m.claimedSender, directoryName, directoryLabel);
  return next.sender === m.sender && next.senderMismatch === m.senderMismatch ? m : { ...m, ...next };
}

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
  let content: MessageContent | undefined;
  let claimed: string | undefined;
  let error: ChatMessage["error"];
  if (!key || key.epoch !== msg.keyEpoch) {
    error = "missing-key";
  } else {
    try {
      // MessageContent (msg-content), or an older client's text (msg-body).
      content = (await openContent(key, ids, msg.encryptedBody)).content;
      body = content.text;
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
    ...senderOf(msg.senderUserId, claimed, directoryName, directoryLabel),
    claimedSender: claimed,
    body,
    error,
    keyEpoch: msg.keyEpoch,
    sentAt: msg.createdAt ? timestampDate(msg.createdAt) : new Date(0),
    claimedSentAt: content?.sentAt ? timestampDate(content.sentAt) : undefined,
    mentions: content?.mentionUserIds ?? [],
    relation: content ? relationOf(content) : undefined,
  };
}
