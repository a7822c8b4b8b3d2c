// Read markers: where this account has read each channel to, kept by the server (a seq per
// channel, no content) so that every device of the account opens a channel at the same place.
import type { ReadMarker } from "../../gen/dialtone/v1/read_state_pb.js";
import type { Api } from "./api.js";
import type { Emitter } from "./emitter.js";
import type { ClientEvents } from "./events.js";

export class ReadState {
  readonly #api: Pick<Api, "readState">;
  readonly #events: Emitter<ClientEvents>;
  readonly #markers = new Map<string, bigint>();
  /** Sends in flight per channel, so a burst of reads becomes one call with the highest seq. */
  readonly #pending = new Map<string, bigint>();
  readonly #inflight = new Set<string>();

  constructor(api: Pick<Api, "readState">, events: Emitter<ClientEvents>) {
    this.#api = api;
    this.#events = events;
  }

  /** Where the account has read the channel to (0 when never). */
  seqOf(channelId: string): bigint {
    return this.#markers.get(channelId) ?? 0n;
  }

  /** Loads every marker from the server (at start and after each reconnect). */
  async load(): Promise<void> {
    const { markers } = await this.#api.readState.listReadMarkers({});
    for (const m of markers) this.apply(m);
  }

  /** A marker the server reports (ReadMarkerMoved, or a list): kept if it is further. */
  apply(marker: ReadMarker): void {
    if (marker.seq <= this.seqOf(marker.channelId)) return;
    this.#markers.set(marker.channelId, marker.seq);
    this.#events.emit("read-marker", { channelId: marker.channelId, seq: marker.seq });
  }

  /** Records reading the channel up to `seq` here and on the server (never moves back). */
  async markRead(channelId: string, seq: bigint): Promise<void> {
    if (seq <= this.seqOf(channelId) || seq <= (this.#pending.get(channelId) ?? 0n)) return;
    this.#pending.set(channelId, seq);
    if (this.#inflight.has(channelId)) return; // the running call sends the newest seq next
    this.#inflight.add(channelId);
    try {
      for (
        let next = this.#pending.get(channelId);
        next !== undefined && next > this.seqOf(channelId);
        next = this.#pending.get(channelId)
      ) {
        const { marker } = await this.#api.readState.markRead({ channelId, seq: next });
        if (marker) this.apply(marker);
        if (this.#pending.get(channelId) === next) break;
      }
    } finally {
      this.#inflight.delete(channelId);
      this.#pending.delete(channelId);
    }
  }

  forget(channelId: string): void {
    this.#markers.delete(channelId);
  }
}
