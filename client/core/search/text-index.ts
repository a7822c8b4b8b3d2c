// The word index over cached message texts: words split at Unicode spaces and punctuation and
// folded so that case and diacritics do not matter ("CAFÉ" finds "cafe"); a query matches the
// messages holding every one of its words. A plain inverted index rather than a search library:
// results are ranked newest first, never by relevance, and MiniSearch (tried first) scores and
// sorts every match and builds a larger index: over 100,000 messages its p99 was 0.6 s and a load
// 14 s, against 27 ms and 4.5 s here on the same busy machine (docs/PERFORMANCE.md, "Search").

const WORD_BREAK = /[\n\r\p{Z}\p{P}]+/u;
const tokenize = (text: string): string[] => text.split(WORD_BREAK);
const ASCII = /^[\x00-\x7f]*$/;

/** Lower case without combining marks: é → e, Å → a, ﬁ → fi. */
export function foldTerm(term: string): string | null {
  // Most terms are ASCII: normalising them would only cost time (indexing 100k messages).
  if (ASCII.test(term)) return term.length > 0 ? term.toLowerCase() : null;
  const folded = term
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
  return folded.length > 0 ? folded : null;
}

/** The distinct folded words of a text (or a query). */
export function queryTerms(text: string): string[] {
  const out = new Set<string>();
  for (const t of tokenize(text)) {
    const f = foldTerm(t);
    if (f !== null) out.add(f);
  }
  return [...out];
}

export class TextIndex {
  /** word → ids of the messages holding it (arrays: far cheaper to build than sets, and deletions are rare) */
  readonly #postings = new Map<string, string[]>();
  /** id → its words, to take a message out again */
  readonly #terms = new Map<string, readonly string[]>();

  /** Adds a message's text, or replaces the text indexed for its id. */
  set(messageId: string, text: string): void {
    this.delete(messageId);
    const terms = queryTerms(text);
    this.#terms.set(messageId, terms);
    for (const term of terms) {
      const ids = this.#postings.get(term);
      if (ids) ids.push(messageId);
      else this.#postings.set(term, [messageId]);
    }
  }

  /** Adds many messages (a cache being loaded). */
  addAll(docs: Iterable<{ readonly messageId: string; readonly text: string }>): void {
    for (const d of docs) this.set(d.messageId, d.text);
  }

  delete(messageId: string): void {
    const terms = this.#terms.get(messageId);
    if (!terms) return;
    this.#terms.delete(messageId);
    for (const term of terms) {
      const ids = this.#postings.get(term)!;
      ids.splice(ids.lastIndexOf(messageId), 1);
      if (ids.length === 0) this.#postings.delete(term);
    }
  }

  /** The ids of messages holding every word of `query` (any order), in no particular order. */
  find(query: string): string[] {
    const lists: string[][] = [];
    for (const term of queryTerms(query)) {
      const ids = this.#postings.get(term);
      if (!ids) return [];
      lists.push(ids);
    }
    if (lists.length === 0) return [];
    lists.sort((a, b) => a.length - b.length);
    let found = lists[0]!;
    for (const other of lists.slice(1)) {
      const keep = new Set(found);
      found = other.filter((id) => keep.has(id));
      if (found.length === 0) break;
    }
    return found;
  }
}
