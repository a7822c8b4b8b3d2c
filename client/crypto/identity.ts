// Identity keys (ENCRYPTION.md §10): one Ed25519 key per account, held by each of its approved
// devices, that signs the account's statements. Its fingerprint pins the community's root.
import { concatBytes, toHex, utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { ED25519_KEY_BYTES, ED25519_SIGNATURE_BYTES, ed25519PublicKey, randomBytes, sha256, type Rng } from "./primitives.js";

export const IDENTITY_KEY_BYTES = ED25519_KEY_BYTES;
export const SIGNATURE_BYTES = ED25519_SIGNATURE_BYTES;
export const IDENTITY_FINGERPRINT_BYTES = 32;
export const IDENTITY_FINGERPRINT_LABEL = "dialtone/v1/identity-fingerprint|";

export interface IdentityKeyPair {
  /** The 32-byte Ed25519 seed (RFC 8032): what the keystore, envelopes and backups carry. */
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export async function identityKeyPairFromSeed(seed: Uint8Array): Promise<IdentityKeyPair> {
  if (!(seed instanceof Uint8Array) || seed.length !== IDENTITY_KEY_BYTES) {
    throw new CryptoError("invalid-input", `identityKeyPairFromSeed: seed must be ${IDENTITY_KEY_BYTES} bytes`);
  }
  return { privateKey: seed, publicKey: await ed25519PublicKey(seed) };
}

/** A new identity: 32 bytes from the CSPRNG (or `rng`, tests only) as the seed. */
export async function generateIdentityKeyPair(rng?: Rng): Promise<IdentityKeyPair> {
  return identityKeyPairFromSeed(randomBytes(IDENTITY_KEY_BYTES, rng));
}

export function requireIdentityPublicKey(fn: string, field: string, publicKey: Uint8Array): void {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== IDENTITY_KEY_BYTES) {
    throw new CryptoError("invalid-input", `${fn}: ${field} must be ${IDENTITY_KEY_BYTES} bytes`);
  }
}

/** SHA-256(label || raw public key): carried whole in invites, shown shortened to humans. */
export async function identityFingerprint(identityPublicKey: Uint8Array): Promise<Uint8Array> {
  requireIdentityPublicKey("identityFingerprint", "identity public key", identityPublicKey);
  return sha256(concatBytes(utf8Encode(IDENTITY_FINGERPRINT_LABEL), identityPublicKey));
}

/** The first 10 bytes (80 bits) as five groups of four lower-case hex digits, as device fingerprints. */
export function formatFingerprint(fp: Uint8Array): string {
  if (!(fp instanceof Uint8Array) || fp.length !== IDENTITY_FINGERPRINT_BYTES) {
    throw new CryptoError("invalid-input", `formatFingerprint: fingerprint must be ${IDENTITY_FINGERPRINT_BYTES} bytes`);
  }
  return (toHex(fp.subarray(0, 10)).match(/.{4}/g) ?? []).join(" ");
}
