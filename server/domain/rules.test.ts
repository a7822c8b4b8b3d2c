import { createHmac } from "node:crypto";
import { describe, expect, test } from "@jest/globals";
import { DomainError } from "./errors.js";
import { checkPasswordRules, hashPassword, verifyPassword } from "./passwords.js";
import { RateLimiter } from "./rate-limit.js";
import { newToken, secretEquals } from "./tokens.js";
import { iceServers } from "./turn.js";
import { hashUsername, normaliseUsername } from "./usernames.js";
import { sealed, uuid } from "./validate.js";

describe("usernames", () => {
  test("NFKC, trim and lower-case before hashing", () => {
    expect(normaliseUsername("  ＡＬＩＣＥ ")).toBe("alice");
    expect(hashUsername("pepper", normaliseUsername(" Alice"))).toBe(createHmac("sha256", "pepper").update("alice").digest("hex"));
  });
  test.each(["a", "x".repeat(33), "bad\u0007name", "zero\u200bwidth", "  "])("%j is refused naming the field", (name) => {
    expect(() => normaliseUsername(name)).toThrow(DomainError);
    expect(() => normaliseUsername(name)).toThrow(/^username: /);
  });
  test("32 characters (not bytes) are allowed", () => {
    expect(normaliseUsername("é".repeat(32))).toHaveLength(32);
  });
});

describe("passwords", () => {
  test("scrypt PHC string round trip; wrong password fails", async () => {
    const phc = await hashPassword("correct horse");
    expect(phc).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[^$]+\$[^$]+$/);
    expect(await verifyPassword("correct horse", phc)).toBe(true);
    expect(await verifyPassword("correct horsf", phc)).toBe(false);
    expect(await verifyPassword("x", "not a phc")).toBe(false);
  });
  test("length rules: 8 to 256 characters", () => {
    expect(() => checkPasswordRules("1234567")).toThrow(/^password: /);
    expect(() => checkPasswordRules("x".repeat(257))).toThrow(/^password: /);
    expect(() => checkPasswordRules("12345678")).not.toThrow();
  });
});

test("rate limiter counts per key per window", () => {
  let now = 0;
  const rl = new RateLimiter(2, 1000, () => now);
  expect([rl.hit("a"), rl.hit("a"), rl.hit("a"), rl.hit("b")]).toEqual([true, true, false, true]);
  now = 999;
  expect(rl.hit("a")).toBe(false);
  now = 1000;
  expect(rl.hit("a")).toBe(true);
});

test("secretEquals compares whole secrets", () => {
  expect(secretEquals("abc", "abc")).toBe(true);
  expect(secretEquals("abc", "abd")).toBe(false);
  expect(secretEquals("abc", "abcd")).toBe(false);
});

test("coturn REST credentials: expiry:user, base64 HMAC-SHA1 of the username", () => {
  const [stun, turn] = iceServers(["stun:h:3478", "turn:h:3478"], "sekrit", "user-1", 3600, 1_000_000_000);
  expect(stun).toEqual({ urls: ["stun:h:3478"], username: "", credential: "" });
  expect(turn!.username).toBe(`${1_000_000 + 3600}:user-1`);
  expect(turn!.credential).toBe(createHmac("sha1", "sekrit").update(turn!.username).digest("base64"));
  expect(iceServers(["turn:h"], undefined, "u", 60, 0)).toEqual([]);
});

test("validators name the field", () => {
  expect(() => uuid("channel_id", "nope")).toThrow("channel_id: must be a UUID");
  expect(() => sealed("encrypted_body", "AQAAAAE=", 100)).toThrow("encrypted_body: not a sealed value (version 1)");
  expect(() => sealed("encrypted_body", "!!!", 100)).toThrow("encrypted_body: must be standard base64");
});

test("tokens are 43 base64url characters and never start with '-' (they are pasted after a flag)", () => {
  const tokens = Array.from({ length: 5000 }, newToken);
  for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{42}$/);
  expect(new Set(tokens).size).toBe(tokens.length);
  // 5000 draws: the first character takes every allowed value, "-" excluded (1 in 64 before).
  expect(new Set(tokens.map((t) => t[0])).size).toBe(63);
});
