// The local search cache's sealed segments (ENCRYPTION.md §13): each segment file is
// "DTSC" || 0x01 || key_id[8] || nonce[12] || AES-256-GCM(cache key, records JSON) || tag[16].
// The AAD binds the server origin, the account and the segment's file name, so a segment cannot
// be moved to another account's cache or renamed to change the order records apply in. The
// key id tells a segment written under an older cache key (a keystore that lost its cache key)
// from a tampered one, which fails the tag.
import { createCipheriv, createDecipheriv } from "node:crypto";
import { joinAad, requireContextField } from "./aad.js";
import { concatBytes, constantTimeEqual, utf8Decode, utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, hmacSha256, randomBytes, type Rng } from "./primitives.js";

export const SEARCH_SEGMENT_MAGIC = Uint8Array.of(0x44, 0x54, 0x53, 0x43); // "DTSC"
export const SEARCH_SEGMENT_VERSION = 0x01;
export const SEARCH_KEY_ID_BYTES = 8;
/** magic (4) + version (1) + key id (8) + nonce (12). */
export const SEARCH_SEGMENT_HEADER_BYTES = 4 + 1 + SEARCH_KEY_ID_BYTES + NONCE_BYTES;
export const SEARCH_RECORDS_VERSION = 1;
const KEY_ID_LABEL = "dialtone/v1/search-cache-key-id";

/** What a segment is bound to: one account on one server, and the segment's own file name. */
export interface SearchSegmentContext {
  readonly serverOrigin: string;
  readonly userId: string;
  readonly segmentName: string;
}

/** One opened message as the cache keeps it: ids, order, time (server's, ms) and text. */
export interface CachedMessage {
  readonly channelId: string;
  readonly messageId: string;
  readonly seq: bigint;
  readonly senderUserId: string;
  /** server time, milliseconds since the epoch */
  readonly time: number;
  readonly text: string;
}

/** A segment holds puts (insert or replace by message id) and removals, applied in order. */
export type SearchRecord = { readonly op: "put"; readonly message: CachedMessage } | { readonly op: "remove"; readonly messageId: string };

function requireKey(fn: string, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) throw new CryptoError("invalid-input", `${fn}: cache key must be 32 bytes`);
}

/** The first 8 bytes of HMAC-SHA256(cache key, "dialtone/v1/search-cache-key-id"). */
export async function searchCacheKeyId(key: Uint8Array): Promise<Uint8Array> {
  requireKey("searchCacheKeyId", key);
  return (await hmacSha256(key, utf8Encode(KEY_ID_LABEL))).subarray(0, SEARCH_KEY_ID_BYTES);
}

/** `dialtone/v1/search-cache|{server_origin}|{user_id}|{segment_name}`. */
export function searchCacheAad(context: SearchSegmentContext): Uint8Array {
  const fn = "searchCacheAad";
  requireContextField(fn, "server origin", context.serverOrigin);
  requireContextField(fn, "user id", context.userId);
  requireContextField(fn, "segment name", context.segmentName);
  return joinAad(fn, "search-cache", [context.serverOrigin, context.userId, context.segmentName]);
}

// --- records: the plaintext --------------------------------------------------------------------

/** The plaintext: UTF-8 of `{"version":1,"records":[…]}`, no white space, keys in the order below. */
export function encodeSearchRecords(records: readonly SearchRecord[]): Uint8Array {
  const out = records.map((r) =>
    r.op === "remove"
      ? { op: "remove", messageId: r.messageId }
      : {
          op: "put",
          channelId: r.message.channelId,
          messageId: r.message.messageId,
          seq: r.message.seq.toString(),
          senderUserId: r.message.senderUserId,
          time: r.message.time,
          text: r.message.text,
        },
  );
  return utf8Encode(JSON.stringify({ version: SEARCH_RECORDS_VERSION, records: out }));
}

class Malformed extends Error {}

function str(value: unknown, field: string, index: number, allowEmpty = false): string {
  if (typeof value !== "string" || (!allowEmpty && value.length === 0))
    throw new Malformed(`records[${index}].${field} is not a non-empty string`);
  return value;
}

