// Bearer secrets: 32 random bytes in base64url; the database keeps their SHA-256.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * 32 random bytes in base64url, never starting with "-": a token is pasted after a flag
 * (`--invite TOKEN`), and argument parsers read a leading "-" as another option. Drawing again
 * in that case (1 in 64) costs less than 0.03 of the 256 bits.
 */
export function newToken(): string {
  for (;;) {
    const token = randomBytes(32).toString("base64url");
    if (!token.startsWith("-")) return token;
  }
}
export const hashToken = (token: string) => createHash("sha256").update(token, "utf8").digest("hex");

/** Compares two secrets in constant time (over their digests, so lengths may differ). */
export function secretEquals(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}
