// What a member does to channels: find one by what they typed (waiting for names that are still
// sealed for this device), require its key, create, rename and delete.
import { randomUUID } from "node:crypto";
import type { EpochKey } from "../crypto/index.js";
import { checkName, sealChannelName } from "./channels.js";
import type { ClientParts } from "./client-parts.js";
import { ApiError, KeyError, UsageError } from "./errors.js";
import type { KeyWaiting } from "./key-waiting.js";
import { newChannelKey } from "./keys.js";
import { shortId, type ChannelView } from "./names.js";

export class ChannelActions {
  readonly #p: ClientParts;
  readonly #keyWaiting: KeyWaiting;

  constructor(parts: ClientParts, keyWaiting: KeyWaiting) {
    this.#p = parts;
    this.#keyWaiting = keyWaiting;
  }

  /**
   * A channel by name ("#general", case-insensitive) or id prefix. Names this device cannot
   * read yet are waited for (up to `waitMs`, keys being shared by other members' clients).
   */
  async resolve(arg: string, waitMs: number): Promise<ChannelView> {
    const { channels } = this.#p;
    try {
      return channels.resolve(arg);
    } catch (err) {
      if (!(err instanceof UsageError && err.code === "unknown-channel") || channels.unreadable().length === 0) throw err;
      const found = await this.#keyWaiting.waitFor(() => {
        try {
          return channels.resolve(arg);
        } catch {
          return undefined;
        }
      }, waitMs);
      if (found) return found;
      const locked = channels.unreadable();
      throw new KeyError(
        "missing-key",
        `no readable channel named ${JSON.stringify(arg)}: ${locked.length} channel name(s) are still encrypted for this device` +
          ` (no member's client has shared their keys with it yet${this.#keyWaiting.rejectionHint(locked.map((c) => ({ kind: "channel", channelId: c.id })))});` +
          ` keep "dialtone tail" running somewhere, or retry`,
      );
    }
  }

  /** The channel's current key, waiting up to `waitMs` for another member's client to share it. */
  async requireKey(channelId: string, waitMs: number): Promise<EpochKey> {
    const { keys, channels } = this.#p;
    // The channel's current epoch (after a rotation, the old key is for history only).
    const current = () => {
      const epoch = channels.get(channelId)?.row.keyEpoch;
      return epoch ? keys.channelKeyAt(channelId, epoch) : keys.channelKey(channelId);
    };
    const key = current() ?? (await this.#keyWaiting.waitFor(current, waitMs));
    if (key) return key;
    const label = this.#p.channels.get(channelId)?.name ?? shortId(channelId);
    throw new KeyError(
      "missing-key",
      `this device holds no key for #${label} yet: no member's client has shared it` +
        this.#keyWaiting.rejectionHint([{ kind: "channel", channelId }]) +
        (waitMs > 0 ? ` (waited ${Math.round(waitMs / 1000)} s)` : "") +
        `; keep "dialtone tail" running on a device that has it, or retry`,
    );
  }

  async create(name: string): Promise<ChannelView> {
    const { channels, store, api, keys } = this.#p;
    const clean = checkName("channel name", name);
    const taken = channels.named(clean);
    if (taken) throw new UsageError("invalid-input", `a channel named ${clean} exists (${shortId(taken.id)})`);
    const channelId = randomUUID();
    const key = newChannelKey();
    const encryptedName = await sealChannelName(key, channelId, clean);
    // Keep the key on disk before the channel exists, so a crash cannot leave a channel nobody can read.
    store.keystore.setChannelKey(channelId, key.epoch, key.key);
    await store.save();
    const { channel } = await api.channel.createChannel({ channelId, encryptedName });
    if (!channel) throw new ApiError("internal", "the server answered without a channel");
    const view = await channels.set(channel);
    await keys.adoptNewChannelKey(channelId, key);
    await store.flush();
    return view;
  }

  async rename(channelId: string, name: string): Promise<{ channel: ChannelView; previous: string | undefined }> {
    const clean = checkName("channel name", name);
    const previous = this.#p.channels.get(channelId)?.name;
    const key = await this.requireKey(channelId, 0);
    const { channel } = await this.#p.api.channel.renameChannel({ channelId, encryptedName: await sealChannelName(key, channelId, clean) });
    if (!channel) throw new ApiError("internal", "the server answered without a channel");
    return { channel: await this.#p.channels.set(channel), previous };
  }

  async delete(channelId: string): Promise<void> {
    const { api, channels, history, store } = this.#p;
    await api.channel.deleteChannel({ channelId });
    channels.remove(channelId);
    history.drop(channelId);
    store.forgetChannel(channelId);
    await store.flush();
  }
}
