// The sealed key backup (ENCRYPTION.md §10.6): base64(0x01 || nonce[12] || ciphertext || tag[16])
// under the key derived from the recovery code. The AAD names the backup version the server
// stores it as, so the server cannot hand back an older backup as the current one.
import { joinAad, requireContextField } from "./aad.js";
import { concatBytes, decodeBase64, encodeBase64 } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { NONCE_BYTES, TAG_BYTES, aesGcmDecrypt, aesGcmEncrypt, randomBytes, type Rng } from "./primitives.js";

export const KEY_BACKUP_VERSION = 0x01;
export const KEY_BACKUP_MIN_BYTES = 1 + NONCE_BYTES + TAG_BYTES;
const MAX_U64 = (1n << 64n) - 1n;

function aadFor(fn: string, userId: string, version: bigint): Uint8Array {
  requireContextField(fn, "user id", userId);
  if (typeof version !== "bigint" || version < 1n || version > MAX_U64) {
    throw new CryptoError("invalid-input", `${fn}: version must be in 1..${MAX_U64}`);
  }
  return joinAad(fn, "key-backup", [userId, version.toString()]);
}

/** `dialtone/v1/key-backup|{user_id}|{version}`, version in decimal (1..2^64−1: 0 means "no backup"). */
export function keyBackupAad(userId: string, version: bigint): Uint8Array {
  return aadFor("keyBackupAad", userId, version);
}

export async function sealKeyBackup(
  backupKey: Uint8Array,
  userId: string,
  version: bigint,
  plaintext: Uint8Array,
  options: { readonly rng?: Rng } = {},
): Promise<string> {
  const aad = aadFor("sealKeyBackup", userId, version);
  const nonce = randomBytes(NONCE_BYTES, options.rng);
  const ciphertextAndTag = await aesGcmEncrypt(backupKey, nonce, plaintext, aad);
  return encodeBase64(concatBytes(Uint8Array.of(KEY_BACKUP_VERSION), nonce, ciphertextAndTag));
}

export async function openKeyBackup(backupKey: Uint8Array, userId: string, version: bigint, sealed: string): Promise<Uint8Array> {
  const aad = aadFor("openKeyBackup", userId, version);
  let raw: Uint8Array;
  try {
    raw = decodeBase64(sealed);
  } catch {
    throw new CryptoError("malformed", "openKeyBackup: the backup is not canonical base64");
  }
  if (raw.length < KEY_BACKUP_MIN_BYTES) {
    throw new CryptoError("malformed", `openKeyBackup: the backup is shorter than ${KEY_BACKUP_MIN_BYTES} bytes`);
  }
  if (raw[0] !== KEY_BACKUP_VERSION) {
    throw new CryptoError("unsupported-version", `openKeyBackup: unsupported backup format ${raw[0]}`);
  }
  try {
    return await aesGcmDecrypt(backupKey, raw.subarray(1, 1 + NONCE_BYTES), raw.subarray(1 + NONCE_BYTES), aad);
  } catch (err) {
    if (err instanceof CryptoError && err.code === "decrypt-failed") {
      throw new CryptoError(
        "decrypt-failed",
        "openKeyBackup: the backup does not open: wrong recovery code, or it was changed or stored under another version",
      );
    }
    throw err;
  }
}
