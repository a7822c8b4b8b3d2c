// The primitives of DESIGN §5 and §11 over Uint8Array: X25519, Ed25519, HKDF-SHA256, HMAC-SHA256,
// AES-256-GCM, SHA-2, randomness.
// Everything goes through @peculiar/webcrypto so the formats above sit on one audited backend.
import { Crypto } from "@peculiar/webcrypto";
import { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from "./bytes.js";
import { CryptoError } from "./errors.js";

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const X25519_KEY_BYTES = 32;
/** An Ed25519 private key is its 32-byte seed (RFC 8032 §5.1.5); the public key is 32 bytes too. */
export const ED25519_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/**
 * A source of random bytes. Only tests and the vector check pass one (to reproduce exact
 * bytes); every function defaults to the platform CSPRNG.
 */
export type Rng = (length: number) => Uint8Array;

export interface X25519KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

// The typings of @peculiar/webcrypto resolve to `any` without the DOM lib, so we state the
// narrow slice of SubtleCrypto used here and keep the module fully typed.
interface KeyHandle {
  readonly type: string;
}
interface OkpJwk {
  kty: "OKP";
  crv: "X25519" | "Ed25519";
  d?: string;
  x?: string;
}
type Algorithm = { name: "X25519" } | { name: "Ed25519" } | { name: "AES-GCM" } | { name: "HMAC"; hash: "SHA-256" };
type SignAlgorithm = { name: "Ed25519" } | { name: "HMAC" };
interface Subtle {
  importKey(format: "raw", data: Uint8Array, algorithm: Algorithm | "HKDF", extractable: boolean, usages: string[]): Promise<KeyHandle>;
  importKey(format: "jwk", data: OkpJwk, algorithm: Algorithm, extractable: boolean, usages: string[]): Promise<KeyHandle>;
  exportKey(format: "jwk", key: KeyHandle): Promise<OkpJwk>;
  deriveBits(algorithm: { name: "X25519"; public: KeyHandle }, key: KeyHandle, bits: number): Promise<ArrayBuffer>;
  deriveBits(
    algorithm: { name: "HKDF"; hash: "SHA-256"; salt: Uint8Array; info: Uint8Array },
    key: KeyHandle,
    bits: number,
  ): Promise<ArrayBuffer>;
  encrypt(algorithm: GcmParams, key: KeyHandle, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: GcmParams, key: KeyHandle, data: Uint8Array): Promise<ArrayBuffer>;
  digest(algorithm: "SHA-256" | "SHA-512", data: Uint8Array): Promise<ArrayBuffer>;
  sign(algorithm: SignAlgorithm, key: KeyHandle, data: Uint8Array): Promise<ArrayBuffer>;
  verify(algorithm: SignAlgorithm, key: KeyHandle, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
}
interface GcmParams {
  name: "AES-GCM";
  iv: Uint8Array;
  additionalData: Uint8Array;
  tagLength: 128;
}

const webcrypto = new Crypto();
const subtle = webcrypto.subtle as unknown as Subtle;

function requireLength(fn: string, what: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new CryptoError("invalid-input", `${fn}: ${what} must be ${length} bytes`);
  }
}

/** `length` random bytes from the CSPRNG, or from `rng` (tests only). */
export function randomBytes(length: number, rng?: Rng): Uint8Array {
  if (!Number.isInteger(length) || length < 0) {
    throw new CryptoError("invalid-input", "randomBytes: length must be a non-negative integer");
  }
  if (rng !== undefined) {
    const out = rng(length);
    requireLength("randomBytes", "rng output", out, length);
    return out;
  }
  const out = new Uint8Array(length);
  // getRandomValues refuses more than 65536 bytes per call.
  for (let offset = 0; offset < length; offset += 65536) {
    webcrypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65536)));
  }
  return out;
}

/** A fresh 32-byte symmetric key (channel key, directory key). */
export function generateSymmetricKey(rng?: Rng): Uint8Array {
  return randomBytes(KEY_BYTES, rng);
}

async function importX25519Private(fn: string, privateKey: Uint8Array): Promise<KeyHandle> {
  requireLength(fn, "private key", privateKey, X25519_KEY_BYTES);
  const jwk: OkpJwk = { kty: "OKP", crv: "X25519", d: encodeBase64Url(privateKey) };
  return subtle.importKey("jwk", jwk, { name: "X25519" }, true, ["deriveBits"]);
}

/** The public key of a 32-byte X25519 private scalar (clamping is part of X25519 itself). */
export async function x25519PublicKey(privateKey: Uint8Array): Promise<Uint8Array> {
  const key = await importX25519Private("x25519PublicKey", privateKey);
  const jwk = await subtle.exportKey("jwk", key);
  if (jwk.x === undefined) throw new CryptoError("invalid-input", "x25519PublicKey: no public key derived");
  return decodeBase64Url(jwk.x);
}

/** A device key pair: 32 random bytes as the private key, its X25519 public key. */
export async function generateX25519KeyPair(rng?: Rng): Promise<X25519KeyPair> {
  const privateKey = randomBytes(X25519_KEY_BYTES, rng);
  return { privateKey, publicKey: await x25519PublicKey(privateKey) };
}

/**
 * X25519(privateKey, publicKey). An all-zero result (a low-order public key, RFC 7748 §6.1)
 * is refused: it would make the shared secret independent of our private key.
 */
