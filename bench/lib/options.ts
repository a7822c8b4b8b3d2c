// Options shared by the scenarios, from the command line (`npm run bench -- fanout --db pglite`).
export interface BenchOptions {
  /** Database(s) of the fan-out scenario's server (the others choose theirs). */
  db: "postgres" | "pglite" | "both";
  /** V8 CPU profiles of the server (fastest fan-out phase, first Send variant, history pages), heap snapshots (streams). */
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
