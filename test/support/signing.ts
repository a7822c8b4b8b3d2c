// Identity keys for server tests: node:crypto Ed25519 key pairs signing statements built here, byte
// for byte as the API documents them (not with the server's or the client's code, so a mistake
// in either shows up as a refused signature).
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";

/** The UTF-8 of `dialtone/v1/<kind>|field|field…`. */
export function statement(kind: string, ...fields: Array<string | number>): Buffer {
  return Buffer.from(`dialtone/v1/${kind}|${fields.join("|")}`, "utf8");
}

export interface IdentityKey {
  /** Standard base64 of the 32 raw bytes. */
  publicKey: string;
  /** base64 of the 64-byte Ed25519 signature of the statement. */
  sign(kind: string, ...fields: Array<string | number>): string;
}

export function identityKey(): IdentityKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "jwk" }).x!;
  return {
    publicKey: Buffer.from(raw, "base64url").toString("base64"),
    sign: (kind, ...fields) => sign(null, statement(kind, ...fields), privateKey).toString("base64"),
  };
}

/** base64 of SHA-256 of a fresh 32-byte key: what a key statement signs. */
export function keyHash(): string {
  return createHash("sha256").update(randomBytes(32)).digest("base64");
}

/** base64 of 32 random bytes (an admission MAC as the server sees it). */
export function mac(): string {
  return randomBytes(32).toString("base64");
}
