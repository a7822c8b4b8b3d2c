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

export const userRemovedNotice = (u: ClientEvents["user-removed"]): Notice =>
  u.me
    ? { level: "notice", text: "an admin removed your account: this device can no longer connect" }
    : info(`${u.user} was removed from the community by an admin`);

export const adminChangedNotice = (a: ClientEvents["admin-changed"]): Notice =>
  info(
    a.me ? (a.isAdmin ? "you are now an admin" : "you are no longer an admin") : `${a.user} is ${a.isAdmin ? "now" : "no longer"} an admin`,
  );

export const RESYNC_NOTICE: Notice = info("the server could not resume our position: channels and names were reloaded");

/** Signed-identity news, worded for a person: what needs their attention, and the command for it. */
export function trustNotice(t: ClientEvents["trust"], hints: CommandHints): Notice | undefined {
  const e = t.event;
  switch (e.type) {
    case "device-unverified":
      if (e.own) {
        return {
          level: "notice",
          text: `a device of your account waits for approval: ${e.fingerprint} — if it is yours (compare the fingerprint it shows), run ${hints.approve(e.fingerprint)}; until then it gets no keys`,
        };
      }
      return {
        level: "notice",
        text: `unverified device of ${t.user}: ${e.fingerprint} (not approved by its owner's identity): it gets no keys`,
      };
    case "device-certified":
      return info(e.own ? `your device ${e.fingerprint} was approved` : `${t.user} approved a new device: ${e.fingerprint}`);
    case "member-standing":
      if (e.standing === "pending") {
        return {
          level: "notice",
          text: `${t.user} is not admitted yet: they get no keys until an admin compares safety numbers and runs ${hints.admit(t.user)}`,
        };
      }
      if (e.standing === "admitted") return info(`${t.user} was admitted`);
      if (e.standing === "removed") return info(`${t.user} was removed (signed by an admin)`);
      return undefined;
    case "identity-changed":
      return {
        level: "alarm",
        text: `!! the server shows a new identity key for ${t.user} (was ${e.pinnedFingerprint}, now ${e.offeredFingerprint}): not trusted until an admin admits it again; check with ${hints.verify(t.user)}`,
      };
    case "root-problem":
      return { level: "alarm", text: `!! ${e.problem}: nobody can be admitted, no key is shared` };
    case "root-pinned":
      return info(`community root pinned: ${e.fingerprint}`);
  }
}

export const keysWithheldNotice = (k: ClientEvents["keys-withheld"]): Notice => ({
  level: "notice",
  text: `keys withheld from device ${shortId(k.deviceId)} of ${k.user}: ${k.reason}`,
});

/** This device's identity: the recovery code to write down, a wait for approval, or a conflict. */
export function identityNotice(s: ClientEvents["identity"], hints: CommandHints): Notice | undefined {
  if (s.state === "ready") {
    return s.recoveryCode
      ? {
          level: "notice",
          text: `your recovery code (shown once; write it down, it restores your identity and history on a new device): ${s.recoveryCode}`,
        }
      : undefined;
  }
  if (s.state === "awaiting-approval") {
    return {
      level: "notice",
      text: `this device (fingerprint ${s.fingerprint}) waits for approval: on a device of yours that holds your identity, run ${hints.approve(s.fingerprint)}, or run ${hints.recover} with your recovery code`,
    };
  }
  return { level: "alarm", text: `!! ${s.message}` };
}
