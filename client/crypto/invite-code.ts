// Invite codes (ENCRYPTION.md §10.4): `{server token}.{admission secret}.{root fingerprint}`,
// the last two base64url without padding. The server sees only the token; the secret lets the
// invited client prove itself to the minting admin, the fingerprint pins the community's root.
import { decodeBase64Url, encodeBase64Url } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { ADMISSION_SECRET_BYTES } from "./admission-request.js";
import { IDENTITY_FINGERPRINT_BYTES } from "./identity.js";

export interface InviteCode {
  readonly serverToken: string;
  /** Absent for a server-side invite (token only): its account stays pending until an admin admits it. */
  readonly admissionSecret?: Uint8Array;
  /** identityFingerprint() of the root's identity key, all 32 bytes. */
  readonly rootFingerprint?: Uint8Array;
}

/** 32 bytes in unpadded base64url. */
export const INVITE_PART_CHARS = 43;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

// Messages are written for the person who pasted the code, so they carry no function name.
function invalid(message: string): CryptoError {
  return new CryptoError("invalid-input", message);
}

function requireServerToken(token: string): void {
  if (typeof token !== "string" || token.length === 0) throw invalid("the invite's server token is empty");
  // Old tokens may start with "-"; newToken() no longer makes them, but they are still valid.
  if (!BASE64URL.test(token)) throw invalid("the invite's server token has a character outside base64url (A-Z a-z 0-9 - _)");
}

function decodePart(text: string, what: string): Uint8Array {
  if (text.length === 0) throw invalid(`the invite's ${what} is empty`);
  if (text.length !== INVITE_PART_CHARS || !BASE64URL.test(text)) {
    throw invalid(`the invite's ${what} is not ${INVITE_PART_CHARS} base64url characters`);
  }
  try {
    return decodeBase64Url(text);
  } catch {
    // 43 characters hold 258 bits: the last 2 must be zero, so one byte string has one spelling.
    throw invalid(`the invite's ${what} is not canonical base64url`);
  }
}

function encodePart(bytes: Uint8Array | undefined, what: string, length: number): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new CryptoError("invalid-input", `formatInviteCode: ${what} must be ${length} bytes`);
  }
  return encodeBase64Url(bytes);
}

export function formatInviteCode(code: Required<InviteCode>): string {
  try {
    requireServerToken(code.serverToken);
  } catch (err) {
    throw err instanceof CryptoError ? new CryptoError(err.code, `formatInviteCode: ${err.message}`) : err;
  }
  const secret = encodePart(code.admissionSecret, "admission secret", ADMISSION_SECRET_BYTES);
  const root = encodePart(code.rootFingerprint, "root fingerprint", IDENTITY_FINGERPRINT_BYTES);
  return `${code.serverToken}.${secret}.${root}`;
}

/**
 * One part (a server-side invite: the token alone) or exactly three. Surrounding white space
 * is dropped (pasting adds it); nothing inside is forgiven.
 */
export function parseInviteCode(text: string): InviteCode {
  if (typeof text !== "string" || text.trim().length === 0) throw invalid("the invite code is empty");
  const parts = text.trim().split(".");
  if (parts.length !== 1 && parts.length !== 3) {
    throw invalid(`the invite code has ${parts.length} parts separated by ".", it needs 3 (or 1 for a server token alone)`);
  }
  const [serverToken, secret, root] = parts as [string, string?, string?];
  requireServerToken(serverToken);
  if (secret === undefined || root === undefined) return { serverToken };
  return {
    serverToken,
    admissionSecret: decodePart(secret, "admission secret"),
    rootFingerprint: decodePart(root, "root fingerprint"),
  };
}
