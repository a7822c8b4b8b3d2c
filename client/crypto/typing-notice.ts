// A typing notice (ENCRYPTION.md §12): a TypingNotice protobuf sealed with the channel key,
// purpose typing, bound to the channel, the sender's account and device. The server relays it
// and cannot forge one; a reader drops a notice whose own clock is stale (a replay).
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type TypingNotice, TypingNoticeSchema } from "../../gen/dialtone/v1/message_content_pb.js";
import { CryptoError } from "./errors.js";
import { openField, type EpochKey, type SealOptions, sealField } from "./sealed.js";

export interface TypingIds {
  readonly channelId: string;
  readonly senderUserId: string;
  readonly senderDeviceId: string;
}

export interface TypingState {
  readonly typing: boolean;
  /** The sender's clock. */
  readonly sentAt: Date;
}

export function encodeTyping(state: TypingState): Uint8Array {
  return toBinary(TypingNoticeSchema, create(TypingNoticeSchema, { typing: state.typing, sentAt: timestampFromDate(state.sentAt) }));
}

export async function sealTyping(key: EpochKey, ids: TypingIds, state: TypingState, options: SealOptions = {}): Promise<string> {
  return sealField(key, { purpose: "typing", ...ids }, encodeTyping(state), options);
}

/** Opens a notice; throws CryptoError when it does not open or is not a TypingNotice with a time. */
export async function openTyping(key: EpochKey, ids: TypingIds, sealed: string): Promise<TypingState> {
  const bytes = await openField(key, { purpose: "typing", ...ids }, sealed);
  let notice: TypingNotice;
  try {
    notice = fromBinary(TypingNoticeSchema, bytes);
  } catch {
    throw new CryptoError("malformed", "openTyping: not a TypingNotice");
  }
  if (!notice.sentAt) throw new CryptoError("malformed", "openTyping: no sent_at");
  return { typing: notice.typing, sentAt: timestampDate(notice.sentAt) };
}
