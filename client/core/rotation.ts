// Channel key rotation (DESIGN §11): when a member is removed or a device revoked, the next
// online member's client moves each channel to a new epoch, so the keys the removed party holds
// open nothing sent afterwards. The server accepts the first rotation to an epoch (compare-and-
// set); a client that loses the race adopts the winner's key when it is shared. Older epochs stay
// readable for history.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { generateSymmetricKey } from "../crypto/index.js";
import { sealChannelName } from "./channels.js";
import type { ClientParts } from "./client-parts.js";
import { ApiError } from "./errors.js";

export type RotationOutcome = "rotated" | "lost-race" | "unreadable" | "not-held";

/** Moves one channel to its next key epoch, sealing its name anew, and shares the key. */
export async function rotateChannelKey(p: ClientParts, channelId: string): Promise<RotationOutcome> {
  const { api, channels, keys, store } = p;
  const row = await channels.row(channelId);
  const name = channels.get(channelId)?.name;
  if (!row) return "not-held";
  if (name === undefined) return "unreadable";
  if (!keys.channelKeyAt(channelId, row.keyEpoch)) return "not-held";
  const epoch = row.keyEpoch + 1;
  const key = { epoch, key: generateSymmetricKey() };
  const encryptedName = await sealChannelName(key, channelId, name);
  // Kept only once the server took it: a key saved before losing the race would conflict with
  // the winner's (first key per epoch wins in the keystore). A crash in between loses the epoch's
  // key; the next removal rotates again.
  try {
    const { channel } = await api.channel.rotateChannelKey({ channelId, keyEpoch: epoch, encryptedName });
    store.keystore.setChannelKey(channelId, epoch, key.key);
    await store.save();
    if (channel) await channels.set(channel);
  } catch (err) {
    if (err instanceof ApiError && err.code === "aborted") {
      // another member rotated first: theirs is the key
      await channels.refresh();
      await keys.fetchKeys();
      return "lost-race";
    }
    throw err;
  }
  await keys.adoptNewChannelKey(channelId, key);
  await store.flush();
  return "rotated";
}

/**
 * Rotates every channel this device can rotate whose key was last set before `since` (the
 * removal or revocation): a channel rotated (or created) after it needs nothing more. Without
 * `since`, every channel.
 */
export async function rotateAfterRemoval(p: ClientParts, since?: Date): Promise<Map<string, RotationOutcome>> {
  p.trust.invalidate(); // the removed devices must be out of the share list first
  await p.trust.snapshot();
  await p.channels.refresh();
  const out = new Map<string, RotationOutcome>();
  for (const c of p.channels.list()) {
    const changed = c.row.updatedAt ? timestampDate(c.row.updatedAt) : undefined;
    if (since && changed && changed.getTime() > since.getTime()) continue;
    out.set(c.id, await rotateChannelKey(p, c.id));
  }
  return out;
}
