// The bench's targets table (bench/lib/targets.ts): verdicts from result files shaped as the
// scenarios write them. Only the arithmetic and the table: the figures are never asserted.
import { describe, expect, test } from "@jest/globals";
import { evaluateTargets, formatTargets, type RunResults, type TargetRow } from "../bench/lib/targets.js";

const lat = (p50: number, p99: number) => ({ p50, p99 });

function fanoutResult(
  ours: { p50: number; p99: number; missing?: number; rssMB?: number },
  ws: { p50: number; p99: number },
  subscribers = 1000,
) {
  const rate = (l: { p50: number; p99: number }, missing: number, rssMB?: number) => ({
    rate: 30,
    latencyMs: lat(l.p50, l.p99),
    missing,
    expected: 150_000,
    ...(rssMB !== undefined ? { serverRssMaxMB: rssMB } : {}),
  });
  return {
    config: { subscribers },
    results: { dialtone: { rates: [rate(ours, ours.missing ?? 0, ours.rssMB)] }, ws: { rates: [rate(ws, 0, 60)] } },
  };
}

const row = (rows: TargetRow[], start: string): TargetRow => {
  const r = rows.find((x) => x.target.startsWith(start));
  if (!r) throw new Error(`no target row starting with ${start}`);
  return r;
};

