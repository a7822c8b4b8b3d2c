// What the bench sends: sealed-field-shaped ciphertext (the server cannot tell it from real
// ciphertext) and message ids that carry their send time, so every receiver can compute
// delivery latency on its own: the send time is on CLOCK_MONOTONIC, shared by all processes.
import { randomBytes } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { SubscribeResponseSchema } from "../../gen/dialtone/v1/event_service_pb.js";

/** The body size the scenarios send: a 300-byte sealed field (version, epoch, nonce, 267 + 16 bytes). */
export const BODY_BYTES = 300;

/** base64(0x01 || epoch 1 || random[rawBytes - 5]): shaped like a sealed field of `rawBytes` bytes. */
export function sealedField(rawBytes: number): string {
  return Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), randomBytes(Math.max(0, rawBytes - 5))]).toString("base64");
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/**
 * A UUID-shaped id (the server checks the 8-4-4-4-12 hex shape only) holding the message's
 * index, its phase, the sender number, and the send time in µs on the monotonic clock.
 */
export function messageId(index: number, phase: number, sender: number, sentUs: number): string {
  return `${hex(index, 8)}-${hex(phase, 4)}-4${hex(sender & 0xfff, 3)}-8000-${hex(Math.round(sentUs), 12)}`;
}

export function parseMessageId(id: string): { index: number; phase: number; sentUs: number } {
  return { index: parseInt(id.slice(0, 8), 16), phase: parseInt(id.slice(9, 13), 16), sentUs: parseInt(id.slice(24), 16) };
}

/**
 * The bytes the raw-ws baseline broadcasts: a SubscribeResponse carrying a MessageCreated event
 * with the same field sizes our server sends, so both deliver (and decode) the same payload.
 */
export function baselineFrame(id: string, body: string, senderName: string, seq: bigint): Uint8Array {
  const now = timestampFromDate(new Date());
  return toBinary(
    SubscribeResponseSchema,
    create(SubscribeResponseSchema, {
      item: {
        case: "event",
        value: {
          seq,
          createdAt: now,
          payload: {
            case: "messageCreated",
            value: {
              message: {
                messageId: id,
                channelId: "00000000-0000-4000-8000-000000000001",
                senderUserId: "00000000-0000-4000-8000-000000000002",
                senderDeviceId: "00000000-0000-4000-8000-000000000003",
                encryptedBody: body,
                encryptedSenderName: senderName,
                keyEpoch: 1,
                seq,
                createdAt: now,
              },
            },
          },
        },
      },
    }),
  );
}
