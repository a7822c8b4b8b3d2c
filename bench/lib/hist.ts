// A log-bucketed latency histogram (1 % relative precision), mergeable across processes.
// Values are microseconds; min, max, count and sum are exact.

const RATIO = Math.log(1.01);
const BUCKETS = 2400; // up to ~2.4e10 µs

export interface HistogramData {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** [bucket index, count] pairs, non-empty buckets only. */
  buckets: Array<[number, number]>;
}

export interface Summary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class Histogram {
  private counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  record(us: number): void {
    const v = Math.max(us, 0);
    const i = v < 1 ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(v) / RATIO));
    this.counts[i]! += 1;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  merge(d: HistogramData): this {
    for (const [i, c] of d.buckets) this.counts[i]! += c;
    this.count += d.count;
    this.sum += d.sum;
    if (d.count) {
      this.min = Math.min(this.min, d.min);
      this.max = Math.max(this.max, d.max);
    }
    return this;
  }

  static from(list: Iterable<HistogramData>): Histogram {
    const h = new Histogram();
    for (const d of list) h.merge(d);
    return h;
  }

  /** The value at quantile q (0..1): the geometric middle of its bucket, clamped to [min, max]. */
  quantile(q: number): number {
    if (!this.count) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const mid = i === 0 ? 0.5 : Math.exp((i - 0.5) * RATIO);
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  summary(): Summary {
    return {
      count: this.count,
      mean: this.count ? this.sum / this.count : NaN,
      min: this.count ? this.min : NaN,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      max: this.count ? this.max : NaN,
    };
  }

  toJSON(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]) buckets.push([i, this.counts[i]!]);
    return { count: this.count, sum: this.sum, min: this.min, max: this.max, buckets };
  }
}

/** Microseconds on CLOCK_MONOTONIC: one clock for every process on this machine. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Summary in milliseconds, rounded for tables and JSON. */
export function msSummary(s: Summary): Record<keyof Summary, number> {
  const r = (v: number) => (Number.isFinite(v) ? Math.round(v) / 1000 : NaN);
  return { count: s.count, mean: r(s.mean), min: r(s.min), p50: r(s.p50), p90: r(s.p90), p99: r(s.p99), p999: r(s.p999), max: r(s.max) };
}