describe("evaluateTargets", () => {
  test("with no results, every target is listed as not run, with the scenario that measures it", () => {
    const rows = evaluateTargets({});
    expect(rows.length).toBe(19);
    for (const r of rows) {
      expect(r.verdict).toBe("not run");
      expect(r.note).toMatch(/npm run bench -- \w+/);
    }
  });

  test("fan-out p99 is held to 1.5 × the raw ws p99 of the same run, p50 to raw ws + 5 ms", () => {
    const met = evaluateTargets({ fanout: fanoutResult({ p50: 24.9, p99: 150 }, { p50: 20, p99: 100 }) });
    expect(row(met, "fan-out @30/s on PostgreSQL: p99")).toMatchObject({ ours: 150, baseline: 100, limit: 150, verdict: "met" });
    expect(row(met, "fan-out @30/s on PostgreSQL: p99").note).toContain("goal 1.0 ×: not yet");
    expect(row(met, "fan-out @30/s on PostgreSQL: p50")).toMatchObject({ limit: 25, verdict: "met" });
    expect(row(met, "fan-out @30/s on PostgreSQL: nothing lost").verdict).toBe("met");
    // PGlite's rows stay unmeasured: a different result file.
    expect(row(met, "fan-out @30/s on PGlite: p99").verdict).toBe("not run");

    const missed = evaluateTargets({ fanoutPglite: fanoutResult({ p50: 25.1, p99: 151, missing: 3 }, { p50: 20, p99: 100 }) });
    expect(row(missed, "fan-out @30/s on PGlite: p99").verdict).toBe("MISSED");
    expect(row(missed, "fan-out @30/s on PGlite: p50").verdict).toBe("MISSED");
    expect(row(missed, "fan-out @30/s on PGlite: nothing lost")).toMatchObject({ ours: 3, verdict: "MISSED" });
  });

  test("a run below the issue's scale says so beside its verdict", () => {
    const rows = evaluateTargets({ fanout: fanoutResult({ p50: 1, p99: 1 }, { p50: 1, p99: 1 }, 200) });
    expect(row(rows, "fan-out @30/s on PostgreSQL: p50").note).toContain("at 200 subscribers, not 1,000");
  });

  test("the embedded server's RSS during fan-out comes from the PGlite fan-out run", () => {
    const rows = evaluateTargets({ fanoutPglite: fanoutResult({ p50: 1, p99: 1, rssMB: 301 }, { p50: 1, p99: 1 }) });
    expect(row(rows, "embedded server: RSS during fan-out")).toMatchObject({ ours: 301, baseline: 60, limit: 300, verdict: "MISSED" });
  });

  test("a Send left unanswered misses its targets whatever the latency of the answered ones", () => {
    const send = (unanswered: number) => ({
      results: {
        postgres: {
          ours: [{ rate: 200, rttMs: lat(3, 20), unansweredAfterTail: unanswered }],
          baseline: [{ rate: 200, rttMs: lat(1, 5), unansweredAfterTail: 0 }],
        },
      },
    });
    const ok = evaluateTargets({ send: send(0) });
    expect(row(ok, "Send @200/s on PostgreSQL: p50")).toMatchObject({ ours: 3, baseline: 1, verdict: "met" });
    expect(row(ok, "Send @200/s on PostgreSQL: p99")).toMatchObject({ ours: 20, limit: 25, verdict: "met" });
    const lost = evaluateTargets({ send: send(2) });
    expect(row(lost, "Send @200/s on PostgreSQL: p50").verdict).toBe("MISSED");
    expect(row(lost, "Send @200/s on PostgreSQL: p99").note).toBe("2 unanswered");
  });

  test("the CLI's --help limit follows node -e 0 of the same run; whoami and send have fixed limits", () => {
    const cli = (helpMs: number, whoamiMs: number, sendMs: number): RunResults => ({
      cli: { results: { nodeMs: 100, scryptFloorMs: 250, helpMs, whoamiMs, sendMs } },
    });
    const met = evaluateTargets(cli(350, 500, 700));
    expect(row(met, "dialtone --help")).toMatchObject({ limit: 350, verdict: "met" });
    expect(row(met, "dialtone whoami").verdict).toBe("met");
    expect(row(met, "dialtone send").verdict).toBe("met");
    const missed = evaluateTargets(cli(351, 501, 701));
    expect([row(missed, "dialtone --help"), row(missed, "dialtone whoami"), row(missed, "dialtone send")].map((r) => r.verdict)).toEqual([
      "MISSED",
      "MISSED",
      "MISSED",
    ]);
  });

  test("footprint rows read fresh and existing data dirs; streams held is a floor, not a ceiling", () => {
    const sample = (startMs: number, idleRssMB: number) => ({ startMs, idleRssMB });
    const rows = evaluateTargets({
      footprint: {
        results: {
          dialtone: { fresh: sample(5000, 140), existing: sample(3500, 151) },
          pglite: { fresh: sample(4000, 120), existing: sample(1000, 130) },
        },
      },
      streams: {
        results: {
          dialtone: { steps: [{ streams: 10_000, rssPerStreamKB: 14.6 }, { streams: 50_000 }] },
          ws: { steps: [{ streams: 10_000, rssPerStreamKB: 4.9 }, { streams: 19_000 }] },
        },
      },
    });
    expect(row(rows, "embedded server: idle RSS after a fresh start")).toMatchObject({ ours: 140, baseline: 120, verdict: "met" });
    expect(row(rows, "embedded server: idle RSS after a restart")).toMatchObject({ ours: 151, verdict: "MISSED" });
    expect(row(rows, "embedded server: start-up on an existing")).toMatchObject({ ours: 3500, limit: 3000, verdict: "MISSED" });
    expect(row(rows, "embedded server: start-up on a fresh")).toMatchObject({ ours: 5000, limit: 6000, verdict: "met" });
    expect(row(rows, "idle streams: RSS per stream").verdict).toBe("MISSED"); // 14.6 > 13.8 × 1.05
    expect(row(rows, "idle streams: 50,000 held")).toMatchObject({ ours: 50_000, baseline: 19_000, verdict: "met" });
  });
});

describe("formatTargets", () => {
  test("one aligned line per target under a header, and the count of each verdict", () => {
    const rows = evaluateTargets({ cli: { results: { nodeMs: 100, scryptFloorMs: 250, helpMs: 300, whoamiMs: 900, sendMs: 600 } } });
    const lines = formatTargets("targets", rows).trimEnd().split("\n");
    expect(lines[0]).toBe("== targets");
    expect(lines[1]).toMatch(/^target\s+ours\s+baseline\s+limit\s+unit\s+verdict$/);
    expect(lines).toHaveLength(3 + rows.length + 1);
    const help = lines.find((l) => l.startsWith("dialtone --help"))!;
    expect(help).toMatch(/\s300\s+100\s+350\s+ms\s+met\s/);
    expect(lines.find((l) => l.startsWith("dialtone whoami"))).toMatch(/\s900\s+250\s+500\s+ms\s+MISSED\s/);
    // Columns line up: every figure column ends where the header's does.
    const end = lines[1]!.indexOf("baseline") + "baseline".length;
    expect(help.slice(0, end)).toMatch(/100$/);
    expect(lines.at(-1)).toBe(`2 met, 1 missed, ${rows.length - 3} not run`);
  });
});
