// The targets of issue 14 ("Speed and footprint"), checked against the JSON the scenarios of
// this run wrote: one last table (each target, our figure, the baseline measured in the same run,
// the limit it implies, met or missed), kept in bench/results/summary.json. A target whose
// scenario did not run in this run says so, so a partial run still lists every target.
// Measured, never asserted in tests (test/bench-targets.test.ts checks the verdicts' arithmetic).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { BENCH_DIR } from "./proc.js";
import { fmt, writeResult } from "./report.js";

// biome-ignore lint/suspicious/noExplicitAny: result files of every scenario, read loosely
type Json = Record<string, any>;

/** The result files the targets read: fan-out on each database, and the other scenarios. */
export interface RunResults {
  fanout?: Json;
  fanoutPglite?: Json;
  send?: Json;
  history?: Json;
  streams?: Json;
  footprint?: Json;
  cli?: Json;
}

export type Verdict = "met" | "MISSED" | "not run";

export interface TargetRow {
  target: string;
  ours?: number;
  baseline?: number;
  /** What ours must not exceed (or, for `atLeast` rows, fall below), from the baseline when there is one. */
  limit?: number;
  unit: string;
  verdict: Verdict;
  /** How the limit follows from the baseline, the scale measured, or why it did not run. */
  note?: string;
}

/** The load the figures are for; a smaller run (--quick, --set) says so beside its verdict. */
export const SCALE = { subscribers: 1000, fanoutRate: 30, sendRate: 200, historyMessages: 1_000_000, idleStreams: 10_000 };
/** The idle-stream figures of issue 7's latest full run (docs/PERFORMANCE.md), which must not regress. */
export const STREAMS_BEFORE = { rssPerStreamKB: 13.8, held: 50_000 };
/** Run-to-run spread of the RSS per stream on one build (13.8–14.2 KB over a day's runs). */
const STREAMS_NOISE = 1.05;

const upTo = (ours: number | undefined, limit: number): Verdict =>
  ours === undefined || !Number.isFinite(ours) ? "not run" : ours <= limit ? "met" : "MISSED";
const atLeast = (ours: number | undefined, limit: number): Verdict => (ours === undefined ? "not run" : ours >= limit ? "met" : "MISSED");
const notRun = (target: string, unit: string, scenario: string): TargetRow => ({
  target,
  unit,
  verdict: "not run",
  note: `run \`npm run bench -- ${scenario}\``,
});
const scaleNote = (what: string, measured: number, want: number) =>
  measured < want ? `at ${measured.toLocaleString("en-US")} ${what}, not ${want.toLocaleString("en-US")}` : undefined;
const join = (...parts: Array<string | undefined>) => parts.filter(Boolean).join("; ") || undefined;

function fanoutRows(j: Json | undefined, db: string): TargetRow[] {
  const title = `fan-out @${SCALE.fanoutRate}/s on ${db}`;
  const a = (j?.results?.dialtone?.rates as Json[] | undefined)?.find((r) => r.rate === SCALE.fanoutRate);
  const b = (j?.results?.ws?.rates as Json[] | undefined)?.find((r) => r.rate === SCALE.fanoutRate);
  const scenario = `fanout --db ${db === "PostgreSQL" ? "postgres" : "pglite"}`;
  if (!a || !b)
    return [
      notRun(`${title}: p99 ≤ 1.5 × raw ws`, "ms", scenario),
      notRun(`${title}: p50 ≤ raw ws + 5 ms`, "ms", scenario),
      notRun(`${title}: nothing lost`, "", scenario),
    ];
  const scale = scaleNote("subscribers", j!.config.subscribers, SCALE.subscribers);
  const p99Limit = 1.5 * b.latencyMs.p99;
  return [
    {
      target: `${title}: p99 ≤ 1.5 × raw ws`,
      ours: a.latencyMs.p99,
      baseline: b.latencyMs.p99,
      limit: p99Limit,
      unit: "ms",
      verdict: upTo(a.latencyMs.p99, p99Limit),
      note: join(`goal 1.0 ×: ${a.latencyMs.p99 <= b.latencyMs.p99 ? "met" : "not yet"}`, scale),
    },
    {
      target: `${title}: p50 ≤ raw ws + 5 ms`,
      ours: a.latencyMs.p50,
      baseline: b.latencyMs.p50,
      limit: b.latencyMs.p50 + 5,
      unit: "ms",
      verdict: upTo(a.latencyMs.p50, b.latencyMs.p50 + 5),
      note: scale,
    },
    {
      target: `${title}: nothing lost`,
      ours: a.missing,
      baseline: b.missing,
      limit: 0,
      unit: "",
      verdict: upTo(a.missing, 0),
      note: join(`of ${a.expected.toLocaleString("en-US")} deliveries`, scale),
    },
  ];
}

