// Message selection (alt+up on the chat screen): which message is selected as the user moves
// through a channel, and what a command without a selection acts on. Pure: ChatState and the
// chat screen hold the state.
import type { ConversationEntry } from "../core/index.js";

/** Entries one can act on: not deleted, not unopened. */
const actionable = (e: ConversationEntry) => !e.deleted && e.text !== undefined;

/**
 * The selection after moving `delta` (-1 = older, +1 = newer) from `current`; from no selection,
 * -1 selects the newest. Moving past the newest ends the selection (undefined); past the oldest stays.
 */
export function moveSelection(entries: readonly ConversationEntry[], current: string | undefined, delta: -1 | 1): string | undefined {
  const ids = entries.filter(actionable).map((e) => e.message.messageId);
  if (ids.length === 0) return undefined;
  const at = current === undefined ? -1 : ids.indexOf(current);
  if (at < 0) return delta < 0 ? ids[ids.length - 1] : undefined;
  const next = at + delta;
  if (next >= ids.length) return undefined;
  return ids[Math.max(0, next)];
}

export type TargetRule = "any" | "mine";

/**
 * What a command acts on: the selected message if there is one (and it fits the rule), else the
 * newest that fits: my own for /edit and /delete ("mine", as Slack's up arrow edits the last one),
 * anyone's for /reply and /react.
 */
export function commandTarget(
  entries: readonly ConversationEntry[],
  selected: string | undefined,
  rule: TargetRule,
  myUserId: string,
): ConversationEntry | undefined {
  const fits = (e: ConversationEntry) => actionable(e) && (rule === "any" || e.message.senderUserId === myUserId);
  if (selected !== undefined) {
    const e = entries.find((x) => x.message.messageId === selected);
    return e && fits(e) ? e : undefined;
  }
  for (let i = entries.length - 1; i >= 0; i--) if (fits(entries[i]!)) return entries[i];
  return undefined;
}
