// Typing notices: sealed (the server relays them and cannot forge one), live only, and dropped
// when their sender's clock says they are stale (a replay by the server, or a slow path).
import type { TypingChanged } from "../../gen/dialtone/v1/event_pb.js";
import { openTyping, sealTyping } from "../crypto/index.js";
import type { ClientParts } from "./client-parts.js";

/** A notice older (or further ahead) than this by the sender's clock is ignored. */
export const TYPING_FRESH_MS = 15_000;

/** Tells the channel's readers that this device is typing (or stopped). */
export async function sendTyping(p: ClientParts, channelId: string, typing: boolean, now = new Date()): Promise<void> {
  const key = p.keys.channelKey(channelId);
  if (!key) return; // no key, no notice: it could not be read anyway
  const ids = { channelId, senderUserId: p.session.userId, senderDeviceId: p.session.deviceId };
  const encryptedPayload = await sealTyping(key, ids, { typing, sentAt: now });
  await p.api.message.sendTyping({ channelId, encryptedPayload, keyEpoch: key.epoch });
}

/** A relayed notice, opened: undefined for my own device, a notice that does not open, or a stale one. */
export async function openTypingNotice(p: ClientParts, n: TypingChanged, now = Date.now()): Promise<{ typing: boolean } | undefined> {
  if (n.senderDeviceId === p.session.deviceId) return undefined;
  const key = p.keys.channelKeyAt(n.channelId, n.keyEpoch);
  if (!key) return undefined;
  try {
    const state = await openTyping(
      key,
      { channelId: n.channelId, senderUserId: n.senderUserId, senderDeviceId: n.senderDeviceId },
      n.encryptedPayload,
    );
    return Math.abs(now - state.sentAt.getTime()) > TYPING_FRESH_MS ? undefined : { typing: state.typing };
  } catch {
    return undefined;
  }
}
