import { describe, expect, test } from "@jest/globals";
import { DEFAULT_LOGIN_BACKOFF, LoginBackoff } from "./login-backoff.js";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** An attacker at one address who tries again the moment they may: how long `guesses` take. */
function attack(b: LoginBackoff, c: ReturnType<typeof clock>, guesses: number, address = "203.0.113.9"): number {
  const start = c.now();
  for (let made = 0; made < guesses; ) {
    const wait = b.begin("bob", address);
    if (wait > 0) c.advance(wait);
    else made++; // a wrong password: nothing else to do
  }
  return c.now() - start;
}

describe("LoginBackoff", () => {
  test("ten wrong passwords from one address do not lock the owner out: another address at once, the same one after a second", () => {
    const c = clock();
    const b = new LoginBackoff(DEFAULT_LOGIN_BACKOFF, c.now);
    for (let i = 0; i < 10; i++) expect(b.begin("bob", "203.0.113.9")).toBe(0);
    expect(b.begin("bob", "198.51.100.7")).toBe(0); // bob, elsewhere
    b.succeeded("bob", "198.51.100.7");
    expect(b.begin("bob", "203.0.113.9")).toBe(1000); // the same address: a short wait
    c.advance(1000);
    expect(b.begin("bob", "203.0.113.9")).toBe(0);
    b.succeeded("bob", "203.0.113.9"); // the right password clears the pair
    for (let i = 0; i < 10; i++) expect(b.begin("bob", "203.0.113.9")).toBe(0);
  });

  test("waits double from 1 s to 10 min; a refused attempt is not counted", () => {
    const c = clock();
    const b = new LoginBackoff(DEFAULT_LOGIN_BACKOFF, c.now);
    for (let i = 0; i < 10; i++) b.begin("bob", "a");
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      const w = b.begin("bob", "a");
      waits.push(w);
      expect(b.begin("bob", "a")).toBe(w); // asking again changes nothing
      c.advance(w);
      expect(b.begin("bob", "a")).toBe(0);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600].map((s) => s * 1000));
  });

  test("1,000 guesses from one address take at least the documented 6.8 days", () => {
    const c = clock();
    const b = new LoginBackoff(DEFAULT_LOGIN_BACKOFF, c.now);
    const took = attack(b, c, 1000);
    expect(took).toBe(b.minimumTimeMs(1000));
    expect(took / 86_400_000).toBeGreaterThan(6.8);
    expect(took / 86_400_000).toBeLessThan(6.9);
  });

  test("concurrent guesses cannot all use the free attempts: each is counted when it starts", () => {
    const b = new LoginBackoff(DEFAULT_LOGIN_BACKOFF, clock().now);
    const started = Array.from({ length: 1000 }, () => b.begin("bob", "a"));
    expect(started.filter((w) => w === 0)).toHaveLength(10);
  });

  test("spread over many addresses: after 100 failures, new addresses get one attempt before waiting; bob's own address keeps its", () => {
    const c = clock();
    const b = new LoginBackoff(DEFAULT_LOGIN_BACKOFF, c.now);
    expect(b.begin("bob", "home")).toBe(0);
    b.succeeded("bob", "home");
    for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) expect(b.begin("bob", `10.0.0.${i}`)).toBe(0);
    expect(b.begin("bob", "10.9.9.9")).toBe(0); // one attempt each, then waits
    expect(b.begin("bob", "10.9.9.9")).toBe(1000);
    for (let i = 0; i < 10; i++) expect(b.begin("bob", "home")).toBe(0);
    // Another account is not affected.
    for (let i = 0; i < 10; i++) expect(b.begin("alice", "10.9.9.9")).toBe(0);
  });

  test("failures are forgotten a day after the last one", () => {
    const c = clock();
    const b = new LoginBackoff(DEFAULT_LOGIN_BACKOFF, c.now);
    for (let i = 0; i < 10; i++) b.begin("bob", "a");
    expect(b.begin("bob", "a")).toBeGreaterThan(0);
    c.advance(DEFAULT_LOGIN_BACKOFF.forgetMs);
    for (let i = 0; i < 10; i++) expect(b.begin("bob", "a")).toBe(0);
  });
});
