// The signed statements of signed identities (docs/API.md, IdentityService), byte for byte as
// clients sign them, and their check.
// A statement is the UTF-8 of `dialtone/v1/<kind>|field|field…`; its signature is Ed25519 by an
// identity key. The server checks every signature it stores (defence in depth: clients check
// them again and never rely on this), so a bad one is refused naming its field.
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { AdmissionRole } from "../../gen/dialtone/v1/identity_pb.js";
import { invalid } from "./errors.js";

const PREFIX = "dialtone/v1/";

/** Fields are ids, base64, numbers and role words: none can hold the separator. */
function statement(kind: string, ...fields: Array<string | number>): Buffer {
  return Buffer.from(`${PREFIX}${kind}|${fields.join("|")}`, "utf8");
}

/** The word a role is signed as. */
export function roleWord(role: AdmissionRole.MEMBER | AdmissionRole.ADMIN): "member" | "admin" {
  return role === AdmissionRole.ADMIN ? "admin" : "member";
}

export const deviceCertificate = (userId: string, deviceId: string, devicePublicKey: string) =>
  statement("device-cert", userId, deviceId, devicePublicKey);

export const deviceRevocation = (userId: string, deviceId: string) => statement("device-revoked", userId, deviceId);

export const admission = (userId: string, identityPublicKey: string, role: AdmissionRole.MEMBER | AdmissionRole.ADMIN) =>
  statement("admission", userId, identityPublicKey, roleWord(role));

export const removal = (userId: string, identityPublicKey: string) => statement("removal", userId, identityPublicKey);

export const channelKey = (channelId: string, epoch: number, keyHash: string) => statement("channel-key", channelId, epoch, keyHash);

export const directoryKey = (epoch: number, keyHash: string) => statement("directory-key", epoch, keyHash);

/** Checks signatures under one identity key; see requireSigned. */
export type Verifier = (field: string, data: Buffer, signature: string) => void;

/**
 * A verifier for `identityKey` (base64 of 32 bytes, checked by validate.identityKey): it refuses a
 * `signature` (base64 of 64 bytes, checked by validate.signature) that is not the key's Ed25519
 * signature of `data`, naming the field. `whose` says in the error which identity key was meant.
 */
export function verifierFor(identityKey: string, whose = "the identity key"): Verifier {
  let key: KeyObject | undefined;
  try {
    key = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(identityKey, "base64").toString("base64url") },
      format: "jwk",
    });
  } catch {
    // A key OpenSSL will not load verifies nothing (none was seen to throw; this keeps it a 400, not a 500).
  }
  return (field, data, signature) => {
    if (!key || !verify(null, data, key, Buffer.from(signature, "base64"))) {
      throw invalid(field, `the signature does not verify under ${whose}`);
    }
  };
}

/** One signature check: verifierFor(identityKey, whose)(field, data, signature). */
export function requireSigned(field: string, data: Buffer, signature: string, identityKey: string, whose?: string): void {
  verifierFor(identityKey, whose)(field, data, signature);
}
