// Additional authenticated data: every AAD of DESIGN §5 is UTF-8 text joined by "|".
import { utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";

export const AAD_PREFIX = "dialtone/v1/";

// UTF-8 cannot carry a lone surrogate: TextEncoder writes U+FFFD instead, so "a\ud800" and
// "a\ufffd" would give the same bytes (the same AAD, the same signed statement).
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * `dialtone/v1/` + label + `|` + fields joined by `|`. A field that is empty or contains `|`
 * is refused: otherwise two different contexts could produce the same AAD bytes.
 */
export function joinAad(fn: string, label: string, fields: readonly string[]): Uint8Array {
  for (const field of fields) {
    if (typeof field !== "string" || field.length === 0 || field.includes("|")) {
      throw new CryptoError("invalid-input", `${fn}: context fields must be non-empty and contain no "|"`);
    }
    if (LONE_SURROGATE.test(field)) throw new CryptoError("invalid-input", `${fn}: context fields must not contain a lone surrogate`);
  }
  return utf8Encode([AAD_PREFIX + label, ...fields].join("|"));
}

/** The same rule as joinAad for one named field, so the error says which field is wrong. */
export function requireContextField(fn: string, name: string, value: string): void {
  if (typeof value !== "string" || value.length === 0 || value.includes("|")) {
    throw new CryptoError("invalid-input", `${fn}: ${name} must be non-empty and contain no "|"`);
  }
  if (LONE_SURROGATE.test(value)) throw new CryptoError("invalid-input", `${fn}: ${name} must not contain a lone surrogate`);
}

/** Epochs are u32 on the wire and start at 1. */
export function requireEpoch(fn: string, epoch: number): void {
  if (!Number.isInteger(epoch) || epoch < 1 || epoch > 0xffffffff) {
    throw new CryptoError("invalid-input", `${fn}: epoch must be an integer in 1..4294967295`);
  }
}
