// Rows → API messages, and events. The one place that maps the database row shapes to the
// protobuf shapes (the event log's bytes are server/codec/event-log.ts's business).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Channel } from "../../gen/dialtone/v1/channel_pb.js";
import { ChannelSchema } from "../../gen/dialtone/v1/channel_pb.js";
import type { Device } from "../../gen/dialtone/v1/device_pb.js";
import { DeviceSchema } from "../../gen/dialtone/v1/device_pb.js";
import { EventSchema, type Event, type IdentityChange } from "../../gen/dialtone/v1/event_pb.js";
import {
  type Admission,
  AdmissionSchema,
  type Identity,
  IdentitySchema,
  type KeyStatement,
  KeyStatementSchema,
} from "../../gen/dialtone/v1/identity_pb.js";
import { MessageSchema, type Message } from "../../gen/dialtone/v1/message_pb.js";
import { ProfileSchema, type Profile } from "../../gen/dialtone/v1/profile_pb.js";
import { encodeStored, type StoredEvent } from "../codec/event-log.js";
import type { ChannelRow } from "../db/repos/channels.js";
import type { DeviceRow } from "../db/repos/accounts.js";
import type { AdmissionRow, IdentityRecord } from "../db/repos/identities.js";
import type { KeyStatementRow } from "../db/repos/key-statements.js";
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
    certificate: r.certificate ?? "",
    revocation: r.revocation ?? "",
  });
}

export function toAdmission(r: AdmissionRow): Admission {
  return create(AdmissionSchema, {
    userId: r.userId,
    identityPublicKey: r.identityPublicKey,
    role: r.role,
    signerUserId: r.signerUserId,
    signature: r.signature,
    createdAt: ts(r.createdAt),
  });
}

export function toIdentity(r: IdentityRecord): Identity {
  return create(IdentitySchema, {
    userId: r.userId,
    publicKey: r.publicKey,
    createdAt: ts(r.createdAt),
    admissions: r.admissions.map(toAdmission),
    removal: r.removal && {
      userId: r.removal.userId,
      identityPublicKey: r.removal.identityPublicKey,
      signerUserId: r.removal.signerUserId,
      signature: r.removal.signature,
      createdAt: ts(r.removal.createdAt),
    },
    admissionRequest: r.admissionRequest && {
      inviteId: r.admissionRequest.inviteId,
      mac: r.admissionRequest.mac,
      createdAt: ts(r.admissionRequest.createdAt),
    },
  });
}

export function toKeyStatement(r: KeyStatementRow): KeyStatement {
  return create(KeyStatementSchema, {
    kind: r.kind,
    scopeId: r.scopeId,
    epoch: r.epoch,
    keyHash: r.keyHash,
    signerUserId: r.signerUserId,
    signature: r.signature,
  });
}

export function toProfile(r: {
  userId: string;
  isAdmin: boolean;
  encryptedName: string | null;
  keyEpoch: number | null;
  updatedAt: Date | null;
  removedAt?: Date | null;
}): Profile {
  return create(ProfileSchema, {
    userId: r.userId,
    encryptedName: r.encryptedName ?? "",
    keyEpoch: r.keyEpoch ?? 0,
    isAdmin: r.isAdmin,
    updatedAt: ts(r.updatedAt),
    ...(r.removedAt ? { removedAt: ts(r.removedAt) } : {}),
  });
}

export type EventPayload = MessageInitShape<typeof EventSchema>["payload"];

/** A durable event for the log, encoded once and without its seq (the log assigns it). */
export function durable(payload: NonNullable<EventPayload>, at: Date): StoredEvent {
  return encodeStored(create(EventSchema, { createdAt: ts(at), payload }));
}

/** An ephemeral event (seq 0): live only, never stored. */
export function ephemeral(payload: NonNullable<EventPayload>, at: Date = new Date()): Event {
  return create(EventSchema, { seq: 0n, createdAt: ts(at), payload });
}

/** IdentityUpdated: a signed statement about `userId` was stored (`deviceId` for a device certificate). */
export function identityUpdated(userId: string, change: IdentityChange, at: Date, deviceId = ""): StoredEvent {
  return durable({ case: "identityUpdated", value: { userId, change, deviceId } }, at);
}
