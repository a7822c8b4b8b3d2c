// /search and /jump: results of the local message cache in the system view, numbered, and the
// last results kept per chat so that /jump N opens a result's channel.
import { searchHitLine, searchSummary, type SearchHit } from "../core/index.js";
import type { ChatState } from "./chat-state.js";

const LIMIT = 50;
const lastResults = new WeakMap<ChatState, readonly SearchHit[]>();

/** Searches (in one channel, or all) and reports the hits, newest first, numbered for /jump. */
export function runSearch(state: ChatState, query: string, channelId: string | undefined): void {
  // The first search loads and indexes the cache (a moment for a large one); later ones are in memory.
  state.run("searching", async () => {
    const view = await state.client.search(query, { limit: LIMIT, ...(channelId ? { channelId } : {}) });
    lastResults.set(state, view.hits);
    const lines = [`search ${JSON.stringify(query)}: ${searchSummary(view)}`];
    lines.push(...view.hits.map((h, i) => `  ${String(i + 1).padStart(2)}. ${searchHitLine(h)}`));
    if (view.hits.length > 0) lines.push("  /jump <n> opens a result's channel");
    if (view.cached === 0)
      lines.push("  (this device caches the messages it opens; `dialtone search --fetch <words>` pages all history in)");
    state.report(lines);
  });
}

/** Opens the channel of result `index` (1-based) of the last /search; an error text when there is none. */
export function jumpToResult(state: ChatState, index: number): string | undefined {
  const hit = lastResults.get(state)?.[index - 1];
  if (!hit) return lastResults.has(state) ? `the last /search has no result ${index}` : "no /search yet";
  if (!state.client.channel(hit.channel.id)) return "that channel is gone";
  state.activate(hit.channel.id);
  return undefined;
}
