// Messages: idempotent send, paged history, deletion, typing notices.
import * as channels from "../db/repos/channels.js";
import * as repo from "../db/repos/messages.js";
import type { Caller, Deps } from "./deps.js";
import { DomainError, invalid, notFound } from "./errors.js";
import { epoch, LIMITS, sealed, seq, uuid } from "./validate.js";
import { durable, ephemeral, toMessage } from "./wire.js";

export async function sendMessage(
  deps: Deps,
  caller: Caller,
  req: { messageId: string; channelId: string; encryptedBody: string; encryptedSenderName: string; keyEpoch: number },
) {
  const id = uuid("message_id", req.messageId);
  const channelId = uuid("channel_id", req.channelId);
  const keyEpoch = epoch("key_epoch", req.keyEpoch);
  const body = sealed("encrypted_body", req.encryptedBody, LIMITS.bodyBytes, keyEpoch);
  const senderName = sealed("encrypted_sender_name", req.encryptedSenderName, LIMITS.nameBytes, keyEpoch);
  takeSendToken(deps, caller);
  const now = deps.now();
  const row = {
    id,
    channelId,
    senderUserId: caller.userId,
    senderDeviceId: caller.deviceId,
    encryptedBody: body,
    encryptedSenderName: senderName,
    keyEpoch,
    createdAt: now,
  };
  const res = await repo.insertMessage(
    deps.database.db,
    row,
    // The message as the event carries it: seq 0 until the log stamps it (server/codec/event-log.ts).
    durable({ case: "messageCreated", value: { message: toMessage({ ...row, seq: 0n }) } }, now),
  );
  if (res.kind === "no_channel") throw notFound("channel", "channel_id");
  if (res.kind === "stale_epoch") {
    throw new DomainError("failed_precondition", `key_epoch: the channel's key epoch is ${res.channelEpoch}; seal with it`);
  }
  if (res.kind === "exists" && (res.message.senderUserId !== caller.userId || res.message.channelId !== channelId)) {
    throw new DomainError("already_exists", "message_id: used by another message");
  }
  deps.bus.publishDurable(res.events);
  return res.message;
}

/** One token of the session's send bucket (messages and typing notices share it). */
function takeSendToken(deps: Deps, caller: Caller): void {
  const waitMs = deps.limits.sends.take(caller.tokenHash);
  if (waitMs > 0) {
    const { ratePerSecond, burst } = deps.limits.sends;
    throw new DomainError(
      "resource_exhausted",
      `sending too fast: a session may send ${ratePerSecond} messages a second (bursts of ${burst}); retry in ${waitMs} ms`,
    );
  }
}

/** Deletes a message: its sender may, and so may an admin (moderation). */
export async function deleteMessage(deps: Deps, caller: Caller, req: { messageId: string }) {
  const id = uuid("message_id", req.messageId);
  const now = deps.now();
  const res = await repo.deleteMessage(
    deps.database.db,
    id,
    (row) => row.senderUserId === caller.userId || caller.isAdmin,
    (row) =>
      durable({ case: "messageDeleted", value: { channelId: row.channelId, messageId: row.id, deletedByUserId: caller.userId } }, now),
    now,
  );
  if (res.kind === "not_found") throw notFound("message", "message_id");
  if (res.kind === "forbidden") throw new DomainError("permission_denied", "message_id: only its sender or an admin may delete a message");
  deps.bus.publishDurable(res.events);
  deps.log.info("message deleted", {
    message_id: id,
    channel_id: res.message.channelId,
    by: caller.userId,
    moderation: res.message.senderUserId !== caller.userId,
  });
  return { channelId: res.message.channelId };
}

/** Relays a sealed typing notice to the streams open now; nothing is stored. */
export async function sendTyping(deps: Deps, caller: Caller, req: { channelId: string; encryptedPayload: string; keyEpoch: number }) {
  const channelId = uuid("channel_id", req.channelId);
  const keyEpoch = epoch("key_epoch", req.keyEpoch);
  const payload = sealed("encrypted_payload", req.encryptedPayload, LIMITS.nameBytes, keyEpoch);
  takeSendToken(deps, caller);
  if (!(await channels.findChannel(deps.database.db, channelId))) throw notFound("channel", "channel_id");
  deps.bus.publishEphemeral({
    audience: { kind: "all" },
    event: ephemeral({
      case: "typingChanged",
      value: { channelId, senderUserId: caller.userId, senderDeviceId: caller.deviceId, encryptedPayload: payload, keyEpoch },
    }),
  });
}

export async function listMessages(deps: Deps, req: { channelId: string; beforeSeq: bigint; limit: number }) {
  const channelId = uuid("channel_id", req.channelId);
  const limit = req.limit === 0 ? LIMITS.historyDefault : req.limit;
  if (limit < 1 || limit > LIMITS.historyPage) throw invalid("limit", `must be 1 to ${LIMITS.historyPage}`);
  const beforeSeq = seq("before_seq", req.beforeSeq);
  const page = await repo.listMessages(deps.database.db, channelId, beforeSeq > 0n ? beforeSeq : undefined, limit);
  // Only an empty page may be an unknown channel: the common case costs one query.
  if (!page.messages.length && !(await channels.findChannel(deps.database.db, channelId))) throw notFound("channel", "channel_id");
  return page;
}