/** Parses a segment's plaintext; an error names the record and field (never a value). */
export function decodeSearchRecords(plaintext: Uint8Array): SearchRecord[] {
  try {
    const doc: unknown = JSON.parse(utf8Decode(plaintext));
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new Malformed("the document is not an object");
    const { version, records } = doc as { version?: unknown; records?: unknown };
    if (typeof version === "number" && version > SEARCH_RECORDS_VERSION) {
      throw new CryptoError("unsupported-version", `decodeSearchRecords: records version ${version} is newer than this dialtone`);
    }
    if (version !== SEARCH_RECORDS_VERSION) throw new Malformed("version is not 1");
    if (!Array.isArray(records)) throw new Malformed("records is not an array");
    return records.map((value: unknown, i): SearchRecord => {
      if (typeof value !== "object" || value === null) throw new Malformed(`records[${i}] is not an object`);
      const r = value as Record<string, unknown>;
      if (r["op"] === "remove") return { op: "remove", messageId: str(r["messageId"], "messageId", i) };
      if (r["op"] !== "put") throw new Malformed(`records[${i}].op is not "put" or "remove"`);
      const seq = str(r["seq"], "seq", i);
      if (!/^(0|[1-9]\d*)$/.test(seq)) throw new Malformed(`records[${i}].seq is not a decimal`);
      const time = r["time"];
      if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0)
        throw new Malformed(`records[${i}].time is not a whole number of ms`);
      return {
        op: "put",
        message: {
          channelId: str(r["channelId"], "channelId", i),
          messageId: str(r["messageId"], "messageId", i),
          seq: BigInt(seq),
          senderUserId: str(r["senderUserId"], "senderUserId", i),
          time,
          text: str(r["text"], "text", i, true),
        },
      };
    });
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    const reason = err instanceof Malformed ? err.message : "not UTF-8 JSON";
    throw new CryptoError("malformed", `decodeSearchRecords: ${reason}`);
  }
}

// --- segments ---------------------------------------------------------------------------------

// AES-256-GCM through node:crypto directly: a segment can be tens of MB, where the WebCrypto
// shim of primitives.ts runs several times slower. Same algorithm, same bytes (the vectors check).
function gcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  return concatBytes(cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
}

function gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    decipher.final(); // verifies the tag; GCM returns no further bytes
    return plaintext;
  } catch {
    throw new CryptoError("decrypt-failed", "gcmOpen: authentication failed");
  }
}

export async function sealSearchSegment(
  key: Uint8Array,
  context: SearchSegmentContext,
  records: readonly SearchRecord[],
  options: { readonly rng?: Rng } = {},
): Promise<Uint8Array> {
  requireKey("sealSearchSegment", key);
  const aad = searchCacheAad(context);
  const nonce = randomBytes(NONCE_BYTES, options.rng);
  const sealed = gcmSeal(key, nonce, encodeSearchRecords(records), aad);
  return concatBytes(SEARCH_SEGMENT_MAGIC, Uint8Array.of(SEARCH_SEGMENT_VERSION), await searchCacheKeyId(key), nonce, sealed);
}

/** The key id in a segment's header (checked for shape, not authenticated). */
export function searchSegmentKeyId(segment: Uint8Array): Uint8Array {
  if (!(segment instanceof Uint8Array) || segment.length < SEARCH_SEGMENT_HEADER_BYTES + TAG_BYTES) {
    throw new CryptoError("malformed", `searchSegmentKeyId: a segment has at least ${SEARCH_SEGMENT_HEADER_BYTES + TAG_BYTES} bytes`);
  }
  if (!constantTimeEqual(segment.subarray(0, 4), SEARCH_SEGMENT_MAGIC))
    throw new CryptoError("malformed", "searchSegmentKeyId: not a search cache segment");
  if (segment[4] !== SEARCH_SEGMENT_VERSION) {
    throw new CryptoError("unsupported-version", `searchSegmentKeyId: unsupported segment version ${segment[4]}`);
  }
  return segment.subarray(5, 5 + SEARCH_KEY_ID_BYTES);
}

/**
 * Opens a segment: `key-mismatch` when its header names another cache key, `decrypt-failed`
 * when the tag does not verify (changed on disk, another account or server, renamed).
 */
export async function openSearchSegment(key: Uint8Array, context: SearchSegmentContext, segment: Uint8Array): Promise<SearchRecord[]> {
  requireKey("openSearchSegment", key);
  const aad = searchCacheAad(context);
  const keyId = searchSegmentKeyId(segment);
  if (!constantTimeEqual(keyId, await searchCacheKeyId(key))) {
    throw new CryptoError("key-mismatch", "openSearchSegment: the segment was written under another cache key");
  }
  const nonceAt = 5 + SEARCH_KEY_ID_BYTES;
  let plaintext: Uint8Array;
  try {
    plaintext = gcmOpen(key, segment.subarray(nonceAt, nonceAt + NONCE_BYTES), segment.subarray(SEARCH_SEGMENT_HEADER_BYTES), aad);
  } catch (err) {
    if (err instanceof CryptoError && err.code === "decrypt-failed") {
      throw new CryptoError(
        "decrypt-failed",
        "openSearchSegment: the segment does not open: changed on disk, or not this account's or this name's",
      );
    }
    throw err;
  }
  return decodeSearchRecords(plaintext);
}
