// Search (issue 15): the local message cache (client/core/search/) with 100,000 cached messages
// in 20 channels. Measures writing the cache (sealed segments of 1,000), its size on disk, the
// first load (decrypt + parse + index, with the compaction it triggers) and a load of the
// compacted cache, then the latency of word queries through its index, against a naive linear
// scan over the same decrypted, folded texts in the same process (the baseline).
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSymmetricKey, openSearchSegment } from "../../client/crypto/index.js";
import { MessageCache, type CachedMessage } from "../../client/core/index.js";
import { queryTerms } from "../../client/core/search/text-index.js";
import { Histogram, msSummary, nowUs } from "../lib/hist.js";
import { num, type BenchOptions } from "../lib/options.js";
import { log, printTable, writeResult, type Row } from "../lib/report.js";

/** A small deterministic PRNG (mulberry32): the same corpus every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A vocabulary of 5,000 made-up words, a few with accents; picked Zipf-like (common words common). */
function vocabulary(random: () => number): string[] {
  const syllables = ["ka", "lo", "mi", "ré", "tu", "vo", "sen", "dar", "pel", "quo", "zé", "bri", "nor", "fa", "gu", "hel"];
  const words = new Set<string>();
  while (words.size < 5000) {
    const n = 2 + Math.floor(random() * 3);
    words.add(Array.from({ length: n }, () => syllables[Math.floor(random() * syllables.length)]!).join(""));
  }
  return [...words];
}

const SIZE = "cached messages";

