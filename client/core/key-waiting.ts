// Keys that other members' clients share with this device: reconciling (fetch ours, share what
// we hold), re-opening names once keys arrived, and waiting for a key a command needs.
import type { ClientParts } from "./client-parts.js";
import type { KeyScope } from "./keys.js";

export class KeyWaiting {
  readonly #p: ClientParts;
  /** Starts a live stream when none runs, so a KeyShared event ends a wait at once. */
  readonly #ensureLive: () => void;
  readonly #waiters = new Set<() => void>();
  #keysArrived = false;

  /** Runs before each reconcile: settling this device's identity and who is admitted. */
  readonly #before: () => Promise<unknown>;
  /** Runs after: backing up keys that arrived. */
  readonly #after: () => Promise<unknown>;

  constructor(parts: ClientParts, ensureLive: () => void, before: () => Promise<unknown>, after: () => Promise<unknown>) {
    this.#p = parts;
    this.#ensureLive = ensureLive;
    this.#before = before;
    this.#after = after;
  }

  /** Fetches keys shared with us and shares the keys we hold with devices lacking them. */
  async reconcile(): Promise<void> {
    await this.#before();
    await this.#p.keys.reconcile();
    await this.#p.store.flush();
    await this.#after();
    await this.reopenNamesIfKeysArrived();
  }

  /** A key arrived: names may open, and waits re-check. */
  keyArrived(): void {
    this.#keysArrived = true;
    this.wake();
  }

  /** Ends every wait now (it re-checks, and waits again if still nothing). */
  wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Re-opens channel and profile names if keys arrived since the last time. */
  async reopenNamesIfKeysArrived(): Promise<void> {
    if (!this.#keysArrived) return;
    this.#keysArrived = false;
    await this.#p.channels.reopen();
    // Names sealed with a key that just arrived open now; the rows may be stale without a stream.
    await this.#p.directory.refresh();
    this.#p.events.emit("channels-changed", this.#p.channels.list());
  }

  /**
   * Reconciles keys every second (and at once on KeyShared, via a live stream started for the
   * purpose) until `found` returns a value or `waitMs` passed.
   */
  async waitFor<T>(found: () => T | undefined, waitMs: number): Promise<T | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      await this.reconcile();
      const value = found();
      if (value !== undefined || Date.now() >= deadline) return value;
      this.#ensureLive();
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(1000, Math.max(0, deadline - Date.now())));
        this.#waiters.add(done);
      });
    }
  }

  /** "; an envelope offered was rejected: …" when one for these scopes was, else "". */
  rejectionHint(scopes: readonly KeyScope[]): string {
    for (const s of scopes) {
      const r = this.#p.keys.lastRejection(s);
      if (r) return `; an envelope offered was rejected: ${r}`;
    }
    return "";
  }
}
