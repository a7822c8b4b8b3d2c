// A ChatMessage as client/core hands one out, for the client's unit tests: an opened text from
// `sender` (directory name, claim and account id alike), then whatever the test sets. A body set
// to undefined is a message that did not open ("missing-key"). Each call takes the next seq.
import type { ChatMessage } from "../../client/core/messages.js";

let seq = 0n;

export function chatMessage(fields: Partial<ChatMessage> = {}): ChatMessage {
  seq += 1n;
  const sender = fields.sender ?? fields.senderUserId ?? "alice";
  const body = "body" in fields ? fields.body : "hello";
  return {
    seq,
    channelId: "c",
    messageId: `m${seq}`,
    senderUserId: sender,
    senderDeviceId: `${sender}-d`,
    sender,
    claimedSender: sender,
    senderMismatch: false,
    body,
    error: body === undefined ? "missing-key" : undefined,
    keyEpoch: 1,
    sentAt: new Date(0),
    claimedSentAt: undefined,
    mentions: [],
    relation: undefined,
    ...fields,
  };
}
