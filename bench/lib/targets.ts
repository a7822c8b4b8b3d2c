// The targets of issue 7 (acceptance 4), checked against the JSON this run wrote: printed as
// a last table and kept in bench/results/summary.json. Measured, never asserted in tests.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { BENCH_DIR } from "./proc.js";
import { printTable, writeResult, type Row } from "./report.js";

// biome-ignore lint/suspicious/noExplicitAny: result files of every scenario, read loosely
type Json = Record<string, any>;

async function load(scenario: string, since: number): Promise<Json | undefined> {
  try {
    const j = JSON.parse(await readFile(path.join(BENCH_DIR, "results", `${scenario}.json`), "utf8")) as Json;
    return Date.parse(j.at) >= since ? j : undefined;
  } catch {
    return undefined;
  }
}

export async function checkTargets(since: number, elapsedS: number): Promise<void> {
  const rows: Row[] = [];
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  const fan = await load("fanout", since);
  if (fan) {
    for (const [i, a] of (fan.results.dialtone.rates as Json[]).entries()) {
      const b = fan.results.ws.rates[i] as Json;
      const c = fan.results["ws-sql"]?.rates[i] as Json | undefined;
      for (const q of ["p50", "p99"] as const) {
        const vsSql = c ? `; vs ws + SQL ${c.latencyMs[q]} ms: ${c.latencyMs[q] >= a.latencyMs[q] ? "no worse" : "worse"}` : "";
        rows.push({
          metric: `fan-out @${a.rate}/s latency ${q} ≤ raw ws`,
          ours: a.latencyMs[q],
          baseline: b.latencyMs[q],
          unit: "ms",
          note: verdict(a.latencyMs[q] <= b.latencyMs[q]) + vsSql,
        });
      }
    }
  }
  const st = await load("streams", since);
  if (st) {
    const s0 = st.results.dialtone.steps[0] as Json;
    rows.push({
      metric: `≥ 10k idle streams < 40 KB RSS each`,
      ours: s0.rssPerStreamKB,
      baseline: 40,
      unit: "KB",
      note: `${verdict(s0.streams >= 10_000 && s0.rssPerStreamKB < 40)} at ${s0.streams} streams`,
    });
  }
  const send = await load("send", since);
  if (send) {
    for (const v of ["postgres", "postgres-durable"]) {
      const r = (send.results[v]?.ours as Json[] | undefined)?.find((x) => x.rate === send.config.rate);
      if (r)
        rows.push({
          metric: `Send p99 < 10 ms on ${v} @${r.rate}/s`,
          ours: r.rttMs.p99,
          baseline: 10,
          unit: "ms",
          note: verdict(r.rttMs.p99 < 10 && r.unansweredAfterTail === 0),
        });
    }
  }
  const hist = await load("history", since);
  if (hist?.results.postgres) {
    const h = hist.results.postgres as Json;
    const p99 = Math.max(h.ours.randomMs.p99, h.ours.newestMs.p99);
    rows.push({
      metric: `history page p99 < 10 ms at ${h.messages.toLocaleString("en-US")} messages`,
      ours: p99,
      baseline: 10,
      unit: "ms",
      note: verdict(p99 < 10),
    });
  }
  rows.push({ metric: "this run", ours: elapsedS, baseline: 600, unit: "s", note: verdict(elapsedS < 600) });
  printTable("targets (issue 7, acceptance 4): ours vs target", rows, "target");
  await writeResult("summary", { elapsedS, table: rows });
}
