// The parts of a message drawn apart: links (found by linkify-it, the detector markdown-it uses:
// schemes, bare domains against the TLD list, e-mail addresses) and mentions of me (the
// directory's names, as the sender's client resolved them: client/core/mentions.ts).
import { LinkifyIt } from "linkify-it";
import { findMentions, type UserView } from "../core/index.js";
import type { PaneEntry } from "./scrollback.js";

const linkify = new LinkifyIt();

type Marks = NonNullable<PaneEntry["marks"]>;

/** The links in `text`, as typed. */
export function linkTexts(text: string): string[] {
  return (linkify.match(text) ?? []).map((m) => m.raw);
}

/** Links and the "@name"s in `text` that name `myUserId`. */
export function textMarks(text: string, users: readonly UserView[], myUserId: string): Marks {
  const links: Marks = linkTexts(text).map((t) => ({ text: t, style: "link" }));
  const mentions: Marks = findMentions(text, users)
    .filter((s) => s.userId === myUserId)
    .map((s) => ({ text: text.slice(s.start, s.end), style: "mention" }));
  return [...mentions, ...links];
}