export async function x25519(privateKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array> {
  const priv = await importX25519Private("x25519", privateKey);
  requireLength("x25519", "public key", publicKey, X25519_KEY_BYTES);
  const invalid = (): CryptoError => new CryptoError("invalid-public-key", "x25519: public key is invalid or of low order");
  let shared: Uint8Array;
  try {
    const pub = await subtle.importKey("raw", publicKey, { name: "X25519" }, true, []);
    shared = new Uint8Array(await subtle.deriveBits({ name: "X25519", public: pub }, priv, 256));
  } catch {
    // OpenSSL itself refuses the all-zero output; any failure here is a bad public key.
    throw invalid();
  }
  let acc = 0;
  for (const b of shared) acc |= b;
  if (acc === 0) throw invalid();
  return shared;
}

/** HKDF-SHA256 (RFC 5869); an empty salt means HashLen zero bytes, as the RFC says. */
export async function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array> {
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new CryptoError("invalid-input", "hkdfSha256: length must be 1..8160");
  }
  const key = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const bits = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, length * 8);
  return new Uint8Array(bits);
}

async function importAesKey(fn: string, key: Uint8Array, usage: "encrypt" | "decrypt"): Promise<KeyHandle> {
  requireLength(fn, "key", key, KEY_BYTES);
  return subtle.importKey("raw", key, { name: "AES-GCM" }, false, [usage]);
}

/** AES-256-GCM: returns ciphertext || 16-byte tag. */
export async function aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  const handle = await importAesKey("aesGcmEncrypt", key, "encrypt");
  requireLength("aesGcmEncrypt", "nonce", nonce, NONCE_BYTES);
  const params: GcmParams = { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 };
  return new Uint8Array(await subtle.encrypt(params, handle, plaintext));
}

/** AES-256-GCM open of ciphertext || tag; any authentication failure is `decrypt-failed`. */
export async function aesGcmDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertextAndTag: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const handle = await importAesKey("aesGcmDecrypt", key, "decrypt");
  requireLength("aesGcmDecrypt", "nonce", nonce, NONCE_BYTES);
  if (ciphertextAndTag.length < TAG_BYTES) {
    throw new CryptoError("malformed", "aesGcmDecrypt: ciphertext shorter than the tag");
  }
  const params: GcmParams = { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 };
  try {
    return new Uint8Array(await subtle.decrypt(params, handle, ciphertextAndTag));
  } catch {
    throw new CryptoError("decrypt-failed", "aesGcmDecrypt: authentication failed");
  }
}

async function importEd25519Seed(fn: string, seed: Uint8Array, extractable: boolean): Promise<KeyHandle> {
  requireLength(fn, "private key (seed)", seed, ED25519_KEY_BYTES);
  const jwk: OkpJwk = { kty: "OKP", crv: "Ed25519", d: encodeBase64Url(seed) };
  return subtle.importKey("jwk", jwk, { name: "Ed25519" }, extractable, ["sign"]);
}

/** The Ed25519 public key of a 32-byte seed (RFC 8032 §5.1.5). */
export async function ed25519PublicKey(seed: Uint8Array): Promise<Uint8Array> {
  const key = await importEd25519Seed("ed25519PublicKey", seed, true);
  const jwk = await subtle.exportKey("jwk", key);
  if (jwk.x === undefined) throw new CryptoError("invalid-input", "ed25519PublicKey: no public key derived");
  return decodeBase64Url(jwk.x);
}

/** Pure Ed25519 (RFC 8032 §5.1.6, no prehash, no context): deterministic 64-byte signature. */
export async function ed25519Sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const key = await importEd25519Seed("ed25519Sign", seed, false);
  return new Uint8Array(await subtle.sign({ name: "Ed25519" }, key, message));
}

/**
 * Ed25519 verification. Any signature that is not valid, including one of the wrong length or
 * a public key that is not a curve point, gives false: signatures come from the network, and a
 * caller has one branch to get right, not two. Only a public key of the wrong length throws.
 */
export async function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  requireLength("ed25519Verify", "public key", publicKey, ED25519_KEY_BYTES);
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    const key = await subtle.importKey("raw", publicKey, { name: "Ed25519" }, true, ["verify"]);
    return (await subtle.verify({ name: "Ed25519" }, key, signature, message)) === true;
  } catch {
    return false;
  }
}

/** HMAC-SHA256 (RFC 2104); 32-byte tag. */
export async function hmacSha256(key: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  if (!(key instanceof Uint8Array) || key.length === 0) {
    throw new CryptoError("invalid-input", "hmacSha256: key must not be empty");
  }
  const handle = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign({ name: "HMAC" }, handle, message));
}

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle.digest("SHA-256", data));
}

export async function sha512(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle.digest("SHA-512", data));
}

/** The wire form of a device public key: standard base64 of the 32 raw bytes. */
export function publicKeyToBase64(publicKey: Uint8Array): string {
  requireLength("publicKeyToBase64", "public key", publicKey, X25519_KEY_BYTES);
  return encodeBase64(publicKey);
}

/** Parses a device public key from the wire; anything but 32 bytes of canonical base64 is refused. */
export function publicKeyFromBase64(text: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(text);
  } catch {
    throw new CryptoError("invalid-input", "publicKeyFromBase64: not canonical base64");
  }
  requireLength("publicKeyFromBase64", "public key", bytes, X25519_KEY_BYTES);
  return bytes;
}
