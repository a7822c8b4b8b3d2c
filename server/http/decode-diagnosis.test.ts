import { create, toBinary } from "@bufbuild/protobuf";
import { expect, test } from "@jest/globals";
import { PutEnvelopesRequestSchema } from "../../gen/dialtone/v1/envelope_service_pb.js";
import { SendMessageRequestSchema } from "../../gen/dialtone/v1/message_service_pb.js";
import { diagnoseDecode } from "./decode-diagnosis.js";

const field = (no: number, bytes: Uint8Array) => Buffer.concat([Buffer.from([(no << 3) | 2, bytes.length]), bytes]);
const notUtf8 = Buffer.from([0x41, 0xff, 0x42]);

test("a message that decodes has nothing to diagnose", () => {
  const ok = toBinary(SendMessageRequestSchema, create(SendMessageRequestSchema, { messageId: "m", keyEpoch: 3 }));
  expect(diagnoseDecode(SendMessageRequestSchema, ok)).toBeUndefined();
});

test("the field at fault is named: top level, cut short, malformed tag", () => {
  expect(diagnoseDecode(SendMessageRequestSchema, field(4, notUtf8))).toBe("encrypted_sender_name: not valid UTF-8");
  const cut = Buffer.concat([field(1, Buffer.from("id")), Buffer.from([(2 << 3) | 2, 30, 0x41])]);
  expect(diagnoseDecode(SendMessageRequestSchema, cut)).toBe("channel_id: cut short (the message ends inside this field)");
  // A varint tag that never ends.
  const badTag = Buffer.concat([field(1, Buffer.from("id")), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
  expect(diagnoseDecode(SendMessageRequestSchema, badTag)).toMatch(/^request: a malformed field tag/);
});

test("nested and repeated fields get a path with the element's index", () => {
  const good = field(1, field(2, Buffer.from("scope")));
  const bad = field(1, Buffer.concat([field(2, Buffer.from("scope")), field(5, notUtf8)]));
  expect(diagnoseDecode(PutEnvelopesRequestSchema, Buffer.concat([good, good, bad]))).toBe("envelopes[2].ciphertext: not valid UTF-8");
});
