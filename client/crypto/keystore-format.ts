// The keystore FILE format (DESIGN §5). Pure: scrypt is passed in, because WebCrypto has none
// and this module may not import node:crypto; client/keystore passes node's scrypt.
import { joinAad } from "./aad.js";
import { decodeBase64, encodeBase64, utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { KEYSTORE_SCRYPT_PARAMS } from "./keystore-params.js";
import { KEY_BYTES, NONCE_BYTES, aesGcmDecrypt, aesGcmEncrypt, randomBytes, type Rng } from "./primitives.js";

export const KEYSTORE_FORMAT_VERSION = 1;
export const KEYSTORE_SALT_BYTES = 16;
export { KEYSTORE_SCRYPT_PARAMS };

/** scrypt(passphrase, salt, N, r, p) → 32 bytes. */
export type ScryptFn = (passphrase: Uint8Array, salt: Uint8Array, N: number, r: number, p: number) => Promise<Uint8Array>;

/** The JSON document on disk, fields in this order. */
export interface KeystoreFile {
  readonly version: 1;
  readonly kdf: {
    readonly name: "scrypt";
    readonly N: number;
    readonly r: number;
    readonly p: number;
    /** base64 of 16 bytes */
    readonly salt: string;
  };
  /** base64 of 12 bytes */
  readonly nonce: string;
  /** base64 of the AES-256-GCM ciphertext || tag */
  readonly ciphertext: string;
}

/** A derived file key with the salt it came from, so saves can re-seal without re-running scrypt. */
export interface KeystoreKey {
  readonly salt: Uint8Array;
  readonly key: Uint8Array;
}

export interface KeystoreFormatOptions {
  /** Tests only: the source of the salt (deriveKeystoreKey) or the nonce (sealKeystore). */
  readonly rng?: Rng;
}

/** `dialtone/v1/keystore|{server_origin}`: a keystore copied to another server's slot fails to open. */
export function keystoreAad(serverOrigin: string): Uint8Array {
  return joinAad("keystoreAad", "keystore", [serverOrigin]);
}

/** NFC then UTF-8, so one passphrase typed through different input methods gives one key. */
export function passphraseBytes(passphrase: string): Uint8Array {
  return utf8Encode(passphrase.normalize("NFC"));
}

async function runScrypt(fn: string, passphrase: string, salt: Uint8Array, scrypt: ScryptFn): Promise<Uint8Array> {
  if (typeof passphrase !== "string" || passphrase.length === 0) {
    throw new CryptoError("invalid-input", `${fn}: passphrase must not be empty`);
  }
  const { N, r, p } = KEYSTORE_SCRYPT_PARAMS;
  const key = await scrypt(passphraseBytes(passphrase), salt, N, r, p);
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new CryptoError("invalid-input", `${fn}: scrypt must return ${KEY_BYTES} bytes`);
  }
  return key;
}

/** A fresh salt and the key scrypt derives from it: used on create and on passphrase change. */
export async function deriveKeystoreKey(passphrase: string, scrypt: ScryptFn, options: KeystoreFormatOptions = {}): Promise<KeystoreKey> {
  const salt = randomBytes(KEYSTORE_SALT_BYTES, options.rng);
  return { salt, key: await runScrypt("deriveKeystoreKey", passphrase, salt, scrypt) };
}

/** Encrypts `plaintext` with a fresh nonce; returns the file text (compact JSON, no newline). */
export async function sealKeystore(
  fileKey: KeystoreKey,
  serverOrigin: string,
  plaintext: Uint8Array,
  options: KeystoreFormatOptions = {},
): Promise<string> {
  if (fileKey.salt.length !== KEYSTORE_SALT_BYTES) {
    throw new CryptoError("invalid-input", `sealKeystore: salt must be ${KEYSTORE_SALT_BYTES} bytes`);
  }
  const aad = keystoreAad(serverOrigin);
  const nonce = randomBytes(NONCE_BYTES, options.rng);
  const ciphertext = await aesGcmEncrypt(fileKey.key, nonce, plaintext, aad);
  const file: KeystoreFile = {
    version: KEYSTORE_FORMAT_VERSION,
    kdf: { name: "scrypt", ...KEYSTORE_SCRYPT_PARAMS, salt: encodeBase64(fileKey.salt) },
    nonce: encodeBase64(nonce),
    ciphertext: encodeBase64(ciphertext),
  };
  return JSON.stringify(file);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses and checks the outer document; it says nothing about the passphrase yet. */
export function parseKeystoreFile(text: string): KeystoreFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CryptoError("malformed", "parseKeystoreFile: not JSON");
  }
  if (!isRecord(doc)) throw new CryptoError("malformed", "parseKeystoreFile: not a JSON object");
  if (doc["version"] !== KEYSTORE_FORMAT_VERSION) {
    throw new CryptoError("unsupported-version", "parseKeystoreFile: unsupported keystore version");
  }
  const kdf = doc["kdf"];
  const { N, r, p } = KEYSTORE_SCRYPT_PARAMS;
  if (!isRecord(kdf) || kdf["name"] !== "scrypt" || kdf["N"] !== N || kdf["r"] !== r || kdf["p"] !== p) {
    throw new CryptoError("unsupported-version", "parseKeystoreFile: unsupported kdf parameters");
  }
  const salt = kdf["salt"];
  const nonce = doc["nonce"];
  const ciphertext = doc["ciphertext"];
  if (typeof salt !== "string" || typeof nonce !== "string" || typeof ciphertext !== "string") {
    throw new CryptoError("malformed", "parseKeystoreFile: salt, nonce and ciphertext must be strings");
  }
  return { version: KEYSTORE_FORMAT_VERSION, kdf: { name: "scrypt", N, r, p, salt }, nonce, ciphertext };
}

function decodeField(name: string, text: string, length?: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(text);
  } catch {
    throw new CryptoError("malformed", `openKeystore: ${name} is not canonical base64`);
  }
  if (length !== undefined && bytes.length !== length) {
    throw new CryptoError("malformed", `openKeystore: ${name} must be ${length} bytes`);
  }
  return bytes;
}

/**
 * Opens a keystore file. A wrong passphrase and a modified file are indistinguishable (both
 * fail authentication) and both are reported as `decrypt-failed`.
 */
export async function openKeystore(
  text: string,
  passphrase: string,
  serverOrigin: string,
  scrypt: ScryptFn,
): Promise<{ readonly plaintext: Uint8Array; readonly fileKey: KeystoreKey }> {
  const aad = keystoreAad(serverOrigin);
  const file = parseKeystoreFile(text);
  const salt = decodeField("salt", file.kdf.salt, KEYSTORE_SALT_BYTES);
  const nonce = decodeField("nonce", file.nonce, NONCE_BYTES);
  const ciphertext = decodeField("ciphertext", file.ciphertext);
  const key = await runScrypt("openKeystore", passphrase, salt, scrypt);
  try {
    const plaintext = await aesGcmDecrypt(key, nonce, ciphertext, aad);
    return { plaintext, fileKey: { salt, key } };
  } catch (err) {
    if (err instanceof CryptoError && (err.code === "decrypt-failed" || err.code === "malformed")) {
      throw new CryptoError("decrypt-failed", "openKeystore: wrong passphrase or corrupted keystore");
    }
    throw err;
  }
}
