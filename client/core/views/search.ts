// Search results as lines, for `dialtone search` and the UI's /search alike.
import type { SearchHit, SearchView } from "../search/client-search.js";
import { channelRef } from "./notices.js";

const two = (n: number) => String(n).padStart(2, "0");
/** Local date and time: results can be old, so the day matters. */
export const dayAndTime = (d: Date): string =>
  `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;

/** One hit on one line: a message's line breaks become spaces. */
export const searchHitLine = (h: SearchHit): string =>
  `[${dayAndTime(new Date(h.message.time))}] ${channelRef(h.channel.name, h.channel.id)} ${h.sender}: ${h.message.text.replace(/\s*[\r\n]+\s*/g, " ")}`;

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** "2 of 14 matches among 5,000 cached messages in 3 channels". */
export function searchSummary(view: SearchView): string {
  const matches = count(view.total, "match", "matches");
  const shown = view.hits.length < view.total ? `${view.hits.length} of ${matches}` : matches;
  return `${shown} among ${count(view.cached, "cached message")} in ${count(view.cachedChannels, "channel")}`;
}
