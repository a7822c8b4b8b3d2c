// Summarises V8 heap snapshots: self size by constructor (objects), closure, array or string
// kind; `diffHeap(a, b, n)` gives what grew between two snapshots per unit (e.g. per stream).
// Usage: node --import tsx bench/heap.ts BEFORE.heapsnapshot AFTER.heapsnapshot [N]
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  strings: string[];
}

export type HeapSummary = Map<string, { count: number; bytes: number }>;

export function summarizeHeap(file: string): HeapSummary {
  const s = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf("type");
  const iName = f.indexOf("name");
  const iSize = f.indexOf("self_size");
  const types = s.snapshot.meta.node_types[0];
  const out: HeapSummary = new Map();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!]!;
    const name = s.strings[s.nodes[i + iName]!]!;
    let key: string;
    if (type === "string" || type === "concatenated string" || type === "sliced string") key = "(strings)";
    else if (type === "code") key = "(compiled code)";
    else if (type === "number") key = "(heap numbers)";
    else if (type === "native") key = `native ${name.replace(/\s*\(.*$/, "").slice(0, 60)}`;
    else if (type === "closure") key = `closure ${name || "(anonymous)"}`;
    else key = `${type === "object" ? "" : `${type} `}${name}`;
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += s.nodes[i + iSize]!;
    out.set(key, e);
  }
  return out;
}

export function diffHeap(before: HeapSummary, after: HeapSummary, per: number) {
  const rows: Array<{ what: string; countPer: number; bytesPer: number }> = [];
  for (const [k, v] of after) {
    const b = before.get(k) ?? { count: 0, bytes: 0 };
    const d = v.bytes - b.bytes;
    if (d > 0) rows.push({ what: k, countPer: (v.count - b.count) / per, bytesPer: d / per });
  }
  rows.sort((x, y) => y.bytesPer - x.bytesPer);
  const total = rows.reduce((a, r) => a + r.bytesPer, 0);
  return { totalBytesPer: total, rows };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [a, b, n] = process.argv.slice(2);
  const d = diffHeap(summarizeHeap(a!), summarizeHeap(b!), Number(n ?? 1));
  process.stdout.write(`growth per unit: ${(d.totalBytesPer / 1024).toFixed(1)} KB\n`);
  for (const r of d.rows.slice(0, 40))
    process.stdout.write(`  ${r.bytesPer.toFixed(0).padStart(7)} B  ${r.countPer.toFixed(2).padStart(6)} ×  ${r.what}\n`);
}
