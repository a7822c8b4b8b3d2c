// Safety numbers in the construction of Signal's NumericFingerprintGenerator (5200 iterations
// of SHA-512): version 1 over each user's identity key, version 0 over a user's set of device
// keys (for users without an identity during the upgrade).
import { compareBytes, concatBytes, constantTimeEqual, utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { formatFingerprint, requireIdentityPublicKey } from "./identity.js";
import { X25519_KEY_BYTES, sha256, sha512 } from "./primitives.js";

/** The device-set number (ENCRYPTION.md §5). */
export const SAFETY_NUMBER_VERSION = 0;
/** The identity number (ENCRYPTION.md §10.7). */
export const IDENTITY_SAFETY_NUMBER_VERSION = 1;
export const SAFETY_NUMBER_ITERATIONS = 5200;
export const DEVICE_FINGERPRINT_LABEL = "dialtone/v1/device-fingerprint|";

/** One side of a safety number: a user and the device keys we hold for them. */
export interface SafetyIdentity {
  readonly userId: string;
  readonly devicePublicKeys: readonly Uint8Array[];
}

/** The user's keys sorted bytewise with duplicates dropped: the number depends on the set only. */
function sortedKeys(fn: string, keys: readonly Uint8Array[]): Uint8Array {
  if (keys.length === 0) throw new CryptoError("invalid-input", `${fn}: at least one device key is needed`);
  for (const key of keys) {
    if (!(key instanceof Uint8Array) || key.length !== X25519_KEY_BYTES) {
      throw new CryptoError("invalid-input", `${fn}: device keys must be 32 bytes`);
    }
  }
  const sorted = [...keys].sort(compareBytes);
  const unique = sorted.filter((key, i) => i === 0 || !constantTimeEqual(key, sorted[i - 1]!));
  return concatBytes(...unique);
}

function encodeChunk(hash: Uint8Array, offset: number): string {
  // Five bytes as a big-endian uint40 (exact in a double), mod 100000.
  let value = 0;
  for (let i = 0; i < 5; i++) value = value * 256 + hash[offset + i]!;
  return String(value % 100000).padStart(5, "0");
}

function requireUserId(fn: string, userId: string): void {
  if (typeof userId !== "string" || userId.length === 0) {
    throw new CryptoError("invalid-input", `${fn}: user id must not be empty`);
  }
}

/**
 * The 30 digits for one user: hash = u16be(version) || keys || UTF-8(user id); then 5200 times
 * hash = SHA-512(hash || keys); then six chunks of 5 bytes, each as 5 decimal digits.
 */
async function digitsOf(version: number, keys: Uint8Array, userId: string): Promise<string> {
  let hash = concatBytes(Uint8Array.of(version >> 8, version & 0xff), keys, utf8Encode(userId));
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) hash = await sha512(concatBytes(hash, keys));
  let digits = "";
  for (let offset = 0; offset < 30; offset += 5) digits += encodeChunk(hash, offset);
  return digits;
}

/** Both users compute the same number: the two halves in ascending order. */
function combine(a: string, b: string): string {
  return a <= b ? a + b : b + a;
}

/** Version 0: one user's 30 digits over the set of its device keys. */
export async function fingerprintDigits(identity: SafetyIdentity): Promise<string> {
  requireUserId("fingerprintDigits", identity.userId);
  return digitsOf(SAFETY_NUMBER_VERSION, sortedKeys("fingerprintDigits", identity.devicePublicKeys), identity.userId);
}

/** Version 0: 60 digits over both users' device sets. */
export async function safetyNumber(local: SafetyIdentity, remote: SafetyIdentity): Promise<string> {
  const [a, b] = await Promise.all([fingerprintDigits(local), fingerprintDigits(remote)]);
  return combine(a, b);
}

/** One side of an identity safety number. */
export interface SafetyIdentityKey {
  readonly userId: string;
  readonly identityPublicKey: Uint8Array;
}

/** Version 1: one user's 30 digits over its identity key; devices do not enter. */
export async function identityFingerprintDigits(side: SafetyIdentityKey): Promise<string> {
  requireUserId("identityFingerprintDigits", side.userId);
  requireIdentityPublicKey("identityFingerprintDigits", "identity public key", side.identityPublicKey);
  return digitsOf(IDENTITY_SAFETY_NUMBER_VERSION, side.identityPublicKey, side.userId);
}

/**
 * Version 1: 60 digits over both users' identity keys. Adding, hiding or removing a device
 * leaves it unchanged; a new identity key changes it.
 */
export async function identitySafetyNumber(a: SafetyIdentityKey, b: SafetyIdentityKey): Promise<string> {
  const [da, db] = await Promise.all([identityFingerprintDigits(a), identityFingerprintDigits(b)]);
  return combine(da, db);
}

/** 60 digits as 12 groups of 5, four groups per line (as Signal shows them). */
export function formatSafetyNumber(digits: string): string {
  if (!/^\d{60}$/.test(digits)) throw new CryptoError("invalid-input", "formatSafetyNumber: need 60 digits");
  const groups = digits.match(/\d{5}/g) ?? [];
  return [0, 4, 8].map((i) => groups.slice(i, i + 4).join(" ")).join("\n");
}

/**
 * A short fingerprint of one device key for notices ("new device a1b2 c3d4 ..."): the first
 * 10 bytes of SHA-256(label || key) as five groups of 4 hex digits. Comparing it out of band
 * checks one device; the safety number covers all of a user's devices.
 */
export async function deviceFingerprint(publicKey: Uint8Array): Promise<string> {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== X25519_KEY_BYTES) {
    throw new CryptoError("invalid-input", "deviceFingerprint: public key must be 32 bytes");
  }
  return formatFingerprint(await sha256(concatBytes(utf8Encode(DEVICE_FINGERPRINT_LABEL), publicKey)));
}
