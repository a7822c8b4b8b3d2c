// Sealed fields (DESIGN §5): base64(0x01 || epoch_u32_be || nonce[12] || ciphertext_and_tag).
import { joinAad, requireEpoch } from "./aad.js";
import { concatBytes, decodeBase64, encodeBase64, utf8Decode, utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { NONCE_BYTES, TAG_BYTES, aesGcmDecrypt, aesGcmEncrypt, randomBytes, type Rng } from "./primitives.js";

export const SEALED_VERSION = 0x01;
/** version (1) + epoch (4) + nonce (12). */
export const SEALED_HEADER_BYTES = 1 + 4 + NONCE_BYTES;

/**
 * What a sealed field is, and the ids it is bound to through the AAD. Moving a ciphertext to
 * another purpose, channel, message, sender, user or device pair makes it fail to open.
 */
export type SealContext =
  | { readonly purpose: "msg-body"; readonly channelId: string; readonly messageId: string; readonly senderUserId: string }
  | { readonly purpose: "msg-content"; readonly channelId: string; readonly messageId: string; readonly senderUserId: string }
  | { readonly purpose: "msg-sender"; readonly channelId: string; readonly messageId: string; readonly senderUserId: string }
  | { readonly purpose: "channel-name"; readonly channelId: string }
  | { readonly purpose: "profile-name"; readonly userId: string }
  | { readonly purpose: "typing"; readonly channelId: string; readonly senderUserId: string; readonly senderDeviceId: string }
  | {
      readonly purpose: "voice-signal";
      readonly channelId: string;
      readonly senderDeviceId: string;
      readonly recipientDeviceId: string;
    };

export type SealPurpose = SealContext["purpose"];

/** A symmetric key together with its epoch (channel key or directory key). */
export interface EpochKey {
  readonly epoch: number;
  readonly key: Uint8Array;
}

export interface SealOptions {
  /** Tests only: the source of the nonce. */
  readonly rng?: Rng;
}

function contextFields(context: SealContext): string[] {
  switch (context.purpose) {
    case "msg-body":
    case "msg-content":
    case "msg-sender":
      return [context.channelId, context.messageId, context.senderUserId];
    case "channel-name":
      return [context.channelId];
    case "profile-name":
      return [context.userId];
    case "voice-signal":
      return [context.channelId, context.senderDeviceId, context.recipientDeviceId];
    case "typing":
      return [context.channelId, context.senderUserId, context.senderDeviceId];
  }
}

const PURPOSES: ReadonlySet<string> = new Set<SealPurpose>([
  "msg-body",
  "msg-content",
  "msg-sender",
  "channel-name",
  "profile-name",
  "voice-signal",
  "typing",
]);

/** The AAD bytes: UTF-8 of `dialtone/v1/{purpose}|{field}|...`. */
export function sealedAad(context: SealContext): Uint8Array {
  if (!PURPOSES.has(context.purpose)) {
    throw new CryptoError("invalid-input", "sealedAad: unknown purpose");
  }
  return joinAad("sealedAad", context.purpose, contextFields(context));
}

interface ParsedSealed {
  readonly epoch: number;
  readonly nonce: Uint8Array;
  readonly ciphertextAndTag: Uint8Array;
}

function parseSealed(fn: string, sealed: string): ParsedSealed {
  let raw: Uint8Array;
  try {
    raw = decodeBase64(sealed);
  } catch {
    throw new CryptoError("malformed", `${fn}: sealed field is not canonical base64`);
  }
  if (raw.length < SEALED_HEADER_BYTES + TAG_BYTES) {
    throw new CryptoError("malformed", `${fn}: sealed field too short`);
  }
  if (raw[0] !== SEALED_VERSION) {
    throw new CryptoError("unsupported-version", `${fn}: unsupported sealed field version ${raw[0]}`);
  }
  const epoch = new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(1, false);
  return {
    epoch,
    nonce: raw.subarray(5, SEALED_HEADER_BYTES),
    ciphertextAndTag: raw.subarray(SEALED_HEADER_BYTES),
  };
}

/** The epoch named in a sealed field's header, to pick the key before opening it. */
export function sealedFieldEpoch(sealed: string): number {
  return parseSealed("sealedFieldEpoch", sealed).epoch;
}

export async function sealField(key: EpochKey, context: SealContext, plaintext: Uint8Array, options: SealOptions = {}): Promise<string> {
  requireEpoch("sealField", key.epoch);
  const aad = sealedAad(context);
  const nonce = randomBytes(NONCE_BYTES, options.rng);
  const header = new Uint8Array(SEALED_HEADER_BYTES);
  header[0] = SEALED_VERSION;
  new DataView(header.buffer).setUint32(1, key.epoch, false);
  header.set(nonce, 5);
  const ciphertextAndTag = await aesGcmEncrypt(key.key, nonce, plaintext, aad);
  return encodeBase64(concatBytes(header, ciphertextAndTag));
}

/**
 * Opens a sealed field. The header's epoch must equal `key.epoch`: the header is not in the
 * AAD, so this check is what binds it (each epoch has its own key).
 */
export async function openField(key: EpochKey, context: SealContext, sealed: string): Promise<Uint8Array> {
  requireEpoch("openField", key.epoch);
  const aad = sealedAad(context);
  const parsed = parseSealed("openField", sealed);
  if (parsed.epoch !== key.epoch) {
    throw new CryptoError("epoch-mismatch", `openField: sealed field is for epoch ${parsed.epoch}, key is for epoch ${key.epoch}`);
  }
  try {
    return await aesGcmDecrypt(key.key, parsed.nonce, parsed.ciphertextAndTag, aad);
  } catch (err) {
    if (err instanceof CryptoError && err.code === "decrypt-failed") {
      throw new CryptoError("decrypt-failed", "openField: wrong key, wrong context or tampered field");
    }
    throw err;
  }
}

/** sealField over the UTF-8 of `text`. */
export async function sealText(key: EpochKey, context: SealContext, text: string, options: SealOptions = {}): Promise<string> {
  return sealField(key, context, utf8Encode(text), options);
}

/** openField, then strict UTF-8 decoding. */
export async function openText(key: EpochKey, context: SealContext, sealed: string): Promise<string> {
  return utf8Decode(await openField(key, context, sealed));
}
