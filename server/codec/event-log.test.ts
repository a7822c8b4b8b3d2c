import { describe, expect, test } from "@jest/globals";
import { create, equals, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EventSchema } from "../../gen/dialtone/v1/event_pb.js";
import { decodeStored, encodeStored, toSeqless } from "./event-log.js";

type Payload = NonNullable<MessageInitShape<typeof EventSchema>["payload"]>;

const message = {
  messageId: "m1",
  channelId: "c1",
  senderUserId: "u1",
  senderDeviceId: "d1",
  encryptedBody: "b",
  encryptedSenderName: "n",
  keyEpoch: 3,
};
const PAYLOADS: Payload[] = [
  { case: "messageCreated", value: { message } },
  { case: "channelCreated", value: { channel: { channelId: "c1", encryptedName: "x", keyEpoch: 1 } } },
  { case: "channelDeleted", value: { channelId: "c1" } },
  { case: "deviceRevoked", value: { deviceId: "d1", userId: "u1" } },
  { case: "userRemoved", value: { userId: "u1", revokedDeviceIds: ["d1", "d2"] } },
  { case: "profileUpdated", value: { profile: { userId: "u1", encryptedName: "p", keyEpoch: 2, isAdmin: true } } },
];
const at = timestampFromDate(new Date("2026-01-02T03:04:05.678Z"));
// Seqs whose varints take 1, 2 and 10 bytes.
const SEQS = [1n, 300n, 2n ** 63n + 5n];

const stored = (payload: Payload) => encodeStored(create(EventSchema, { createdAt: at, payload })).payload;
/** The event with its seq, as a payload of the older shape stores it. */
const withSeq = (seq: bigint, payload: Payload) => {
  const ev = create(EventSchema, { seq, createdAt: at, payload });
  if (ev.payload.case === "messageCreated") ev.payload.value.message!.seq = seq;
  return ev;
};

describe("event log codec", () => {
  test.each(PAYLOADS.map((p) => [p.case, p] as const))("%s: decode stamps the seq (event, and message inside MessageCreated)", (_, p) => {
    for (const seq of SEQS) expect(equals(EventSchema, decodeStored(seq, stored(p)), withSeq(seq, p))).toBe(true);
  });

  test("rows of the older shape (seq inside the payload) read alike", () => {
    for (const p of PAYLOADS) {
      for (const seq of SEQS)
        expect(equals(EventSchema, decodeStored(seq, toBinary(EventSchema, withSeq(seq, p))), withSeq(seq, p))).toBe(true);
    }
  });

  test("toSeqless turns the older shape into the stored one, and leaves the stored one alone", () => {
    for (const p of PAYLOADS) {
      const old = toBinary(EventSchema, withSeq(42n, p));
      expect(toSeqless(old)).toEqual(stored(p));
      expect(toSeqless(stored(p))).toBeUndefined();
    }
  });

  test("a stored event cannot carry a seq", () => {
    expect(() => encodeStored(create(EventSchema, { seq: 5n, payload: PAYLOADS[2] }))).toThrow(/no seq/);
    expect(() =>
      encodeStored(create(EventSchema, { payload: { case: "messageCreated", value: { message: { ...message, seq: 5n } } } })),
    ).toThrow(/no seq/);
    expect(encodeStored(create(EventSchema, { payload: PAYLOADS[2] })).type).toBe("channelDeleted");
  });
});
