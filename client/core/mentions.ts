// Mentions: "@name" in a text, resolved to user ids from the directory when the message is sent
// (the ids go inside the sealed content; the server never sees whom a message mentions).
import type { UserView } from "./names.js";

/** A mention in a text: where it stands and whom it names. */
export interface MentionSpan {
  readonly start: number;
  readonly end: number;
  readonly userId: string;
}

const fold = (s: string) => s.normalize("NFC").toLowerCase();
/** A mention ends at the end of the text, a space, or punctuation ("@bob, hi", "@bob: …"). */
const BOUNDARY = /^(?:$|[\s.,;:!?'")\]}>])/u;

/**
 * Every "@name" in `text` that names a member: by display name (case-insensitive; the longest
 * name that fits wins, so "@Ann Lee" beats "@Ann") or by marked label ("@alice#1a2b" when two
 * share a name). A name two members share (unmarked) mentions neither. Removed accounts are not
 * mentioned.
 */
export function findMentions(text: string, users: readonly UserView[]): MentionSpan[] {
  const candidates: Array<{ key: string; length: number; userId: string }> = [];
  const nameCount = new Map<string, number>();
  for (const u of users) {
    if (u.removed || u.name === undefined) continue;
    const key = fold(u.name);
    nameCount.set(key, (nameCount.get(key) ?? 0) + 1);
  }
  for (const u of users) {
    if (u.removed) continue;
    const add = (name: string) => candidates.push({ key: fold(name), length: name.length, userId: u.userId });
    if (u.name !== undefined && nameCount.get(fold(u.name)) === 1) add(u.name);
    if (u.label !== u.name) add(u.label);
  }
  candidates.sort((a, b) => b.length - a.length);
  const spans: MentionSpan[] = [];
  // Compared slice by slice in the text's own units, so spans index the text as given.
  for (let at = text.indexOf("@"); at !== -1; at = text.indexOf("@", at + 1)) {
    if (at > 0 && /[\p{L}\p{N}_]/u.test(text[at - 1]!)) continue; // an e-mail address, not a mention
    const from = at + 1;
    const hit = candidates.find((c) => fold(text.slice(from, from + c.length)) === c.key && BOUNDARY.test(text.slice(from + c.length)));
    if (hit) spans.push({ start: at, end: from + hit.length, userId: hit.userId });
  }
  return spans;
}

/** The distinct user ids a text mentions, in order of first mention. */
export function mentionedUserIds(text: string, users: readonly UserView[]): string[] {
  return [...new Set(findMentions(text, users).map((s) => s.userId))];
}
