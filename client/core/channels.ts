// The channel list as this device sees it: rows from the server with their names opened by the
// keys we hold ("<encrypted>" otherwise), and the resolution of what a user types.
import type { Channel } from "../../gen/dialtone/v1/channel_pb.js";
import { sealText, type EpochKey } from "../crypto/index.js";
import type { Api } from "./api.js";
import { UsageError } from "./errors.js";
import { channelView, resolveByNameOrId, type ChannelView } from "./names.js";

const NAME_MAX = 100;

/** A channel or profile name: trimmed, 1..100 characters, no control characters. */
export function checkName(what: string, name: string): string {
  const n = name.normalize("NFC").trim();
  if (!n) throw new UsageError("invalid-input", `${what} must not be empty`);
  if ([...n].length > NAME_MAX) throw new UsageError("invalid-input", `${what} is longer than ${NAME_MAX} characters`);
  if (/\p{Cc}/u.test(n)) throw new UsageError("invalid-input", `${what} must not contain control characters`);
  return n;
}

/** A channel name sealed with its key, bound to the channel id. */
export const sealChannelName = (key: EpochKey, channelId: string, name: string): Promise<string> =>
  sealText(key, { purpose: "channel-name", channelId }, name);

export class ChannelBook {
  readonly #api: Pick<Api, "channel">;
  readonly #keyFor: (channelId: string, epoch: number) => EpochKey | undefined;
  readonly #views = new Map<string, ChannelView>();

  constructor(api: Pick<Api, "channel">, keyFor: (channelId: string, epoch: number) => EpochKey | undefined) {
    this.#api = api;
    this.#keyFor = keyFor;
  }

  /** Reloads the list from the server (deleted channels disappear). */
  async refresh(): Promise<ChannelView[]> {
    const { channels } = await this.#api.channel.listChannels({});
    const ids = new Set(channels.map((c) => c.channelId));
    for (const id of [...this.#views.keys()]) if (!ids.has(id)) this.#views.delete(id);
    for (const row of channels) await this.set(row);
    return this.list();
  }

  /** Stores a row (created, renamed, listed) and opens its name with the keys held now. */
  async set(row: Channel): Promise<ChannelView> {
    const view = await channelView(row, (epoch) => this.#keyFor(row.channelId, epoch));
    this.#views.set(row.channelId, view);
    return view;
  }

  /** Re-opens every name (after keys arrived). */
  async reopen(): Promise<void> {
    for (const view of [...this.#views.values()]) await this.set(view.row);
  }

  get(channelId: string): ChannelView | undefined {
    return this.#views.get(channelId);
  }

  /** The row, asking the server once if the channel is not known yet. */
  async row(channelId: string): Promise<Channel | undefined> {
    if (!this.#views.has(channelId)) await this.refresh();
    return this.#views.get(channelId)?.row;
  }

  remove(channelId: string): ChannelView | undefined {
    const view = this.#views.get(channelId);
    this.#views.delete(channelId);
    return view;
  }

  /** Every channel, oldest first. */
  list(): ChannelView[] {
    return [...this.#views.values()].sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
  }

  /** Channels whose name this device cannot open yet. */
  unreadable(): ChannelView[] {
    return this.list().filter((c) => c.name === undefined);
  }

  /** By name (#general, any case) or id prefix; UsageError when unknown or ambiguous. */
  resolve(arg: string): ChannelView {
    return resolveByNameOrId(this.list(), arg, (c) => c, "channel");
  }

  /** A channel already named `name` (case-insensitive), if any. */
  named(name: string): ChannelView | undefined {
    return this.list().find((c) => c.name !== undefined && c.name.toLowerCase() === name.toLowerCase());
  }
}