export async function search(o: BenchOptions): Promise<void> {
  const total = num(o, "messages", o.quick ? 10_000 : 100_000);
  const queries = num(o, "queries", o.quick ? 100 : 500);
  const random = rng(15);
  const words = vocabulary(random);
  const pick = () => words[Math.floor(words.length * random() ** 3)]!; // skewed towards the first words
  const channels = Array.from({ length: 20 }, () => randomUUID());
  const senders = Array.from({ length: 50 }, () => randomUUID());
  const messages: CachedMessage[] = Array.from({ length: total }, (_, i) => ({
    channelId: channels[i % channels.length]!,
    messageId: randomUUID(),
    seq: BigInt(i + 1),
    senderUserId: senders[Math.floor(random() * senders.length)]!,
    time: 1_796_000_000_000 + i * 1000,
    text: Array.from({ length: 4 + Math.floor(random() * 16) }, pick).join(" "),
  }));
  const dir = await mkdtemp(join(tmpdir(), "dialtone-bench-search-"));
  const key = generateSymmetricKey();
  const cache = () =>
    new MessageCache({
      configDir: dir,
      server: "http://bench.localhost:1",
      serverOrigin: "http://bench.localhost:1",
      userId: senders[0]!,
      key: async () => key,
    });
  try {
    // Written as a client would: flushed every 1,000 messages, one sealed segment each.
    const writer = cache();
    let t = nowUs();
    for (let i = 0; i < total; i++) {
      writer.upsert(messages[i]!);
      if ((i + 1) % 1000 === 0) await writer.flush();
    }
    await writer.flush();
    const writeMs = (nowUs() - t) / 1000;
    const segmentsBytes = await writer.files.size();
    const segments = (await writer.files.list()).length;

    const first = cache();
    t = nowUs();
    const firstReport = await first.load();
    const firstLoadMs = (nowUs() - t) / 1000;
    const compactedBytes = await first.files.size();

    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const loaded = cache();
    t = nowUs();
    await loaded.load();
    const loadMs = (nowUs() - t) / 1000;
    global.gc?.();
    const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    // The part of a load that is decryption and parsing (the rest is the index and the maps).
    const [compacted] = await loaded.files.list();
    const bytes = await loaded.files.read(compacted!);
    t = nowUs();
    await openSearchSegment(key, { serverOrigin: "http://bench.localhost:1", userId: senders[0]!, segmentName: compacted! }, bytes);
    const openMs = (nowUs() - t) / 1000;
    log(
      `search: ${firstReport.messages} messages, ${segments} segments (${(segmentsBytes / 2 ** 20).toFixed(1)} MiB) → compacted ${(compactedBytes / 2 ** 20).toFixed(1)} MiB`,
    );

    // The baseline: every text folded once up front (its load cost), then each query scans them all.
    t = nowUs();
    const folded = messages.map((m) => ` ${queryTerms(m.text).join(" ")} `);
    const foldMs = (nowUs() - t) / 1000;
    const naive = (q: string, channelId?: string) => {
      const terms = queryTerms(q).map((w) => ` ${w} `);
      const hits: CachedMessage[] = [];
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        if (channelId !== undefined && m.channelId !== channelId) continue;
        if (terms.every((w) => folded[i]!.includes(w))) hits.push(m);
      }
      hits.sort((a, b) => b.time - a.time);
      return { hits: hits.slice(0, 20), total: hits.length };
    };

    // Queries: a rare word, a common word, two words (AND), an accented word typed without its accent, one channel.
    const kinds = ["rare", "common", "two words", "unaccented", "one channel"] as const;
    const make = (k: (typeof kinds)[number]): { q: string; channelId?: string } => {
      const rare = words[1000 + Math.floor(random() * 4000)]!;
      const common = words[Math.floor(random() * 20)]!;
      if (k === "rare") return { q: rare };
      if (k === "common") return { q: common.toUpperCase() };
      if (k === "two words") return { q: `${common} ${words[20 + Math.floor(random() * 200)]!}` };
      if (k === "unaccented")
        return {
          q: (words.find((w, i) => i >= Math.floor(random() * 500) && w.includes("é")) ?? rare).normalize("NFKD").replace(/\p{M}/gu, ""),
        };
      return { q: common, channelId: channels[Math.floor(random() * channels.length)]! };
    };
    const ours = new Histogram();
    const base = new Histogram();
    const perKind = Object.fromEntries(kinds.map((k) => [k, { ours: new Histogram(), base: new Histogram() }]));
    let mismatches = 0;
    for (let i = 0; i < queries; i++) {
      const kind = kinds[i % kinds.length]!;
      const { q, channelId } = make(kind);
      let s = nowUs();
      const a = loaded.search(q, { limit: 20, ...(channelId ? { channelId } : {}) });
      const usA = nowUs() - s;
      s = nowUs();
      const b = naive(q, channelId);
      const usB = nowUs() - s;
      ours.record(usA);
      base.record(usB);
      perKind[kind]!.ours.record(usA);
      perKind[kind]!.base.record(usB);
      if (a.total !== b.total || a.hits.map((h) => h.messageId).join() !== b.hits.map((h) => h.messageId).join()) mismatches++;
    }
    if (mismatches) log(`search: WARNING: ${mismatches} of ${queries} queries found other messages than the linear scan`);

    const o1 = msSummary(ours.summary());
    const b1 = msSummary(base.summary());
    const rows: Row[] = [
      {
        metric: `search p50 (${total.toLocaleString("en-US")} ${SIZE}, limit 20)`,
        ours: o1.p50,
        baseline: b1.p50,
        unit: "ms",
        note: "target ≤ 200 ms",
      },
      { metric: "search p99", ours: o1.p99, baseline: b1.p99, unit: "ms" },
      { metric: "search max", ours: o1.max, baseline: b1.max, unit: "ms" },
      ...kinds.map((k) => ({
        metric: `  p50, ${k}`,
        ours: msSummary(perKind[k]!.ours.summary()).p50,
        baseline: msSummary(perKind[k]!.base.summary()).p50,
        unit: "ms",
      })),
      {
        metric: "load (decrypt + parse + index), compacted",
        ours: loadMs,
        baseline: foldMs,
        unit: "ms",
        note: "baseline: folding the texts it scans",
      },
      { metric: "  of which decrypt + parse the segment", ours: openMs, unit: "ms" },
      { metric: `first load: ${segments} segments, then compaction`, ours: firstLoadMs, unit: "ms" },
      { metric: `write ${total.toLocaleString("en-US")} messages in segments of 1,000`, ours: writeMs, unit: "ms" },
      {
        metric: "size on disk, compacted",
        ours: compactedBytes / 2 ** 20,
        baseline: messages.reduce((n, m) => n + Buffer.byteLength(m.text), 0) / 2 ** 20,
        unit: "MiB",
        note: "baseline: the bare texts",
      },
      { metric: "heap held by the loaded cache", ours: heapMB, unit: "MiB", note: global.gc ? "" : "without --expose-gc: rough" },
    ];
    printTable("search: the local message cache (inverted index, newest first) vs a linear scan of the same texts", rows, "scan");
    const file = await writeResult("search", {
      config: { messages: total, queries, channels: channels.length, vocabulary: words.length },
      ours: o1,
      baseline: b1,
      loadMs,
      openMs,
      firstLoadMs,
      writeMs,
      segments,
      segmentsBytes,
      compactedBytes,
      heapMB,
      mismatches,
      table: rows,
    });
    log(`search: wrote ${file}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