function sendRows(j: Json | undefined): TargetRow[] {
  const title = `Send @${SCALE.sendRate}/s on PostgreSQL`;
  const a = (j?.results?.postgres?.ours as Json[] | undefined)?.find((r) => r.rate === SCALE.sendRate);
  const b = (j?.results?.postgres?.baseline as Json[] | undefined)?.find((r) => r.rate === SCALE.sendRate);
  if (!a) return [notRun(`${title}: p50 ≤ 5 ms`, "ms", "send"), notRun(`${title}: p99 ≤ 25 ms`, "ms", "send")];
  const lost = a.unansweredAfterTail > 0 ? `${a.unansweredAfterTail} unanswered` : undefined;
  const base = "baseline: ws + 1 SQL statement";
  return [
    {
      target: `${title}: p50 ≤ 5 ms`,
      ours: a.rttMs.p50,
      baseline: b?.rttMs.p50,
      limit: 5,
      unit: "ms",
      verdict: lost ? "MISSED" : upTo(a.rttMs.p50, 5),
      note: join(base, lost),
    },
    {
      target: `${title}: p99 ≤ 25 ms`,
      ours: a.rttMs.p99,
      baseline: b?.rttMs.p99,
      limit: 25,
      unit: "ms",
      verdict: lost ? "MISSED" : upTo(a.rttMs.p99, 25),
      note: lost,
    },
  ];
}

function historyRows(j: Json | undefined): TargetRow[] {
  const title = "history page of 100 at 1M messages: p99 ≤ 10 ms";
  const h = j?.results?.postgres as Json | undefined;
  if (!h) return [notRun(title, "ms", "history")];
  const p99 = Math.max(h.ours.randomMs.p99, h.ours.newestMs.p99);
  return [
    {
      target: title,
      ours: p99,
      baseline: Math.max(h.bareSql.randomMs.p99, h.bareSql.newestMs.p99),
      limit: 10,
      unit: "ms",
      verdict: upTo(p99, 10),
      note: join(
        "PostgreSQL; worse of newest and random-depth pages; baseline: the bare SQL",
        scaleNote("messages", h.messages, SCALE.historyMessages),
      ),
    },
  ];
}

function footprintRows(fp: Json | undefined, fan: Json | undefined): TargetRow[] {
  const rows: TargetRow[] = [];
  const f = fp?.results as Json | undefined;
  const base = "baseline: PGlite alone in a node process";
  const add = (target: string, key: "idleRssMB" | "startMs", phase: "fresh" | "existing", limit: number, unit: string) =>
    rows.push(
      f
        ? {
            target,
            ours: f.dialtone[phase][key],
            baseline: f.pglite[phase][key],
            limit,
            unit,
            verdict: upTo(f.dialtone[phase][key], limit),
            note: base,
          }
        : notRun(target, unit, "footprint"),
    );
  add("embedded server: idle RSS after a fresh start ≤ 150 MB", "idleRssMB", "fresh", 150, "MB");
  add("embedded server: idle RSS after a restart ≤ 150 MB", "idleRssMB", "existing", 150, "MB");
  const a = (fan?.results?.dialtone?.rates as Json[] | undefined)?.find((r) => r.rate === SCALE.fanoutRate);
  const b = (fan?.results?.ws?.rates as Json[] | undefined)?.find((r) => r.rate === SCALE.fanoutRate);
  const during = `embedded server: RSS during fan-out @${SCALE.fanoutRate}/s ≤ 300 MB`;
  rows.push(
    a?.serverRssMaxMB !== undefined
      ? {
          target: during,
          ours: a.serverRssMaxMB,
          baseline: b?.serverRssMaxMB,
          limit: 300,
          unit: "MB",
          verdict: upTo(a.serverRssMaxMB, 300),
          note: join("the most sampled; baseline: the raw ws server", scaleNote("subscribers", fan!.config.subscribers, SCALE.subscribers)),
        }
      : notRun(during, "MB", "fanout --db pglite"),
  );
  add("embedded server: start-up on an existing data dir ≤ 3 s", "startMs", "existing", 3000, "ms");
  add("embedded server: start-up on a fresh data dir ≤ 6 s", "startMs", "fresh", 6000, "ms");
  return rows;
}

