// Password hashing with scrypt (node:crypto) in a PHC-style string:
// $scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { invalid } from "./errors.js";

const LN = 15;
const R = 8;
const P = 1;
const KEYLEN = 32;

function derive(password: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  return new Promise((ok, fail) =>
    scrypt(password.normalize("NFKC"), salt, KEYLEN, { N: 2 ** ln, r, p, maxmem: 256 * 2 ** ln * r * p }, (err, key) =>
      err ? fail(err) : ok(key),
    ),
  );
}

export function checkPasswordRules(password: string): void {
  const n = [...password].length;
  if (n < 8 || n > 256) throw invalid("password", "must be 8-256 characters");
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, LN, R, P);
  return `$scrypt$ln=${LN},r=${R},p=${P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/.exec(phc);
  if (!m) return false;
  const expected = Buffer.from(m[5]!, "base64");
  const key = await derive(password, Buffer.from(m[4]!, "base64"), Number(m[1]), Number(m[2]), Number(m[3]));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

// A fixed hash to verify against when the user does not exist, so that an unknown
// username takes as long as a wrong password.
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  return (dummy ??= hashPassword("dialtone-timing-equaliser"));
}
