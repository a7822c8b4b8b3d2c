// The sidebar's lines: Channels, In Voice, Users (reference §3.2), each line cut to the sidebar
// width. Pure: the chat screen gives it the state and draws the lines with their styles.
import { displayWidth, sanitize, truncate } from "./text.js";

export interface SidebarChannel {
  id: string;
  /** Decrypted name, or "<encrypted>" / a short id. */
  label: string;
}

export interface SidebarVoiceMember {
  label: string;
  speaking: boolean;
  admin: boolean;
  online: boolean;
  /** A word from this client's voice daemon: "deaf" for oneself, a volume ("50%") for others. */
  note?: string;
}

export interface SidebarVoiceRoom {
  channelId: string;
  label: string;
  members: SidebarVoiceMember[];
  /** The room this client is in (marked like the active channel). */
  joined?: boolean;
}

export interface SidebarUser {
  label: string;
  online: boolean;
  admin: boolean;
  me: boolean;
  /** Not admitted by the community's admins (signed identities): gets no keys. */
  pending?: boolean;
  /** Safety number compared and recorded. */
  verified?: boolean;
}

export interface SidebarInput {
  /** The system view (command output, voice notices), listed above the channels under this id. */
  system?: { id: string; unread: number };
  channels: SidebarChannel[];
  activeId?: string;
  cursorId?: string;
  unread: ReadonlyMap<string, number>;
  voiceRooms: SidebarVoiceRoom[];
  users: SidebarUser[];
}

export type SidebarStyle = "heading" | "cursor" | "active" | "normal" | "unread" | "online" | "offline" | "speaking" | "dim";

export interface StyledSidebarLine {
  text: string;
  style: SidebarStyle;
}

/** Suggested sidebar width (the reference's). */
export const SIDEBAR_WIDTH = 26;

const byLabel = (a: string, b: string) => a.localeCompare(b, undefined, { sensitivity: "base" }) || (a < b ? -1 : a > b ? 1 : 0);

/** Channels in display order: by label (case-insensitive), then id. */
export function sortChannels<T extends SidebarChannel>(channels: readonly T[]): T[] {
  return [...channels].sort((a, b) => byLabel(a.label, b.label) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The channel the cursor lands on after moving `delta` rows from `cursorId` (or from the active
 * channel, or the top), clamped to the list as in the reference.
 */
export function moveCursor(channels: readonly SidebarChannel[], from: string | undefined, delta: number): string | undefined {
  const ids = sortChannels(channels).map((c) => c.id);
  if (ids.length === 0) return undefined;
  const at = from === undefined ? -1 : ids.indexOf(from);
  const start = at === -1 ? (delta > 0 ? -1 : ids.length) : at;
  return ids[Math.min(ids.length - 1, Math.max(0, start + delta))];
}

/** prefix + label + suffix in `width` columns: the label is cut first so the suffix stays. */
function fit(prefix: string, label: string, suffix: string, width: number): string {
  const clean = sanitize(label);
  const room = width - displayWidth(prefix) - displayWidth(suffix);
  if (room >= 2 || (room >= 1 && displayWidth(clean) <= room)) return prefix + truncate(clean, room) + suffix;
  return truncate(prefix + clean + suffix, width);
}

const unreadText = (n: number) => (n > 99 ? " (99+)" : ` (${n})`);

export function sidebarLines(input: SidebarInput, width: number): StyledSidebarLine[] {
  const w = Math.max(1, Math.floor(width));
  const out: StyledSidebarLine[] = [];
  const push = (text: string, style: SidebarStyle) => out.push({ text: truncate(text, w), style });

  push("Channels", "heading");
  const entries = sortChannels(input.channels);
  if (input.system) {
    const { id, unread } = input.system;
    const isCursor = id === input.cursorId;
    const isActive = id === input.activeId;
    const count = isActive ? 0 : unread;
    push(
      fit(isCursor ? "> " : isActive ? "• " : "  ", "(system)", count > 0 ? unreadText(count) : "", w),
      isCursor ? "cursor" : isActive ? "active" : count > 0 ? "unread" : "dim",
    );
  }
  if (input.channels.length === 0) push("(none)", "dim");
  for (const ch of entries) {
    const isCursor = ch.id === input.cursorId;
    const isActive = ch.id === input.activeId;
    const unread = isActive ? 0 : (input.unread.get(ch.id) ?? 0);
    const prefix = isCursor ? "> " : isActive ? "• " : "  ";
    const style: SidebarStyle = isCursor ? "cursor" : isActive ? "active" : unread > 0 ? "unread" : "normal";
    push(fit(prefix, ch.label, unread > 0 ? unreadText(unread) : "", w), style);
  }

  push("", "normal");
  push("In Voice", "heading");
  if (input.voiceRooms.length === 0) push("(not connected)", "dim");
  const rooms = [...input.voiceRooms].sort((a, b) => byLabel(a.label, b.label) || (a.channelId < b.channelId ? -1 : 1));
  for (const room of rooms) {
    push(fit(room.joined ? "• " : "  ", room.label, "", w), room.joined ? "active" : "normal");
    if (room.members.length === 0) push("    (empty)", "dim");
    for (const m of room.members) {
      const style: SidebarStyle = m.speaking ? "speaking" : m.online ? "online" : "offline";
      push(fit(m.speaking ? "  + " : "    ", m.label, `${m.admin ? " (admin)" : ""}${m.note ? ` · ${m.note}` : ""}`, w), style);
    }
  }

  push("", "normal");
  push("Users", "heading");
  if (input.users.length === 0) push("(none)", "dim");
  const users = [...input.users].sort((a, b) => Number(b.me || b.online) - Number(a.me || a.online) || byLabel(a.label, b.label));
  for (const u of users) {
    const suffix = (u.verified ? " ✓" : "") + (u.pending ? " (not admitted)" : "") + (u.admin ? " (admin)" : "") + (u.me ? " (you)" : "");
    // The dot says it in text as well as colour (colour-blind users, monochrome terminals).
    const online = u.online || u.me;
    push(fit(online ? "● " : "○ ", u.label, suffix, w), online ? "online" : "offline");
  }
  return out;
}
