// The daemon state that WatchState streams: a snapshot to every new watcher, then the state
// again after each change (changes within one tick are coalesced), plus info/error notices.
import { create } from "@bufbuild/protobuf";
import {
  RoomStatus,
  SpeakingMode,
  StateSchema,
  WatchStateResponseSchema,
  type State,
  type WatchStateResponse,
} from "../gen/dialtone/voiced/v1/voiced_service_pb.js";

export { RoomStatus, SpeakingMode };

type Watcher = (item: WatchStateResponse) => void;

export class StateStore {
  private state: State = create(StateSchema, { status: RoomStatus.IDLE, speakingMode: SpeakingMode.VOICE_ACTIVITY });
  private readonly watchers = new Set<Watcher>();
  private pending = false;
  /** Notices that describe a lasting condition (why PTT fell back to VAD), replayed to new watchers. */
  private readonly sticky = new Map<string, WatchStateResponse>();

  /** Replaces the state through `fn` and tells the watchers (once per tick). */
  update(fn: (s: State) => void): void {
    fn(this.state);
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.broadcast(create(WatchStateResponseSchema, { item: { case: "state", value: this.snapshot() } }));
    });
  }

  snapshot(): State {
    return create(StateSchema, { ...this.state, members: this.state.members.map((m) => ({ ...m })), volumes: { ...this.state.volumes } });
  }

  get current(): Readonly<State> {
    return this.state;
  }

  /** An info notice; with `topic`, it is also replayed to later watchers until replaced or cleared. */
  info(text: string, topic?: string): void {
    const item = create(WatchStateResponseSchema, { item: { case: "info", value: text } });
    if (topic) this.sticky.set(topic, item);
    this.broadcast(item);
  }

  clearSticky(topic: string): void {
    this.sticky.delete(topic);
  }

  error(text: string): void {
    this.broadcast(create(WatchStateResponseSchema, { item: { case: "error", value: text } }));
  }

  /** Subscribes; the first item is the current state. Returns the unsubscribe function. */
  watch(w: Watcher): () => void {
    this.watchers.add(w);
    w(create(WatchStateResponseSchema, { item: { case: "state", value: this.snapshot() } }));
    for (const item of this.sticky.values()) w(item);
    return () => this.watchers.delete(w);
  }

  private broadcast(item: WatchStateResponse): void {
    for (const w of this.watchers) w(item);
  }
}
