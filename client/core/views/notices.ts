// The client's events that a person is told about, worded once for `dialtone tail` and the UI:
// "info" is news, "notice" deserves attention, "alarm" (text starting "!! ") means a key was refused.
import type { ClientEvents } from "../events.js";
import { ENCRYPTED_PLACEHOLDER, shortId } from "../names.js";
import type { CommandHints } from "./hints.js";

export type NoticeLevel = "info" | "notice" | "alarm";

export interface Notice {
  readonly level: NoticeLevel;
  readonly text: string;
}

const info = (text: string): Notice => ({ level: "info", text });

/** "#general", or "<encrypted>(1a2b3c4d)" for a name this device cannot open. */
export const channelRef = (name: string | undefined, channelId: string): string =>
  name !== undefined ? `#${name}` : `${ENCRYPTED_PLACEHOLDER}(${shortId(channelId)})`;

export const channelCreatedNotice = (name: string | undefined, channelId: string): Notice =>
  info(`new channel ${channelRef(name, channelId)}`);

export const channelRenamedNotice = (r: ClientEvents["channel-renamed"]): Notice =>
  info(`channel ${channelRef(r.previous, r.channel.id)} is now ${channelRef(r.channel.name, r.channel.id)}`);

export const channelDeletedNotice = (d: ClientEvents["channel-deleted"]): Notice =>
  info(`channel ${channelRef(d.name, d.channelId)} was deleted`);

/** A new device of ours or of someone we knew is news; a member's first device is merely pinned. */
export const isNewDeviceNews = (d: ClientEvents["device-added"]): boolean => d.own || d.knownUser;

export function deviceAddedNotice(d: ClientEvents["device-added"], hints: CommandHints): Notice {
  if (d.own) return { level: "notice", text: `a new device of your account appeared: ${d.fingerprint} (not you? see ${hints.devices})` };
  if (d.knownUser) return { level: "notice", text: `${d.user} has a new device: ${d.fingerprint} (check with ${hints.verify(d.user)})` };
  return info(`device of ${d.user} seen for the first time: ${d.fingerprint}`);
}

export const deviceRevokedNotice = (d: ClientEvents["device-revoked"]): Notice =>
  info(`device ${shortId(d.deviceId)} of ${d.user} was revoked`);

export const keyChangeRefusedNotice = (k: ClientEvents["key-change-refused"]): Notice => ({
  level: "alarm",
  text: `!! device ${shortId(k.deviceId)} of ${k.user} shows a different key (pinned ${k.pinnedFingerprint}, offered ${k.offeredFingerprint}): refused, nothing is encrypted to it`,
});

export const keyRejectedNotice = (k: ClientEvents["key-rejected"]): Notice => ({
  level: "alarm",
  text: `!! a key from ${k.sender} was rejected: ${k.reason}`,
});

export const userJoinedNotice = (u: ClientEvents["user-joined"]): Notice => info(`a new member joined: ${u.user}`);

export const RESYNC_NOTICE: Notice = info("the server could not resume our position: channels and names were reloaded");