function cliRows(j: Json | undefined): TargetRow[] {
  const c = j?.results as Json | undefined;
  const help = "dialtone --help ≤ 2 × node -e 0 + 150 ms";
  const whoami = "dialtone whoami (local server) ≤ 500 ms";
  const send = "dialtone send (local server) ≤ 700 ms";
  if (!c) return [notRun(help, "ms", "cli"), notRun(whoami, "ms", "cli"), notRun(send, "ms", "cli")];
  const helpLimit = 2 * c.nodeMs + 150;
  const floor = "baseline: node starting and running the keystore's scrypt";
  return [
    {
      target: help,
      ours: c.helpMs,
      baseline: c.nodeMs,
      limit: helpLimit,
      unit: "ms",
      verdict: upTo(c.helpMs, helpLimit),
      note: "baseline: node -e 0; medians",
    },
    { target: whoami, ours: c.whoamiMs, baseline: c.scryptFloorMs, limit: 500, unit: "ms", verdict: upTo(c.whoamiMs, 500), note: floor },
    { target: send, ours: c.sendMs, baseline: c.scryptFloorMs, limit: 700, unit: "ms", verdict: upTo(c.sendMs, 700), note: floor },
  ];
}

function streamsRows(j: Json | undefined): TargetRow[] {
  const per = `idle streams: RSS per stream at 10k ≤ ${STREAMS_BEFORE.rssPerStreamKB} KB (no regression)`;
  const held = `idle streams: ${STREAMS_BEFORE.held.toLocaleString("en-US")} held (no regression)`;
  const a = j?.results?.dialtone as Json | undefined;
  if (!a?.steps?.length) return [notRun(per, "KB", "streams"), notRun(held, "", "streams")];
  const s0 = a.steps[0] as Json;
  const most = (a.steps as Json[]).at(-1)!.streams as number;
  const limit = STREAMS_BEFORE.rssPerStreamKB * STREAMS_NOISE;
  return [
    {
      target: per,
      ours: s0.rssPerStreamKB,
      baseline: j!.results.ws?.steps?.[0]?.rssPerStreamKB,
      limit,
      unit: "KB",
      verdict: upTo(s0.rssPerStreamKB, limit),
      note: join("limit: the figure before + 5 % run-to-run spread; baseline: raw ws", scaleNote("streams", s0.streams, SCALE.idleStreams)),
    },
    {
      target: held,
      ours: most,
      baseline: (j!.results.ws?.steps as Json[] | undefined)?.at(-1)?.streams,
      limit: STREAMS_BEFORE.held,
      unit: "",
      verdict: atLeast(most, STREAMS_BEFORE.held),
      note: "at least; baseline: raw ws (one socket each, stops at the fd limit)",
    },
  ];
}

/** Every target of issue 14, in the order, from this run's results. */
export function evaluateTargets(r: RunResults): TargetRow[] {
  return [
    ...fanoutRows(r.fanout, "PostgreSQL"),
    ...fanoutRows(r.fanoutPglite, "PGlite"),
    ...sendRows(r.send),
    ...historyRows(r.history),
    ...footprintRows(r.footprint, r.fanoutPglite),
    ...cliRows(r.cli),
    ...streamsRows(r.streams),
  ];
}

/** The targets as a plain-text table: target, ours, baseline, limit, unit, verdict, note. */
export function formatTargets(title: string, rows: TargetRow[]): string {
  const head = ["target", "ours", "baseline", "limit", "unit", "verdict"];
  const body = rows.map((r) => [r.target, fmt(r.ours), fmt(r.baseline), fmt(r.limit), r.unit, r.verdict + (r.note ? `  (${r.note})` : "")]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const right = new Set([1, 2, 3]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const met = rows.filter((r) => r.verdict === "met").length;
  const missed = rows.filter((r) => r.verdict === "MISSED").length;
  return [
    `== ${title}`,
    line(head),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...body.map(line),
    `${met} met, ${missed} missed, ${rows.length - met - missed} not run`,
    "",
  ].join("\n");
}

async function load(file: string, since: number): Promise<Json | undefined> {
  try {
    const j = JSON.parse(await readFile(path.join(BENCH_DIR, "results", `${file}.json`), "utf8")) as Json;
    return Date.parse(j.at) >= since ? j : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the result files written since `since`, prints the targets table and writes summary.json. */
export async function checkTargets(since: number, elapsedS: number): Promise<TargetRow[]> {
  const files = {
    fanout: "fanout",
    fanoutPglite: "fanout-pglite",
    send: "send",
    history: "history",
    streams: "streams",
    footprint: "footprint",
    cli: "cli",
  };
  const r: RunResults = {};
  for (const [k, f] of Object.entries(files)) {
    const j = await load(f, since);
    if (j) r[k as keyof RunResults] = j;
  }
  const rows = evaluateTargets(r);
  process.stdout.write(`\n${formatTargets("targets (issue 14): ours, the baseline of this run, the limit, met or missed", rows)}`);
  await writeResult("summary", { elapsedS, targets: rows });
  return rows;
}
