// A strict reader of the Prometheus text exposition format (version 0.0.4): every line
// is a HELP, a TYPE or a sample with valid names, labels and values; samples follow
// their family's TYPE; histograms have ordered cumulative buckets ending at +Inf = _count.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(raw: string, line: number): number {
  // Prometheus parses values with Go's strconv.ParseFloat, which takes NaN and Inf in any
  // case; prom-client writes NaN as "Nan" (the event-loop lag before its first sample).
  if (/^[+]?inf(inity)?$/i.test(raw)) return Infinity;
  if (/^-inf(inity)?$/i.test(raw)) return -Infinity;
  if (/^nan$/i.test(raw)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`line ${line}: bad value ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parseLabels(s: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf("=", i);
    const name = s.slice(i, eq);
    if (eq < 0 || !LABEL.test(name)) throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
    if (s[eq + 1] !== '"') throw new Error(`line ${line}: label value must be quoted`);
    let v = "";
    let j = eq + 2;
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === "\\") {
        const n = s[++j];
        if (n === "n") v += "\n";
        else if (n === "\\" || n === '"') v += n;
        else throw new Error(`line ${line}: bad escape \\${n}`);
      } else v += s[j];
    }
    if (s[j] !== '"') throw new Error(`line ${line}: unterminated label value`);
    if (name in labels) throw new Error(`line ${line}: duplicate label ${name}`);
    labels[name] = v;
    i = j + 1;
    if (s[i] === ",") i++;
    else if (i < s.length) throw new Error(`line ${line}: expected , between labels`);
  }
  return labels;
}

const familyOf = (sample: string, families: Map<string, Family>) => {
  if (families.has(sample)) return families.get(sample)!;
  for (const suffix of ["_bucket", "_sum", "_count", "_total", "_created"]) {
    if (sample.endsWith(suffix) && families.has(sample.slice(0, -suffix.length))) return families.get(sample.slice(0, -suffix.length))!;
  }
  return undefined;
};

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, Family>();
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((l, idx) => {
    const n = idx + 1;
    if (l === "") return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(l);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`line ${n}: bad metric name ${name}`);
      const f = families.get(name) ?? { name, type: "untyped", help: "", samples: [] };
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`line ${n}: bad type ${rest}`);
        if (f.samples.length) throw new Error(`line ${n}: TYPE after samples of ${name}`);
        f.type = rest;
      } else f.help = rest;
      families.set(name, f);
      return;
    }
    if (l.startsWith("#")) return; // other comments are allowed
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(l);
    if (!m) throw new Error(`line ${n}: not a sample: ${JSON.stringify(l)}`);
    const f = familyOf(m[1]!, families);
    if (!f) throw new Error(`line ${n}: sample ${m[1]} before its TYPE`);
    f.samples.push({ name: m[1]!, labels: parseLabels(m[2] ?? "", n), value: parseValue(m[3]!, n) });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: Family) {
  const series = new Map<string, Sample[]>();
  for (const s of f.samples.filter((s) => s.name === `${f.name}_bucket`)) {
    const { le, ...rest } = s.labels;
    if (le === undefined) throw new Error(`${f.name}: bucket without le`);
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, buckets] of series) {
    const les = buckets.map((b) => parseValue(b.labels.le!, 0));
    for (let i = 1; i < buckets.length; i++) {
      if (!(les[i]! > les[i - 1]!)) throw new Error(`${f.name}${key}: buckets not in increasing le order`);
      if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${f.name}${key}: buckets not cumulative`);
    }
    if (les.at(-1) !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
    const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(s.labels) === key);
    if (!count || count.value !== buckets.at(-1)!.value) throw new Error(`${f.name}${key}: _count differs from the +Inf bucket`);
  }
}

/** The value of one sample, by name and (a subset of) its labels. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
