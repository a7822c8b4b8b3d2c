// Rows → API messages, and durable event payloads. The one place that knows both
// the database row shapes and the protobuf shapes.
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Channel } from "../../gen/dialtone/v1/channel_pb.js";
import { ChannelSchema } from "../../gen/dialtone/v1/channel_pb.js";
import type { Device } from "../../gen/dialtone/v1/device_pb.js";
import { DeviceSchema } from "../../gen/dialtone/v1/device_pb.js";
import { EventSchema, type Event } from "../../gen/dialtone/v1/event_pb.js";
import { MessageCreatedSchema } from "../../gen/dialtone/v1/event_pb.js";
import { MessageSchema, type Message } from "../../gen/dialtone/v1/message_pb.js";
import { ProfileSchema, type Profile } from "../../gen/dialtone/v1/profile_pb.js";
import type { ChannelRow } from "../db/repos/channels.js";
import type { DeviceRow } from "../db/repos/accounts.js";
import type { EventBuilder } from "../db/repos/events.js";
import type { MessageRow } from "../db/repos/messages.js";

const ts = (d: Date | null | undefined) => (d ? timestampFromDate(d) : undefined);

export function toChannel(r: ChannelRow): Channel {
  return create(ChannelSchema, {
    channelId: r.id,
    encryptedName: r.encryptedName,
    createdByUserId: r.createdByUserId ?? "",
    createdAt: ts(r.createdAt),
    updatedAt: ts(r.updatedAt),
    keyEpoch: r.keyEpoch,
  });
}

export function toMessage(r: MessageRow): Message {
  return create(MessageSchema, {
    messageId: r.id,
    channelId: r.channelId,
    senderUserId: r.senderUserId,
    senderDeviceId: r.senderDeviceId,
    encryptedBody: r.encryptedBody,
    encryptedSenderName: r.encryptedSenderName,
    keyEpoch: r.keyEpoch,
    seq: r.seq,
    createdAt: ts(r.createdAt),
  });
}

export function toDevice(r: DeviceRow): Device {
  return create(DeviceSchema, {
    deviceId: r.id,
    userId: r.userId,
    publicKey: r.publicKey,
    createdAt: ts(r.createdAt),
    lastSeenAt: ts(r.lastSeenAt),
    revokedAt: ts(r.revokedAt),
  });
}

export function toProfile(r: {
  userId: string;
  isAdmin: boolean;
  encryptedName: string | null;
  keyEpoch: number | null;
  updatedAt: Date | null;
}): Profile {
  return create(ProfileSchema, {
    userId: r.userId,
    encryptedName: r.encryptedName ?? "",
    keyEpoch: r.keyEpoch ?? 0,
    isAdmin: r.isAdmin,
    updatedAt: ts(r.updatedAt),
  });
}

export type EventPayload = MessageInitShape<typeof EventSchema>["payload"];

/** An event builder for the durable log: the payload is encoded once, with its seq. */
export function durable(payload: NonNullable<EventPayload>, at: Date): EventBuilder {
  return (seq) => ({
    type: payload.case ?? "unknown",
    payload: toBinary(EventSchema, create(EventSchema, { seq, createdAt: ts(at), payload })),
  });
}

/** An ephemeral event (seq 0): live only, never stored. */
export function ephemeral(payload: NonNullable<EventPayload>, at: Date = new Date()): Event {
  return create(EventSchema, { seq: 0n, createdAt: ts(at), payload });
}

/** A one-byte protobuf tag (field numbers below 16), for the SQL below to concatenate. */
function tag(field: { number: number }, wireType: 0 | 2): number {
  const t = (field.number << 3) | wireType;
  if (t > 0x7f) throw new Error(`field ${field.number}: tag does not fit one byte`);
  return t;
}

/**
 * The tags that carry a seq in an encoded MessageCreated event: Event.seq, then
 * Event.message_created.message.seq. Encoded protobuf messages merge when concatenated, so
 * `payload built with seq 0 || [Event.seq][message_created{message{seq}}]` decodes as the
 * event with its seq. The messages repository builds that suffix in the statement that takes
 * the seq, so a Send is one statement (see insertMessage).
 */
export const MESSAGE_SEQ_TAGS = {
  eventSeq: tag(EventSchema.field.seq!, 0),
  messageCreated: tag(EventSchema.field.messageCreated!, 2),
  message: tag(MessageCreatedSchema.field.message!, 2),
  messageSeq: tag(MessageSchema.field.seq!, 0),
} as const;
