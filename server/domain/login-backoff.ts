// Login attempts slowed per (account, client address) pair, never an account lockout.
//
// The old rule blocked an account for a minute after 10 failures from anywhere: anyone could keep
// its owner out. Now each pair gets `freeFailures` attempts, then waits that double from `baseMs`
// up to `maxMs` between attempts; a success clears the pair. The owner at another address is not
// slowed at all. Against an attacker spread over many addresses, once an account has collected
// `accountFailures` failures (in `forgetMs`), addresses it has never logged in from get one
// attempt before the waits start, while addresses it has used keep all of theirs. Every attempt counts as
// a failure when it starts (a success clears it), so concurrent guesses cannot all slip through
// the free ones. In memory, per process, like the per-address limit.

export interface LoginBackoffPolicy {
  /** Attempts a pair may make before waits start. */
  freeFailures: number;
  /** The first wait; each further failure doubles it. */
  baseMs: number;
  /** The longest wait between two attempts of one pair. */
  maxMs: number;
  /** Failures are forgotten this long after a pair's (or an account's) last one. */
  forgetMs: number;
  /** Account-wide failures after which unknown addresses get one attempt before waiting. */
  accountFailures: number;
}

export const DEFAULT_LOGIN_BACKOFF: LoginBackoffPolicy = {
  freeFailures: 10,
  baseMs: 1000,
  maxMs: 10 * 60_000,
  forgetMs: 24 * 3600_000,
  accountFailures: 100,
};

interface Pair {
  failures: number;
  lastAt: number;
}

interface Account {
  failures: number;
  lastAt: number;
  /** Addresses that logged in to this account successfully. */
  known: Set<string>;
}

const MAX_ENTRIES = 200_000;

export class LoginBackoff {
  private readonly pairs = new Map<string, Pair>();
  private readonly accounts = new Map<string, Account>();

  constructor(
    readonly policy: LoginBackoffPolicy = DEFAULT_LOGIN_BACKOFF,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Starts an attempt: 0 when it may go ahead (and it is counted), else the milliseconds until
   * this pair may try again (nothing counted, the password not even checked).
   */
  begin(account: string, address: string): number {
    const t = this.now();
    const acc = this.live(this.accounts, account, t);
    const key = `${account}|${address}`;
    const pair = this.live(this.pairs, key, t);
    const free = acc && acc.failures >= this.policy.accountFailures && !acc.known.has(address) ? 1 : this.policy.freeFailures;
    const failures = pair?.failures ?? 0;
    if (pair && failures >= free) {
      const wait = Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(30, failures - free));
      const left = pair.lastAt + wait - t;
      if (left > 0) return left;
    }
    this.pairs.set(key, { failures: failures + 1, lastAt: t });
    const a = acc ?? { failures: 0, lastAt: t, known: new Set<string>() };
    a.failures++;
    a.lastAt = t;
    this.accounts.set(account, a);
    this.sweep(t);
    return 0;
  }

  /** The attempt begun for this pair had the right password: the pair starts afresh. */
  succeeded(account: string, address: string): void {
    this.pairs.delete(`${account}|${address}`);
    const acc = this.accounts.get(account);
    if (!acc) return;
    acc.failures = Math.max(0, acc.failures - 1); // this attempt was not a failure
    acc.known.add(address);
  }

  /** Milliseconds a whole run of `guesses` attempts by one pair takes at least (docs, tests). */
  minimumTimeMs(guesses: number): number {
    let total = 0;
    for (let failures = this.policy.freeFailures; failures < guesses; failures++) {
      total += Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(30, failures - this.policy.freeFailures));
    }
    return total;
  }

  private live<T extends { lastAt: number }>(map: Map<string, T>, key: string, t: number): T | undefined {
    const v = map.get(key);
    if (v && t - v.lastAt >= this.policy.forgetMs) {
      map.delete(key);
      return undefined;
    }
    return v;
  }

  private sweep(t: number): void {
    for (const map of [this.pairs, this.accounts] as Map<string, { lastAt: number }>[]) {
      if (map.size <= MAX_ENTRIES) continue;
      for (const [k, v] of map) if (t - v.lastAt >= this.policy.forgetMs) map.delete(k);
      // Still full (a flood of fresh addresses): drop the oldest half; they start afresh.
      if (map.size > MAX_ENTRIES) for (const k of [...map.keys()].slice(0, map.size / 2)) map.delete(k);
    }
  }
}
