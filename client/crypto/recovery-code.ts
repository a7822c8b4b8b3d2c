// Recovery codes (ENCRYPTION.md §10.5): 160 random bits in Crockford base32, shown once at
// registration; with the password they restore the identity and keys from the key backup.
import { joinAad, requireContextField } from "./aad.js";
import { CryptoError } from "./errors.js";
import { KEY_BYTES, hkdfSha256, randomBytes, type Rng } from "./primitives.js";

export const RECOVERY_CODE_BYTES = 20;
/** 160 bits / 5 bits per character. */
export const RECOVERY_CODE_CHARS = 32;
export const CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export interface RecoveryCode {
  /** Eight groups of four characters joined by "-". */
  readonly code: string;
  readonly bytes: Uint8Array;
}

/** Big-endian: the first character is the top 5 bits of byte 0. */
export function formatRecoveryCode(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== RECOVERY_CODE_BYTES) {
    throw new CryptoError("invalid-input", `formatRecoveryCode: code must be ${RECOVERY_CODE_BYTES} bytes`);
  }
  let chars = "";
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      chars += CROCKFORD_ALPHABET[(acc >> bits) & 31]!;
    }
    acc &= (1 << bits) - 1;
  }
  return (chars.match(/.{4}/g) ?? []).join("-");
}

export function generateRecoveryCode(rng?: Rng): RecoveryCode {
  const bytes = randomBytes(RECOVERY_CODE_BYTES, rng);
  return { code: formatRecoveryCode(bytes), bytes };
}

// Crockford's reading rules: letters people confuse with digits read as those digits.
const ALIASES: Readonly<Record<string, string>> = { O: "0", I: "1", L: "1" };

/**
 * Forgiving of how a person copies it (case, spaces, dashes, line breaks, O/I/L for 0/1), and
 * precise about what is wrong otherwise; messages are shown as they are, so they carry no
 * function name.
 */
export function parseRecoveryCode(text: string): Uint8Array {
  if (typeof text !== "string") throw new CryptoError("invalid-input", "the recovery code is not text");
  let chars = "";
  for (const ch of text.replace(/[\s-]/g, "")) {
    // ASCII-only upper-casing: "ß".toUpperCase() is "SS" and "ı" becomes "I".
    const upper = /^[a-z]$/.test(ch) ? ch.toUpperCase() : ch;
    const c = ALIASES[upper] ?? upper;
    if (!CROCKFORD_ALPHABET.includes(c)) {
      throw new CryptoError(
        "invalid-input",
        `the recovery code contains ${JSON.stringify(ch)}, which is not in a recovery code (0-9 and A-Z without I, L, O, U)`,
      );
    }
    chars += c;
  }
  if (chars.length !== RECOVERY_CODE_CHARS) {
    throw new CryptoError(
      "invalid-input",
      `the recovery code has ${chars.length} characters, it needs ${RECOVERY_CODE_CHARS} (8 groups of 4)`,
    );
  }
  const out = new Uint8Array(RECOVERY_CODE_BYTES);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const c of chars) {
    acc = (acc << 5) | CROCKFORD_ALPHABET.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  return out;
}

/** HKDF-SHA256(ikm = code bytes, salt = 32 zero bytes, info = `dialtone/v1/key-backup|{user_id}`, L = 32). */
export async function backupKeyFromRecoveryCode(codeBytes: Uint8Array, userId: string): Promise<Uint8Array> {
  if (!(codeBytes instanceof Uint8Array) || codeBytes.length !== RECOVERY_CODE_BYTES) {
    throw new CryptoError("invalid-input", `backupKeyFromRecoveryCode: code must be ${RECOVERY_CODE_BYTES} bytes`);
  }
  requireContextField("backupKeyFromRecoveryCode", "user id", userId);
  const info = joinAad("backupKeyFromRecoveryCode", "key-backup", [userId]);
  return hkdfSha256(codeBytes, new Uint8Array(32), info, KEY_BYTES);
}
