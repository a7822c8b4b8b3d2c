import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSymmetricKey } from "../../crypto/index.js";
import { MessageCache, type CachedMessage } from "./message-cache.js";
import { SegmentFiles } from "./segment-files.js";

const SERVER = "http://chat.example:8080";
const ORIGIN = "http://chat.example:8080";
const USER = randomUUID();
const CH_A = randomUUID();
const CH_B = randomUUID();
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "dialtone-search-cache-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

let seq = 0n;
function message(channelId: string, text: string, time: number): CachedMessage {
  seq++;
  return { channelId, messageId: randomUUID(), seq, senderUserId: USER, time, text };
}

function cacheIn(configDir: string, key: Uint8Array, userId = USER): MessageCache {
  return new MessageCache({ configDir, server: SERVER, serverOrigin: ORIGIN, userId, key: async () => key });
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

describe("the message cache on disk", () => {
  test("round trip: what one process upserts and removes, another finds after loading; nothing plaintext on disk", async () => {
    const dir = await mkdtemp(join(root, "rt-"));
    const key = generateSymmetricKey();
    const writer = cacheIn(dir, key);
    const old = message(CH_A, "the zeppelin lands at dawn", 1_000);
    const newer = message(CH_B, "Zeppelin tickets are sold out", 2_000);
    const gone = message(CH_A, "zeppelin rumours, please delete", 3_000);
    const edited = message(CH_B, "meet at the harbour", 4_000);
    for (const m of [old, newer, gone, edited]) writer.upsert(m);
    await writer.flush();
    writer.remove(gone.messageId);
    writer.upsert({ ...edited, text: "meet at the lighthouse" });
    await writer.flush();

    const reader = cacheIn(dir, key);
    expect(await reader.load()).toMatchObject({ messages: 3, channels: 2, segments: 2, discarded: 0 });
    // Newest first, across channels; the removed message is gone.
    expect(reader.search("zeppelin").hits.map((m) => m.messageId)).toEqual([newer.messageId, old.messageId]);
    expect(reader.search("zeppelin", { channelId: CH_A }).hits.map((m) => m.messageId)).toEqual([old.messageId]);
    expect(reader.search("harbour").hits).toEqual([]);
    expect(reader.search("lighthouse").hits.map((m) => m.text)).toEqual(["meet at the lighthouse"]);

    for (const file of await filesUnder(dir)) {
      const bytes = await readFile(file);
      for (const word of ["zeppelin", "Zeppelin", "lighthouse", "harbour", "rumours"]) expect(bytes.includes(word)).toBe(false);
    }
  });

  test("word search ignores case and diacritics, needs every word, and reports the total beyond the limit", async () => {
    const dir = await mkdtemp(join(root, "words-"));
    const cache = cacheIn(dir, generateSymmetricKey());
    await cache.load();
    const cafe = message(CH_A, "Le CAFÉ est fermé", 10);
    cache.upsert(cafe);
    cache.upsert(message(CH_A, "cafe tomorrow?", 11));
    cache.upsert(message(CH_A, "café au lait", 12));
    expect(cache.search("cafe").total).toBe(3);
    expect(cache.search("Café FERME").hits.map((m) => m.messageId)).toEqual([cafe.messageId]);
    expect(cache.search("cafe", { limit: 2 })).toMatchObject({ total: 3, hits: [{ time: 12 }, { time: 11 }] });
    expect(cache.search("  ,,, ").hits).toEqual([]);
    expect(cache.search("caf").hits).toEqual([]); // words, not prefixes
  });

  test("a message opened again (a history page read twice) is not appended again", async () => {
    const dir = await mkdtemp(join(root, "dedupe-"));
    const cache = cacheIn(dir, generateSymmetricKey());
    const m = message(CH_A, "once", 1);
    cache.upsert(m);
    await cache.flush();
    cache.upsert({ ...m });
    await cache.flush();
    expect(await cache.files.list()).toHaveLength(1);
  });
});

describe("a cache that is not what it should be", () => {
  test("a tampered segment is an error naming the file; one from another account too", async () => {
    const dir = await mkdtemp(join(root, "tamper-"));
    const key = generateSymmetricKey();
    const writer = cacheIn(dir, key);
    writer.upsert(message(CH_A, "secret plans", 1));
    await writer.flush();
    const [name] = await writer.files.list();
    const path = writer.files.path(name!);
    const bytes = await readFile(path);
    bytes[bytes.length - 1]! ^= 1;
    await writeFile(path, bytes);
    await expect(cacheIn(dir, key).load()).rejects.toMatchObject({ name: "KeyError", message: expect.stringContaining(path) });

    const other = await mkdtemp(join(root, "account-"));
    const mine = cacheIn(other, key);
    mine.upsert(message(CH_A, "secret plans", 1));
    await mine.flush();
    await expect(cacheIn(other, key, randomUUID()).load()).rejects.toMatchObject({ name: "KeyError" });
  });

  test("a segment renamed to change the order records apply in does not open", async () => {
    const dir = await mkdtemp(join(root, "rename-"));
    const key = generateSymmetricKey();
    const writer = cacheIn(dir, key);
    writer.upsert(message(CH_A, "first", 1));
    await writer.flush();
    const [name] = await writer.files.list();
    await writeFile(writer.files.path(SegmentFiles.newName(Date.now() + 60_000)), await readFile(writer.files.path(name!)));
    await rm(writer.files.path(name!));
    await expect(cacheIn(dir, key).load()).rejects.toMatchObject({ name: "KeyError" });
  });

  test("segments sealed under another cache key (a keystore that lost its key) are dropped and counted, not an error", async () => {
    const dir = await mkdtemp(join(root, "rekey-"));
    const old = cacheIn(dir, generateSymmetricKey());
    old.upsert(message(CH_A, "written under the old key", 1));
    await old.flush();
    const fresh = cacheIn(dir, generateSymmetricKey());
    expect(await fresh.load()).toMatchObject({ messages: 0, discarded: 1 });
    expect(await fresh.files.list()).toEqual([]);
  });
});

describe("compaction", () => {
  test("many segments fold into one on load, holding the same messages, and later appends sort after it", async () => {
    const dir = await mkdtemp(join(root, "compact-"));
    const key = generateSymmetricKey();
    const writer = cacheIn(dir, key);
    const kept: CachedMessage[] = [];
    for (let i = 0; i < 20; i++) {
      const m = message(CH_A, `word${i} common`, i);
      kept.push(m);
      writer.upsert(m);
      writer.upsert(message(CH_B, `temporary${i}`, i));
      await writer.flush();
    }
    const reader = cacheIn(dir, key);
    // Made before loading: newer than anything on disk, so it stays after the compaction.
    const late = message(CH_B, "late common", 100);
    reader.upsert(late);
    expect(await reader.load()).toMatchObject({ segments: 20, compacted: true, messages: 41 });
    expect(await reader.files.list()).toHaveLength(1);
    await reader.flush();
    reader.remove(late.messageId);
    await reader.flush();

    const again = cacheIn(dir, key);
    expect(await again.load()).toMatchObject({ segments: 3, messages: 40, compacted: false });
    expect(again.search("common").hits.map((m) => m.messageId)).toEqual(kept.map((m) => m.messageId).reverse());
    expect(again.search("word7").hits).toHaveLength(1);
  });
});

describe("edits", () => {
  test("a put with an older seq (the original opened again after its edit) does not bring the old text back", async () => {
    const dir = await mkdtemp(join(root, "edits-"));
    const key = generateSymmetricKey();
    const original = message(CH_A, "meet at noon", 5);
    const edited = { ...original, seq: original.seq + 10n, text: "meet at one" };
    const writer = cacheIn(dir, key);
    writer.upsert(original);
    writer.upsert(edited);
    writer.upsert(original); // a history page opens the original again
    await writer.flush();
    const reader = cacheIn(dir, key);
    await reader.load();
    expect(reader.search("meet").hits.map((m) => m.text)).toEqual(["meet at one"]);
    reader.upsert(original);
    expect(reader.search("noon").hits).toEqual([]);
  });
});
