// Envelopes (DESIGN §5, §11): a 32-byte channel, directory, identity or backup key encrypted
// for one device, base64(0x01 || salt[32] || nonce[12] || ciphertext_and_tag).
import { joinAad, requireEpoch } from "./aad.js";
import { concatBytes, decodeBase64, encodeBase64, utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import {
  KEY_BYTES,
  NONCE_BYTES,
  TAG_BYTES,
  aesGcmDecrypt,
  aesGcmEncrypt,
  hkdfSha256,
  randomBytes,
  x25519,
  type Rng,
} from "./primitives.js";

export const ENVELOPE_VERSION = 0x01;
export const ENVELOPE_SALT_BYTES = 32;
export const ENVELOPE_HKDF_INFO = "dialtone/v1/envelope";
/** version + salt + nonce + 32-byte key + tag: every valid envelope has exactly this size. */
export const ENVELOPE_BYTES = 1 + ENVELOPE_SALT_BYTES + NONCE_BYTES + KEY_BYTES + TAG_BYTES;

/**
 * Which key the envelope carries: a channel's (scope = channel id), the directory key, or an
 * account's identity seed or key-backup key (scope = user id, epoch always 1), handed from an
 * approved device of that account to a newly approved one.
 */
export type EnvelopeScope =
  | { readonly kind: "channel"; readonly channelId: string }
  | { readonly kind: "directory" }
  | { readonly kind: "identity"; readonly userId: string }
  | { readonly kind: "backup"; readonly userId: string };

export type EnvelopeKind = EnvelopeScope["kind"];

/** Everything the envelope is bound to through its AAD. */
export type EnvelopeContext = EnvelopeScope & {
  readonly epoch: number;
  readonly senderDeviceId: string;
  readonly recipientDeviceId: string;
};

export interface SealEnvelopeParams {
  readonly senderPrivateKey: Uint8Array;
  readonly recipientPublicKey: Uint8Array;
  readonly context: EnvelopeContext;
  /** The 32-byte key being shared (for `identity`, the Ed25519 seed). */
  readonly key: Uint8Array;
}

export interface OpenEnvelopeParams {
  readonly recipientPrivateKey: Uint8Array;
  /** The sender device's key as the server's device table (or our pin) says, never the uploader's word. */
  readonly senderPublicKey: Uint8Array;
  readonly context: EnvelopeContext;
  readonly envelope: string;
}

export interface EnvelopeOptions {
  /** Tests only: the source of the salt (first call, 32 bytes) and the nonce (second call, 12). */
  readonly rng?: Rng;
}

/** `dialtone/v1/envelope|{kind}|{scope_id}|{epoch}|{sender_device_id}|{recipient_device_id}`. */
export function envelopeAad(context: EnvelopeContext): Uint8Array {
  requireEpoch("envelopeAad", context.epoch);
  let scopeId: string;
  if (context.kind === "channel") scopeId = context.channelId;
  else if (context.kind === "directory") scopeId = "directory";
  else if (context.kind === "identity" || context.kind === "backup") {
    // One identity and one backup key per account: no epochs to tell apart.
    if (context.epoch !== 1) throw new CryptoError("invalid-input", `envelopeAad: ${context.kind} envelopes have epoch 1`);
    scopeId = context.userId;
  } else throw new CryptoError("invalid-input", "envelopeAad: unknown kind");
  return joinAad("envelopeAad", "envelope", [
    context.kind,
    scopeId,
    String(context.epoch),
    context.senderDeviceId,
    context.recipientDeviceId,
  ]);
}

async function deriveKek(fn: string, privateKey: Uint8Array, publicKey: Uint8Array, salt: Uint8Array): Promise<Uint8Array> {
  let shared: Uint8Array;
  try {
    shared = await x25519(privateKey, publicKey);
  } catch (err) {
    if (err instanceof CryptoError) throw new CryptoError(err.code, `${fn}: ${err.message}`);
    throw err;
  }
  return hkdfSha256(shared, salt, utf8Encode(ENVELOPE_HKDF_INFO), KEY_BYTES);
}

export async function sealEnvelope(params: SealEnvelopeParams, options: EnvelopeOptions = {}): Promise<string> {
  if (!(params.key instanceof Uint8Array) || params.key.length !== KEY_BYTES) {
    throw new CryptoError("invalid-input", "sealEnvelope: key must be 32 bytes");
  }
  const aad = envelopeAad(params.context);
  const salt = randomBytes(ENVELOPE_SALT_BYTES, options.rng);
  const nonce = randomBytes(NONCE_BYTES, options.rng);
  const kek = await deriveKek("sealEnvelope", params.senderPrivateKey, params.recipientPublicKey, salt);
  const ciphertextAndTag = await aesGcmEncrypt(kek, nonce, params.key, aad);
  return encodeBase64(concatBytes(Uint8Array.of(ENVELOPE_VERSION), salt, nonce, ciphertextAndTag));
}

/** Opens an envelope with our private key and the sender's public key; returns the 32-byte key. */
export async function openEnvelope(params: OpenEnvelopeParams): Promise<Uint8Array> {
  const aad = envelopeAad(params.context);
  let raw: Uint8Array;
  try {
    raw = decodeBase64(params.envelope);
  } catch {
    throw new CryptoError("malformed", "openEnvelope: envelope is not canonical base64");
  }
  // The plaintext is always one 32-byte key, so any other length is not an envelope.
  if (raw.length !== ENVELOPE_BYTES) {
    throw new CryptoError("malformed", `openEnvelope: envelope must be ${ENVELOPE_BYTES} bytes`);
  }
  if (raw[0] !== ENVELOPE_VERSION) {
    throw new CryptoError("unsupported-version", `openEnvelope: unsupported envelope version ${raw[0]}`);
  }
  const salt = raw.subarray(1, 1 + ENVELOPE_SALT_BYTES);
  const nonce = raw.subarray(1 + ENVELOPE_SALT_BYTES, 1 + ENVELOPE_SALT_BYTES + NONCE_BYTES);
  const ciphertextAndTag = raw.subarray(1 + ENVELOPE_SALT_BYTES + NONCE_BYTES);
  const kek = await deriveKek("openEnvelope", params.recipientPrivateKey, params.senderPublicKey, salt);
  try {
    return await aesGcmDecrypt(kek, nonce, ciphertextAndTag, aad);
  } catch (err) {
    if (err instanceof CryptoError && err.code === "decrypt-failed") {
      throw new CryptoError("decrypt-failed", "openEnvelope: wrong keys, wrong context or tampered envelope");
    }
    throw err;
  }
}
