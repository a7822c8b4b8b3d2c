// Input rules shared by every RPC. Each failure names the field; nothing is truncated.
import { invalid } from "./errors.js";

export const LIMITS = {
  bodyBytes: 64 * 1024,
  nameBytes: 1024,
  envelopesPerCall: 1000,
  historyPage: 200,
  historyDefault: 50,
  idsPerCall: 1000,
  signalBytes: 64 * 1024,
  envelopeBytes: 1024,
  statementsPerCall: 1000,
  // 1 MiB less 1 KiB of base64 text: the whole PutKeyBackup request (the version, field tags,
  // JSON punctuation) must fit the server's 1 MiB request limit (server/app.ts).
  backupChars: 1024 * 1024 - 1024,
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A UUID in canonical lower-case form. */
export function uuid(field: string, value: string): string {
  if (!value) throw invalid(field, "required");
  if (!UUID.test(value)) throw invalid(field, "must be a UUID");
  return value.toLowerCase();
}

export function uuids(field: string, values: string[]): string[] {
  if (values.length > LIMITS.idsPerCall) throw invalid(field, `at most ${LIMITS.idsPerCall} ids`);
  return values.map((v, i) => uuid(`${field}[${i}]`, v));
}

function base64Bytes(field: string, value: string, maxChars: number): Buffer {
  if (!value) throw invalid(field, "required");
  if (value.length > maxChars) throw invalid(field, `longer than ${maxChars} bytes`);
  if (!BASE64.test(value)) throw invalid(field, "must be standard base64 with padding");
  const raw = Buffer.from(value, "base64");
  // Canonical only (docs/ENCRYPTION.md): the unused low bits of the last character are zero.
  // Node decodes "QR==" as "QQ==" does; a strict client refuses it, so the server must too.
  if (!canonicalTail(value)) throw invalid(field, "must be canonical base64 (unused bits of the last character set)");
  return raw;
}

const B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Whether the padding bits are zero: 4 of them before "==", 2 before "=". */
function canonicalTail(value: string): boolean {
  const pad = value.endsWith("==") ? 2 : value.endsWith("=") ? 1 : 0;
  if (pad === 0) return true;
  const last = B64_ALPHABET.indexOf(value[value.length - pad - 1]!);
  return (last & (pad === 2 ? 0x0f : 0x03)) === 0;
}

// 0x01 || epoch_u32 || nonce[12] || ciphertext || tag[16] (docs/ENCRYPTION.md)
const SEALED_MIN = 1 + 4 + 12 + 16;

/**
 * A sealed field: checks the envelope of the format only; the content stays opaque. The header's
 * epoch is at least 1 and, when the request names the key's epoch (`keyEpoch`), equal to it: a
 * conforming client opens by the header, so a mismatch would show other clients another key.
 */
export function sealed(field: string, value: string, maxChars: number, keyEpoch?: number): string {
  const raw = base64Bytes(field, value, maxChars);
  if (raw.length < SEALED_MIN || raw[0] !== 0x01) throw invalid(field, "not a sealed value (version 1)");
  const headerEpoch = raw.readUInt32BE(1);
  if (headerEpoch < 1) throw invalid(field, "sealed with epoch 0 (epochs start at 1)");
  if (keyEpoch !== undefined && headerEpoch !== keyEpoch)
    throw invalid(field, `sealed with epoch ${headerEpoch}, but key_epoch is ${keyEpoch}`);
  return value;
}

// 0x01 || salt[32] || nonce[12] || key[32] || tag[16]
const ENVELOPE_LEN = 1 + 32 + 12 + 32 + 16;

export function envelopeCiphertext(field: string, value: string): string {
  const raw = base64Bytes(field, value, LIMITS.envelopeBytes);
  if (raw.length !== ENVELOPE_LEN || raw[0] !== 0x01) throw invalid(field, "not a version 1 key envelope");
  return value;
}

export function publicKey(field: string, value: string): string {
  const raw = base64Bytes(field, value, 64);
  if (raw.length !== 32) throw invalid(field, "must be the base64 of a 32-byte X25519 public key");
  if (raw.every((b) => b === 0)) throw invalid(field, "all-zero key");
  return value;
}

/** Opaque client bytes (a key backup): canonical standard base64, not empty, at most `maxChars`. */
export function base64Text(field: string, value: string, maxChars: number): string {
  base64Bytes(field, value, maxChars);
  return value;
}

/** An Ed25519 public key (an identity key): base64 of the 32 raw bytes. */
export function identityKey(field: string, value: string): string {
  const raw = base64Bytes(field, value, 64);
  if (raw.length !== 32) throw invalid(field, "must be the base64 of a 32-byte Ed25519 public key");
  if (raw.every((b) => b === 0)) throw invalid(field, "all-zero key");
  return value;
}

/** An Ed25519 signature: base64 of exactly 64 bytes. */
export function signature(field: string, value: string): string {
  const raw = base64Bytes(field, value, 128);
  if (raw.length !== 64) throw invalid(field, "must be the base64 of a 64-byte Ed25519 signature");
  return value;
}

/** A SHA-256 digest or HMAC (a key hash, an admission MAC): base64 of exactly 32 bytes. */
export function digest(field: string, value: string): string {
  const raw = base64Bytes(field, value, 64);
  if (raw.length !== 32) throw invalid(field, "must be the base64 of 32 bytes");
  return value;
}

/** Epochs are stored as PostgreSQL integer: 1 to 2^31 − 1 (docs/API.md, docs/ENCRYPTION.md). */
export const EPOCH_MAX = 2 ** 31 - 1;

export function epoch(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw invalid(field, "must be at least 1");
  if (value > EPOCH_MAX) throw invalid(field, `must be at most ${EPOCH_MAX}`);
  return value;
}

/** Seqs are PostgreSQL bigint: 0 (none) to 2^63 − 1. */
export const SEQ_MAX = 2n ** 63n - 1n;

export function seq(field: string, value: bigint): bigint {
  if (value < 0n || value > SEQ_MAX) throw invalid(field, `must be between 0 and ${SEQ_MAX}`);
  return value;
}

export function required(field: string, value: string, maxChars: number): string {
  if (!value) throw invalid(field, "required");
  if (value.length > maxChars) throw invalid(field, `longer than ${maxChars} characters`);
  return value;
}
