// Output shapes: one human line, or one JSON object with stable snake_case field names.
import type {
  ChannelView,
  ChatMessage,
  ClientEvents,
  ConversationEntry,
  CommandHints,
  DeviceView,
  Notice,
  SafetyNumberResult,
  UserView,
} from "../core/index.js";
import {
  RESYNC_NOTICE,
  adminChangedNotice,
  userRemovedNotice,
  bodyText,
  clockSkewMs,
  firstLine,
  channelCreatedNotice,
  channelDeletedNotice,
  channelRef,
  channelRenamedNotice,
  deviceAddedNotice,
  deviceRevokedNotice,
  identityNotice,
  keyChangeRefusedNotice,
  keysWithheldNotice,
  trustNotice,
  keyRejectedNotice,
  senderText,
  userJoinedNotice,
  userLabel,
} from "../core/index.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const two = (n: number) => String(n).padStart(2, "0");
/** Local wall-clock time as HH:MM. */
export const hhmm = (d: Date) => `${two(d.getHours())}:${two(d.getMinutes())}`;

const iso = (d: Date | undefined): string | null => (d ? d.toISOString() : null);

/** The CLI's commands, as the shared views point at them. */
export const CLI_HINTS: CommandHints = {
  devices: "dialtone devices",
  verify: (user) => `dialtone verify ${user}`,
  confirmVerified: (user) => `dialtone verify ${user} --mark-verified`,
  approve: (fp) => `dialtone devices approve ${fp.replace(/ /g, "")}`,
  admit: (user) => `dialtone admit ${user}`,
  recover: "dialtone recover",
};

/** A shared notice as a tail line: alarms carry their own "!! ", the rest get "* ". */
const noticeLine = (n: Notice): string => (n.level === "alarm" ? n.text : `* ${n.text}`);

export function channelLabel(channel: ChannelView | undefined, channelId: string): string {
  return channelRef(channel?.name, channelId);
}

export function messageLine(m: ChatMessage, channel: ChannelView | undefined): string {
  return `[${hhmm(m.sentAt)}] ${channelLabel(channel, m.channelId)} ${senderText(m)}: ${bodyText(m)}`;
}

/** A clock difference as "3 h 4 min", "12 min", "40 s". */
export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
}

/** The flag of a sender's clock far from the server's (a message held back, or a wrong clock). */
export function skewNote(m: ChatMessage): string | undefined {
  const skew = clockSkewMs(m);
  if (skew === undefined) return undefined;
  return `sender's clock ${duration(skew)} ${skew > 0 ? "behind" : "ahead"}`;
}

/**
 * One conversation entry as history lines: the message (its latest text, "(edited)"), the
 * quoted first line of what it replies to above it, its reactions below; `ids` adds the short
 * message id that reply/edit/react/delete take.
 */
export function entryLines(
  e: ConversationEntry,
  channel: ChannelView | undefined,
  resolveUser: (userId: string) => string,
  ids = false,
): string[] {
  const m = e.message;
  const id = ids ? `${m.messageId.slice(0, 8)} ` : "";
  const lines: string[] = [];
  if (e.replyTo) {
    const t = e.replyTo.target;
    const quoted = e.replyTo.text === undefined ? (t ? bodyText(t) : "") : firstLine(e.replyTo.text);
    lines.push(`${" ".repeat(id.length)}  ↱ ${t ? `${t.sender}: ${quoted}` : "a message not loaded (or deleted)"}`);
  }
  const notes = [e.edited ? "edited" : undefined, skewNote(m)].filter((n) => n !== undefined);
  const text = e.deleted ? "[message deleted]" : e.text === undefined ? bodyText(m) : e.text;
  lines.push(
    `${id}[${hhmm(m.sentAt)}] ${channelLabel(channel, m.channelId)} ${senderText(m)}: ${text}${notes.length ? ` (${notes.join(", ")})` : ""}`,
  );
  if (e.reactions.length) {
    const r = e.reactions.map((x) => `${x.emoji} ${x.userIds.length} (${x.userIds.map(resolveUser).join(", ")})`).join("  ");
    lines.push(`${" ".repeat(id.length)}    ${r}`);
  }
  return lines;
}

