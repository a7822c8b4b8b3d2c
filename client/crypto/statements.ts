// Signed statements (ENCRYPTION.md §10.2): the UTF-8 text `dialtone/v1/{kind}|field|…` signed
// with an account's Ed25519 identity key. The server stores and routes them but cannot make one.
import { AAD_PREFIX, requireContextField, requireEpoch } from "./aad.js";
import { decodeBase64, encodeBase64, utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { requireIdentityPublicKey } from "./identity.js";
import { KEY_BYTES, X25519_KEY_BYTES, ed25519Sign, ed25519Verify, sha256 } from "./primitives.js";

export type AdmissionRoleName = "member" | "admin";

export type Statement =
  /** Binds a device id and its X25519 key to the account's identity. */
  | { readonly kind: "device-cert"; readonly userId: string; readonly deviceId: string; readonly devicePublicKey: Uint8Array }
  | { readonly kind: "device-revoked"; readonly userId: string; readonly deviceId: string }
  /** Makes the account with this identity key a member or admin (signed by an admin; the root signs its own). */
  | { readonly kind: "admission"; readonly userId: string; readonly identityPublicKey: Uint8Array; readonly role: AdmissionRoleName }
  | { readonly kind: "removal"; readonly userId: string; readonly identityPublicKey: Uint8Array }
  /** Vouches for a channel key by its SHA-256 (see keyHash), never the key itself. */
  | { readonly kind: "channel-key"; readonly channelId: string; readonly epoch: number; readonly keyHash: Uint8Array }
  | { readonly kind: "directory-key"; readonly epoch: number; readonly keyHash: Uint8Array };

export type StatementKind = Statement["kind"];

export const KEY_HASH_BYTES = 32;

function bytesField(fn: string, name: string, bytes: Uint8Array, length: number): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new CryptoError("invalid-input", `${fn}: ${name} must be ${length} bytes`);
  }
  return encodeBase64(bytes);
}

function textField(fn: string, name: string, value: string): string {
  requireContextField(fn, name, value);
  return value;
}

function epochField(fn: string, epoch: number): string {
  requireEpoch(fn, epoch);
  return String(epoch);
}

function fieldsOf(fn: string, s: Statement): readonly string[] {
  switch (s.kind) {
    case "device-cert":
      return [
        textField(fn, "user id", s.userId),
        textField(fn, "device id", s.deviceId),
        bytesField(fn, "device public key", s.devicePublicKey, X25519_KEY_BYTES),
      ];
    case "device-revoked":
      return [textField(fn, "user id", s.userId), textField(fn, "device id", s.deviceId)];
    case "admission":
      if (s.role !== "member" && s.role !== "admin") throw new CryptoError("invalid-input", `${fn}: role must be "member" or "admin"`);
      requireIdentityPublicKey(fn, "identity public key", s.identityPublicKey);
      return [textField(fn, "user id", s.userId), encodeBase64(s.identityPublicKey), s.role];
    case "removal":
      requireIdentityPublicKey(fn, "identity public key", s.identityPublicKey);
      return [textField(fn, "user id", s.userId), encodeBase64(s.identityPublicKey)];
    case "channel-key":
      return [textField(fn, "channel id", s.channelId), epochField(fn, s.epoch), bytesField(fn, "key hash", s.keyHash, KEY_HASH_BYTES)];
    case "directory-key":
      return [epochField(fn, s.epoch), bytesField(fn, "key hash", s.keyHash, KEY_HASH_BYTES)];
    default:
      throw new CryptoError("invalid-input", `${fn}: unknown statement kind`);
  }
}

function textOf(fn: string, s: Statement): string {
  if (typeof s !== "object" || s === null) throw new CryptoError("invalid-input", `${fn}: statement must be an object`);
  return [AAD_PREFIX + s.kind, ...fieldsOf(fn, s)].join("|");
}

/** The exact string that is signed; its UTF-8 bytes are the Ed25519 message. */
export function statementText(s: Statement): string {
  return textOf("statementText", s);
}

/** Signs with the 32-byte identity seed; returns the 64-byte signature as standard base64 (88 chars). */
export async function signStatement(identityPrivateKey: Uint8Array, s: Statement): Promise<string> {
  const message = utf8Encode(textOf("signStatement", s));
  return encodeBase64(await ed25519Sign(identityPrivateKey, message));
}

/**
 * False for any signature that does not verify, including text that is not 64 bytes of
 * canonical base64: signatures come from the server. Malformed statement fields or a public key
 * of the wrong length throw CryptoError: those are the caller's own data.
 */
export async function verifyStatement(identityPublicKey: Uint8Array, s: Statement, signatureB64: string): Promise<boolean> {
  const message = utf8Encode(textOf("verifyStatement", s));
  requireIdentityPublicKey("verifyStatement", "identity public key", identityPublicKey);
  let signature: Uint8Array;
  try {
    signature = decodeBase64(signatureB64);
  } catch {
    return false;
  }
  return ed25519Verify(identityPublicKey, message, signature);
}

/** SHA-256 of a 32-byte channel or directory key: what key statements carry. */
export async function keyHash(key: Uint8Array): Promise<Uint8Array> {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new CryptoError("invalid-input", `keyHash: key must be ${KEY_BYTES} bytes`);
  }
  return sha256(key);
}
