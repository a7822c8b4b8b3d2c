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
  return Buffer.from(value, "base64");
}

// 0x01 || epoch_u32 || nonce[12] || ciphertext || tag[16] (docs/ENCRYPTION.md)
const SEALED_MIN = 1 + 4 + 12 + 16;

/** A sealed field: checks the envelope of the format only; the content stays opaque. */
export function sealed(field: string, value: string, maxChars: number): string {
  const raw = base64Bytes(field, value, maxChars);
  if (raw.length < SEALED_MIN || raw[0] !== 0x01) throw invalid(field, "not a sealed value (version 1)");
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

export function epoch(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw invalid(field, "must be at least 1");
  return value;
}

export function required(field: string, value: string, maxChars: number): string {
  if (!value) throw invalid(field, "required");
  if (value.length > maxChars) throw invalid(field, `longer than ${maxChars} characters`);
  return value;
}