export function entryJson(
  e: ConversationEntry,
  channel: ChannelView | undefined,
  resolveUser: (userId: string) => string,
): { [key: string]: Json } {
  const t = e.replyTo?.target;
  return {
    ...messageJson(e.message, channel),
    text: e.text ?? null,
    edited: e.edited !== undefined,
    edited_at: e.edited ? e.edited.sentAt.toISOString() : null,
    deleted: e.deleted,
    reply_to: e.replyTo
      ? {
          message_id: e.replyTo.messageId,
          sender: t?.sender ?? null,
          text: e.replyTo.text === undefined ? null : firstLine(e.replyTo.text),
        }
      : null,
    reactions: e.reactions.map((r) => ({
      emoji: r.emoji,
      count: r.userIds.length,
      user_ids: [...r.userIds],
      users: r.userIds.map(resolveUser),
      mine: r.mine.length > 0,
    })),
  };
}

export function messageJson(m: ChatMessage, channel: ChannelView | undefined): { [key: string]: Json } {
  const skew = clockSkewMs(m);
  return {
    type: "message",
    seq: Number(m.seq),
    channel_id: m.channelId,
    channel: channel?.name ?? null,
    message_id: m.messageId,
    sender_user_id: m.senderUserId,
    sender_device_id: m.senderDeviceId,
    sender: m.sender,
    sender_claimed: m.claimedSender ?? null,
    sender_mismatch: m.senderMismatch,
    body: m.body ?? null,
    error: m.error ?? null,
    key_epoch: m.keyEpoch,
    sent_at: m.sentAt.toISOString(),
    sender_clock_at: m.claimedSentAt?.toISOString() ?? null,
    clock_skew_ms: skew ?? null,
    mentions: [...m.mentions],
    relation: m.relation ? { kind: m.relation.kind, message_id: m.relation.messageId } : null,
  };
}

export function channelJson(c: ChannelView, hasKey: boolean): { [key: string]: Json } {
  return {
    channel_id: c.id,
    name: c.name ?? null,
    key_epoch: c.keyEpoch,
    has_key: hasKey,
    created_by_user_id: c.createdByUserId,
    created_at: iso(c.createdAt),
  };
}

export function deviceJson(d: DeviceView): { [key: string]: Json } {
  return {
    device_id: d.deviceId,
    user_id: d.userId,
    user: d.user,
    fingerprint: d.fingerprint,
    current: d.current,
    status: d.status,
    verified: d.verified,
    trust: d.trust,
    owner_standing: d.standing,
    created_at: iso(d.createdAt),
    last_seen_at: iso(d.lastSeenAt),
  };
}

export function safetyJson(user: UserView, r: SafetyNumberResult): { [key: string]: Json } {
  return {
    user_id: r.userId,
    user: user.label,
    safety_number: r.digits,
    verified: r.verified,
    devices: r.devices.map((d) => ({ device_id: d.deviceId, user_id: d.userId, fingerprint: d.fingerprint })),
    refused_devices: r.refused.map((d) => ({ device_id: d.deviceId, user_id: d.userId, fingerprint: d.fingerprint })),
  };
}

/** A display name that changed, from what `tail` showed before (undefined: it showed nothing yet). */
export function profileOutput(u: UserView, before: string | undefined): { line: string; json: { [key: string]: Json } } {
  const was = before ?? userLabel(u.userId, undefined);
  return {
    line: was === u.label ? `* ${u.label} updated their profile` : `* ${was} is now known as ${u.label}`,
    json: { type: "profile_updated", user_id: u.userId, user: u.label, name: u.name ?? null, previous: was },
  };
}

