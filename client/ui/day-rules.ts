// Date lines between days in the message pane ("── Tuesday 1 December ──"), in local time. Pure:
// ChatState places one before the first entry of each day it holds.

export interface DayRule {
  /** The day, "YYYY-MM-DD" (local): one rule per day and pane. */
  readonly key: string;
  /** Sort order in the pane: just before the day's first entry (its seq - 1; equal orders keep arrival order). */
  readonly order: bigint;
  readonly time: Date;
  readonly label: string;
}

const two = (n: number) => String(n).padStart(2, "0");
const dayKey = (d: Date) => `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;

/** "Tuesday 1 December", with the year when it is not this year's. */
export function dayLabel(time: Date, now: Date = new Date()): string {
  const options: Intl.DateTimeFormatOptions = { weekday: "long", day: "numeric", month: "long" };
  if (time.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return time.toLocaleDateString("en-GB", options).replace(",", "");
}

/** A rule before the first entry of each day among `entries` (in seq order). */
export function dayRules(entries: readonly { readonly seq: bigint; readonly time: Date }[], now: Date = new Date()): DayRule[] {
  const out: DayRule[] = [];
  let last: string | undefined;
  for (const e of entries) {
    if (Number.isNaN(e.time.getTime())) continue;
    const key = dayKey(e.time);
    if (key === last) continue;
    last = key;
    // The same day met again further on (clocks): keep its first place.
    if (out.some((r) => r.key === key)) continue;
    out.push({ key, order: e.seq - 1n, time: e.time, label: dayLabel(e.time, now) });
  }
  return out;
}
