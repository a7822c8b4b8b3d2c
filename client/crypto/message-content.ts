// The plaintext of a message body (ENCRYPTION.md §11): a MessageContent protobuf, padded to a
// multiple of 256 bytes, sealed with purpose msg-content. Bodies of older clients are UTF-8 text
// sealed with purpose msg-body; they still open, as content with only the text.
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { type MessageContent, MessageContentSchema } from "../../gen/dialtone/v1/message_content_pb.js";
import { concatBytes, utf8Decode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { openField, type EpochKey, type SealOptions, sealField } from "./sealed.js";

/** Encoded content is padded to a multiple of this many bytes. */
export const CONTENT_BUCKET_BYTES = 256;
/** The tag of field 15 (padding), wire type 2 (length-delimited). */
const PADDING_TAG = (15 << 3) | 2;

export type ContentInit = MessageInitShape<typeof MessageContentSchema>;

export interface BodyIds {
  readonly channelId: string;
  readonly messageId: string;
  readonly senderUserId: string;
}

/**
 * The content's bytes: the protobuf encoding without padding (fields in number order), then a
 * padding field of zeros that brings the total to the smallest multiple of 256 bytes leaving a
 * gap of at least 3 bytes (tag, length, one zero) and not of exactly 130 (which neither a one- nor
 * a two-byte length fills). A reaction, an edit and a short message all take 256 bytes.
 */
export function encodeContent(content: ContentInit): Uint8Array {
  const bare = toBinary(MessageContentSchema, create(MessageContentSchema, { ...content, padding: new Uint8Array() }));
  let total = CONTENT_BUCKET_BYTES;
  while (total - bare.length < 3 || total - bare.length === 130) total += CONTENT_BUCKET_BYTES;
  const gap = total - bare.length;
  const zeros = gap - 2 <= 127 ? gap - 2 : gap - 3;
  const length = zeros <= 127 ? Uint8Array.of(zeros) : Uint8Array.of((zeros & 0x7f) | 0x80, zeros >> 7);
  return concatBytes(bare, Uint8Array.of(PADDING_TAG), length, new Uint8Array(zeros));
}

/** The content of decoded bytes; the padding is dropped. */
export function decodeContent(bytes: Uint8Array): MessageContent {
  try {
    const content = fromBinary(MessageContentSchema, bytes, { readUnknownFields: false });
    content.padding = new Uint8Array();
    return content;
  } catch {
    throw new CryptoError("malformed", "decodeContent: not a MessageContent");
  }
}

export async function sealContent(key: EpochKey, ids: BodyIds, content: ContentInit, options: SealOptions = {}): Promise<string> {
  return sealField(key, { purpose: "msg-content", ...ids }, encodeContent(content), options);
}

/**
 * Opens a message body: content (msg-content), or an older client's text (msg-body) as content
 * with that text and nothing else. Throws CryptoError when it is neither.
 */
export async function openContent(key: EpochKey, ids: BodyIds, sealed: string): Promise<{ content: MessageContent; legacy: boolean }> {
  let plaintext: Uint8Array;
  try {
    plaintext = await openField(key, { purpose: "msg-content", ...ids }, sealed);
  } catch (err) {
    if (!(err instanceof CryptoError) || err.code !== "decrypt-failed") throw err;
    const text = utf8Decode(await openField(key, { purpose: "msg-body", ...ids }, sealed));
    return { content: create(MessageContentSchema, { text }), legacy: true };
  }
  return { content: decodeContent(plaintext), legacy: false };
}
