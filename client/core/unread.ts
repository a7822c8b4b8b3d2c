// Unread and mention counts of a channel: what lies past the account's read marker.
import type { ConversationEntry } from "./conversation.js";

export interface UnreadCounts {
  /** Messages by others past the marker (not deleted). */
  readonly unread: number;
  /** Of those, the ones that mention me or reply to one of my messages. */
  readonly mentions: number;
  /** Where a "new messages" line goes: the seq of the first unread entry. */
  readonly firstUnreadSeq: bigint | undefined;
}

/** Whether an entry calls for me: it mentions me (as it reads now, edits included) or replies to me. */
export function mentionsMe(e: ConversationEntry, myUserId: string): boolean {
  if (e.deleted || e.message.senderUserId === myUserId) return false;
  const mentions = e.edited?.mentions ?? e.message.mentions;
  return mentions.includes(myUserId) || e.replyTo?.target?.senderUserId === myUserId;
}

export function unreadCounts(entries: readonly ConversationEntry[], marker: bigint, myUserId: string): UnreadCounts {
  let unread = 0;
  let mentions = 0;
  let firstUnreadSeq: bigint | undefined;
  for (const e of entries) {
    if (e.message.seq <= marker || e.deleted || e.message.senderUserId === myUserId) continue;
    unread++;
    firstUnreadSeq ??= e.message.seq;
    if (mentionsMe(e, myUserId)) mentions++;
  }
  return { unread, mentions, firstUnreadSeq };
}