/** The non-message events of `tail`, as one human line or one JSON object (undefined: not shown). */
export function eventOutput<K extends keyof ClientEvents>(
  name: K,
  value: ClientEvents[K],
): { line: string; json: { [key: string]: Json } } | undefined {
  const v = value as ClientEvents[keyof ClientEvents];
  switch (name) {
    case "channel-created": {
      const c = v as ClientEvents["channel-created"];
      return {
        line: noticeLine(channelCreatedNotice(c.name, c.id)),
        json: { type: "channel_created", channel_id: c.id, channel: c.name ?? null },
      };
    }
    case "channel-renamed": {
      const r = v as ClientEvents["channel-renamed"];
      return {
        line: noticeLine(channelRenamedNotice(r)),
        json: { type: "channel_renamed", channel_id: r.channel.id, channel: r.channel.name ?? null, previous: r.previous ?? null },
      };
    }
    case "channel-deleted": {
      const d = v as ClientEvents["channel-deleted"];
      return {
        line: noticeLine(channelDeletedNotice(d)),
        json: { type: "channel_deleted", channel_id: d.channelId, channel: d.name ?? null },
      };
    }
    case "device-added": {
      const d = v as ClientEvents["device-added"];
      return {
        line: noticeLine(deviceAddedNotice(d, CLI_HINTS)),
        json: {
          type: "device_added",
          user_id: d.userId,
          user: d.user,
          device_id: d.deviceId,
          fingerprint: d.fingerprint,
          own: d.own,
          known_user: d.knownUser,
        },
      };
    }
    case "device-revoked": {
      const d = v as ClientEvents["device-revoked"];
      return {
        line: noticeLine(deviceRevokedNotice(d)),
        json: { type: "device_revoked", user_id: d.userId, user: d.user, device_id: d.deviceId },
      };
    }
    case "key-change-refused": {
      const k = v as ClientEvents["key-change-refused"];
      return {
        line: noticeLine(keyChangeRefusedNotice(k)),
        json: {
          type: "key_change_refused",
          user_id: k.userId,
          user: k.user,
          device_id: k.deviceId,
          pinned_fingerprint: k.pinnedFingerprint,
          offered_fingerprint: k.offeredFingerprint,
        },
      };
    }
    case "key-rejected": {
      const k = v as ClientEvents["key-rejected"];
      const scope = k.scope.kind === "channel" ? k.scope.channelId : "directory";
      return {
        line: noticeLine(keyRejectedNotice(k)),
        json: {
          type: "key_rejected",
          scope: scope,
          kind: k.scope.kind,
          epoch: k.epoch,
          sender_user_id: k.senderUserId,
          sender_device_id: k.senderDeviceId,
          reason: k.reason,
        },
      };
    }
    case "profile-updated":
      return profileOutput(v as ClientEvents["profile-updated"], undefined);
    case "user-joined": {
      const u = v as ClientEvents["user-joined"];
      return { line: noticeLine(userJoinedNotice(u)), json: { type: "user_joined", user_id: u.userId, is_admin: u.isAdmin } };
    }
    case "presence": {
      const p = v as ClientEvents["presence"];
      return {
        line: `* ${p.user} is ${p.online ? "online" : "offline"}`,
        json: { type: "presence", user_id: p.userId, user: p.user, online: p.online },
      };
    }
    case "connection": {
      const c = v as ClientEvents["connection"];
      const detail = c.state === "offline" && c.retryInMs !== undefined ? `, retrying in ${(c.retryInMs / 1000).toFixed(1)} s` : "";
      return {
        line: `-- ${c.state}${c.error ? ` (${c.error})` : ""}${detail}`,
        json: { type: "connection", state: c.state, error: c.error ?? null, retry_in_ms: c.retryInMs ?? null },
      };
    }
    case "resync":
      return { line: `-- ${RESYNC_NOTICE.text}`, json: { type: "resync" } };
    case "user-removed": {
      const u = v as ClientEvents["user-removed"];
      return { line: noticeLine(userRemovedNotice(u)), json: { type: "user_removed", user_id: u.userId, user: u.user } };
    }
    case "admin-changed": {
      const a = v as ClientEvents["admin-changed"];
      return {
        line: noticeLine(adminChangedNotice(a)),
        json: { type: "admin_changed", user_id: a.userId, user: a.user, is_admin: a.isAdmin },
      };
    }
    case "trust": {
      const t = v as ClientEvents["trust"];
      const notice = trustNotice(t, CLI_HINTS);
      if (!notice) return undefined;
      const e = t.event;
      return {
        line: noticeLine(notice),
        json: {
          type: "trust",
          event: e.type,
          user: t.user,
          user_id: "userId" in e ? e.userId : null,
          device_id: "deviceId" in e ? e.deviceId : null,
          fingerprint: "fingerprint" in e ? e.fingerprint : null,
          standing: e.type === "member-standing" ? e.standing : null,
          text: notice.text,
        },
      };
    }
    case "keys-withheld": {
      const k = v as ClientEvents["keys-withheld"];
      return {
        line: noticeLine(keysWithheldNotice(k)),
        json: { type: "keys_withheld", user_id: k.userId, user: k.user, device_id: k.deviceId, reason: k.reason },
      };
    }
    case "identity": {
      const s = v as ClientEvents["identity"];
      const notice = identityNotice(s, CLI_HINTS);
      if (!notice) return undefined;
      return {
        line: noticeLine(notice),
        json: {
          type: "identity",
          state: s.state,
          recovery_code: s.state === "ready" ? (s.recoveryCode ?? null) : null,
          fingerprint: s.state === "awaiting-approval" ? s.fingerprint : null,
        },
      };
    }
    default:
      return undefined;
  }
}
