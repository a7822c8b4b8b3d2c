// Summarises a V8 .cpuprofile (from `node --cpu-prof` or the bench server's inspector
// profile): top functions by self time, inclusive time of our own server functions, and self
// time grouped by package/module. Usage: node --import tsx bench/profile.ts FILE.cpuprofile
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FnTime {
  fn: string;
  where: string;
  selfMs: number;
  selfPct: number;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function where(cf: CallFrame): string {
  let u = cf.url.replace(/^file:\/\//, "");
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length + 1);
  u = u.replace(/^node_modules\//, "");
  return u ? `${u}:${cf.lineNumber + 1}` : "(native)";
}

function group(cf: CallFrame): string {
  const u = cf.url.replace(/^file:\/\//, "");
  if (!u) return cf.functionName.startsWith("(") ? cf.functionName : "(native/V8 builtins)";
  if (u.startsWith("node:")) {
    const m = /^node:(internal\/)?([a-z_0-9]+)/.exec(u);
    return `node:${m?.[2] ?? u}`;
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (nm) return nm[1]!;
  if (u.startsWith(ROOT)) return path.dirname(u.slice(ROOT.length + 1));
  return u;
}

export function summarizeProfile(file: string) {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const totalUs = p.endTime - p.startTime;
  let idleUs = 0;

  const fnSelf = new Map<string, { fn: string; where: string; us: number }>();
  const groupSelf = new Map<string, number>();
  const inclusive = new Map<string, { fn: string; where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const cf = n.callFrame;
    if (cf.functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    const key = `${cf.functionName}|${cf.url}|${cf.lineNumber}`;
    const e = fnSelf.get(key) ?? { fn: cf.functionName || "(anonymous)", where: where(cf), us: 0 };
    e.us += us;
    fnSelf.set(key, e);
    const g = group(cf);
    groupSelf.set(g, (groupSelf.get(g) ?? 0) + us);
    // Inclusive time of our own code (server/, gen/): each function once per stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const c = byId.get(cur)!.callFrame;
      const u = c.url.replace(/^file:\/\//, "");
      if (!u.startsWith(ROOT) || u.includes("/node_modules/")) continue;
      const k = `${c.functionName}|${c.url}|${c.lineNumber}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const inc = inclusive.get(k) ?? { fn: c.functionName || "(anonymous)", where: where(c), us: 0 };
      inc.us += us;
      inclusive.set(k, inc);
    }
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number) => (100 * us) / busyUs;
  const top: FnTime[] = [...fnSelf.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, 40)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: Math.round(e.us / 100) / 10, selfPct: pct(e.us) }));
  const groups = [...groupSelf.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([g, us]) => ({ group: g, selfMs: Math.round(us / 100) / 10, selfPct: pct(us) }));
  const ours = [...inclusive.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, 25)
    .map((e) => ({ fn: e.fn, where: e.where, totalMs: Math.round(e.us / 100) / 10, totalPct: pct(e.us) }));
  return { file, durationMs: totalUs / 1000, busyMs: busyUs / 1000, busyPct: (100 * busyUs) / totalUs, top, groups, ours };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const s = summarizeProfile(process.argv[2]!);
  const out = process.stdout;
  out.on("error", () => process.exit(0)); // e.g. piped into head
  out.write(
    `${s.file}: ${s.durationMs.toFixed(0)} ms sampled, ${s.busyPct.toFixed(1)} % busy (percentages below are of busy time)\n\nTop self time:\n`,
  );
  for (const f of s.top.slice(0, 30))
    out.write(`  ${f.selfPct.toFixed(1).padStart(5)} %  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.fn}  ${f.where}\n`);
  out.write("\nSelf time by package/module:\n");
  for (const g of s.groups.slice(0, 20)) out.write(`  ${g.selfPct.toFixed(1).padStart(5)} %  ${g.group}\n`);
  out.write("\nInclusive time of repository code (server/, gen/):\n");
  for (const f of s.ours) out.write(`  ${f.totalPct.toFixed(1).padStart(5)} %  ${f.fn}  ${f.where}\n`);
}
