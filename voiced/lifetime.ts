// When a daemon started by a client exits by itself: once it is in no room and no client uses
// it (no WatchState stream open, no call in progress) for a moment. The moment covers a client
// that has just started it and not connected yet, and one that leaves and joins again.
export interface UseTrackerOptions {
  /** How long "idle and unused" must last before onUnused. */
  graceMs: number;
  /** The same right after start, before the first client had time to connect. */
  startGraceMs: number;
  /** Not in a room (and not joining one). */
  idle(): boolean;
  onUnused(): void;
}

export class UseTracker {
  private uses = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: UseTrackerOptions) {
    this.arm(o.startGraceMs);
  }

  /** One use (a watch stream, a call) until the returned function is called. */
  hold(): () => void {
    this.uses++;
    this.disarm();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.uses--;
      this.check();
    };
  }

  /** Call when the room state may have changed. */
  check(): void {
    if (this.uses === 0 && this.o.idle()) this.arm(this.o.graceMs);
    else this.disarm();
  }

  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private arm(ms: number): void {
    if (this.timer || this.stopped) return; // armed already: a later check does not postpone it
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped || this.uses > 0 || !this.o.idle()) return;
      this.stopped = true;
      this.o.onUnused();
    }, ms);
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
