// The word index over cached message texts: MiniSearch (pure JavaScript, incremental add and
// discard), holding only message ids and terms. Terms are folded so that case and diacritics do
// not matter ("CAFÉ" finds "cafe"); a query matches messages holding every one of its words.
import MiniSearch from "minisearch";

interface Doc {
  readonly id: string;
  readonly text: string;
}

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

/** The words a query looks for, folded (what the index would make of it). */
export function queryTerms(query: string): string[] {
  return MiniSearch.getDefault("tokenize")(query)
    .map((t: string) => foldTerm(t))
    .filter((t: string | null): t is string => t !== null);
}

export class TextIndex {
  readonly #index = new MiniSearch<Doc>({
    fields: ["text"],
    processTerm: foldTerm,
    searchOptions: { combineWith: "AND", processTerm: foldTerm },
  });

  /** Adds a message's text, or replaces the text indexed for its id. */
  set(messageId: string, text: string): void {
    if (this.#index.has(messageId)) this.#index.discard(messageId);
    this.#index.add({ id: messageId, text });
  }

  /** Adds many messages not indexed yet (a cache being loaded). */
  addAll(docs: ReadonlyArray<{ readonly messageId: string; readonly text: string }>): void {
    this.#index.addAll(docs.map((d) => ({ id: d.messageId, text: d.text })));
  }

  delete(messageId: string): void {
    if (this.#index.has(messageId)) this.#index.discard(messageId);
  }

  /** The ids of messages holding every word of `query` (any order). */
  find(query: string): string[] {
    return this.#index.search(query).map((r) => r.id as string);
  }
}
