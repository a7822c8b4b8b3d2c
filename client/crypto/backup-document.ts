// The key backup's plaintext (ENCRYPTION.md §10.6): one canonical JSON text with the identity
// seed and every channel and directory key, so a new device can restore them alone.
import { decodeBase64, encodeBase64, utf8Decode, utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { IDENTITY_KEY_BYTES } from "./identity.js";
import { KEY_BYTES } from "./primitives.js";

export const BACKUP_DOCUMENT_VERSION = 1;

export interface BackupDocument {
  readonly userId: string;
  /** The 32-byte Ed25519 identity seed. */
  readonly identity: Uint8Array;
  /** channel id → epoch → 32-byte key. */
  readonly channelKeys: ReadonlyMap<string, ReadonlyMap<number, Uint8Array>>;
  /** epoch → 32-byte key. */
  readonly directoryKeys: ReadonlyMap<number, Uint8Array>;
}

const EPOCH_TEXT = /^[1-9][0-9]{0,9}$/;
const MAX_EPOCH = 0xffffffff;

// A lone surrogate would be written as U+FFFD, so the text would not decode to what was encoded.
const LONE_SURROGATE = /\p{Cs}/u;

function fail(fn: string, message: string): never {
  throw new CryptoError("invalid-input", `${fn}: ${message}`);
}

function requireId(fn: string, field: string, id: unknown): asserts id is string {
  if (typeof id !== "string" || id.length === 0 || LONE_SURROGATE.test(id)) fail(fn, `${field} must be a non-empty string`);
}

function keyText(fn: string, field: string, key: Uint8Array, length: number): string {
  if (!(key instanceof Uint8Array) || key.length !== length) fail(fn, `${field} must be ${length} bytes`);
  return JSON.stringify(encodeBase64(key));
}

function epochMapText(fn: string, field: string, keys: ReadonlyMap<number, Uint8Array>): string {
  const epochs = [...keys.keys()].sort((a, b) => a - b);
  const entries = epochs.map((epoch) => {
    if (!Number.isInteger(epoch) || epoch < 1 || epoch > MAX_EPOCH) fail(fn, `${field} has epoch ${epoch}, not in 1..${MAX_EPOCH}`);
    return `"${epoch}":${keyText(fn, `${field}[${epoch}]`, keys.get(epoch)!, KEY_BYTES)}`;
  });
  return `{${entries.join(",")}}`;
}

/**
 * Canonical JSON: no white space, keys in the documented order, channel ids by UTF-16 code
 * unit (JavaScript's default string order), epochs numerically. Written by hand because
 * JSON.stringify puts integer-like keys first, whatever the insertion order.
 */
export function encodeBackupDocument(doc: BackupDocument): Uint8Array {
  const fn = "encodeBackupDocument";
  requireId(fn, "userId", doc.userId);
  const identity = keyText(fn, "identity", doc.identity, IDENTITY_KEY_BYTES);
  const channels = [...doc.channelKeys.keys()].sort().map((channelId) => {
    requireId(fn, "channelKeys channel id", channelId);
    return `${JSON.stringify(channelId)}:${epochMapText(fn, `channelKeys[${channelId}]`, doc.channelKeys.get(channelId)!)}`;
  });
  const directory = epochMapText(fn, "directoryKeys", doc.directoryKeys);
  return utf8Encode(
    `{"version":${BACKUP_DOCUMENT_VERSION},"userId":${JSON.stringify(doc.userId)},"identity":${identity},` +
      `"channelKeys":{${channels.join(",")}},"directoryKeys":${directory}}`,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function decodeKey(fn: string, field: string, value: unknown, length: number): Uint8Array {
  if (typeof value !== "string") fail(fn, `${field} must be a base64 string`);
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(value);
  } catch {
    fail(fn, `${field} is not canonical base64`);
  }
  if (bytes.length !== length) fail(fn, `${field} must be ${length} bytes`);
  return bytes;
}

function decodeEpochMap(fn: string, field: string, value: unknown): Map<number, Uint8Array> {
  if (!isObject(value)) fail(fn, `${field} must be an object`);
  const out = new Map<number, Uint8Array>();
  for (const [text, key] of Object.entries(value)) {
    const epoch = Number(text);
    if (!EPOCH_TEXT.test(text) || epoch > MAX_EPOCH)
      fail(fn, `${field} has epoch ${JSON.stringify(text)}, not a decimal in 1..${MAX_EPOCH}`);
    out.set(epoch, decodeKey(fn, `${field}[${text}]`, key, KEY_BYTES));
  }
  return out;
}

const FIELDS = ["version", "userId", "identity", "channelKeys", "directoryKeys"];

/** Strict: every field checked, unknown ones refused; the message names the field at fault. */
export function decodeBackupDocument(bytes: Uint8Array, expectedUserId: string): BackupDocument {
  const fn = "decodeBackupDocument";
  let doc: unknown;
  try {
    doc = JSON.parse(utf8Decode(bytes));
  } catch {
    throw new CryptoError("malformed", `${fn}: not a JSON document`);
  }
  if (!isObject(doc)) throw new CryptoError("malformed", `${fn}: not a JSON object`);
  const version = doc["version"];
  if (version !== BACKUP_DOCUMENT_VERSION) {
    if (typeof version !== "number") fail(fn, "version must be a number");
    // Only a larger version is a newer client's; 0, -1 or 1.5 are no version at all.
    if (!Number.isInteger(version) || version < BACKUP_DOCUMENT_VERSION)
      fail(fn, `version must be an integer of at least 1, not ${version}`);
    throw new CryptoError("unsupported-version", `${fn}: version ${version} is not supported (written by a newer client?)`);
  }
  for (const key of Object.keys(doc)) if (!FIELDS.includes(key)) fail(fn, `unknown field ${JSON.stringify(key)}`);
  requireId(fn, "userId", doc["userId"]);
  // The AAD already binds the account; this catches a caller that opened the wrong document.
  if (doc["userId"] !== expectedUserId) fail(fn, "userId is another account's");
  const identity = decodeKey(fn, "identity", doc["identity"], IDENTITY_KEY_BYTES);
  const channels = doc["channelKeys"];
  if (!isObject(channels)) fail(fn, "channelKeys must be an object");
  const channelKeys = new Map<string, Map<number, Uint8Array>>();
  for (const [channelId, keys] of Object.entries(channels)) {
    requireId(fn, "channelKeys channel id", channelId);
    channelKeys.set(channelId, decodeEpochMap(fn, `channelKeys[${channelId}]`, keys));
  }
  const directoryKeys = decodeEpochMap(fn, "directoryKeys", doc["directoryKeys"]);
  return { userId: doc["userId"], identity, channelKeys, directoryKeys };
}
