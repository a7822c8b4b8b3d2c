// Options shared by the scenarios, from the command line (`npm run bench -- fanout --db pglite`).
export interface BenchOptions {
  /** Database for the scenarios that use one database (fan-out, streams). */
  db: "postgres" | "pglite";
  /** Capture a V8 CPU profile of the server during the 100 msg/s fan-out phase. */
  profile: boolean;
  /** Shorter phases and smaller counts, for a smoke run. */
  quick: boolean;
  /** Free-form key=value overrides (--set subscribers=500). */
  set: Record<string, string>;
}

export function num(o: BenchOptions, key: string, dflt: number): number {
  const v = o.set[key];
  return v === undefined ? dflt : Number(v);
}

export function list(o: BenchOptions, key: string, dflt: number[]): number[] {
  const v = o.set[key];
  return v === undefined ? dflt : v.split(",").map(Number);
}
