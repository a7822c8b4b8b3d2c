// The admission request (ENCRYPTION.md §10.4): a new member proves it holds the invite's
// admission secret, bound to its account and identity key, so the minting admin's client can
// admit it; the server never sees the secret and cannot forge the MAC.
import { joinAad, requireContextField } from "./aad.js";
import { constantTimeEqual, encodeBase64 } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { requireIdentityPublicKey } from "./identity.js";
import { hmacSha256 } from "./primitives.js";

export const ADMISSION_SECRET_BYTES = 32;
export const ADMISSION_MAC_BYTES = 32;

function admissionRequestText(fn: string, admissionSecret: Uint8Array, userId: string, identityPublicKey: Uint8Array): Uint8Array {
  if (!(admissionSecret instanceof Uint8Array) || admissionSecret.length !== ADMISSION_SECRET_BYTES) {
    throw new CryptoError("invalid-input", `${fn}: admission secret must be ${ADMISSION_SECRET_BYTES} bytes`);
  }
  requireContextField(fn, "user id", userId);
  requireIdentityPublicKey(fn, "identity public key", identityPublicKey);
  return joinAad(fn, "admission-request", [userId, encodeBase64(identityPublicKey)]);
}

/** HMAC-SHA256(secret, `dialtone/v1/admission-request|{user_id}|{base64(identity public key)}`). */
export async function admissionMac(admissionSecret: Uint8Array, userId: string, identityPublicKey: Uint8Array): Promise<Uint8Array> {
  return hmacSha256(admissionSecret, admissionRequestText("admissionMac", admissionSecret, userId, identityPublicKey));
}

/** Recomputes the MAC and compares in constant time; a MAC of the wrong length is false. */
export async function verifyAdmissionMac(
  admissionSecret: Uint8Array,
  userId: string,
  identityPublicKey: Uint8Array,
  mac: Uint8Array,
): Promise<boolean> {
  const expected = await hmacSha256(
    admissionSecret,
    admissionRequestText("verifyAdmissionMac", admissionSecret, userId, identityPublicKey),
  );
  return mac instanceof Uint8Array && constantTimeEqual(expected, mac);
}
