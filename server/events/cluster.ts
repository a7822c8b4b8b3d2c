// Keeps this process's view of the cluster: its own streams and voice members are
// told to the others over the bus, theirs are applied here, and a process that stops
// sending heartbeats (killed, partitioned) is dropped with its streams and members.
import type { VoiceRooms } from "../domain/voice-rooms.js";
import type { Logger } from "../log.js";
import type { EventBus, StateMessage } from "./bus.js";
import type { Feed } from "./feed.js";
import type { Presence } from "./presence.js";

export interface ClusterOptions {
  bus: EventBus;
  feed: Feed;
  presence: Presence;
  voice: VoiceRooms;
  log: Logger;
  /** Reads the newest durable seq, to catch announcements lost while reconnecting. */
  headSeq?: () => Promise<bigint>;
  heartbeatMs?: number;
  /** A process silent this long is considered gone. */
  expireMs?: number;
}

export class Cluster {
  private readonly lastSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ClusterOptions) {
    const me = o.bus.processId;
    o.feed.onStreamOpen((s) => {
      o.presence.add({ streamId: s.id, userId: s.userId, deviceId: s.deviceId, processId: me });
      o.bus.publishState({ kind: "stream-open", streamId: s.id, userId: s.userId, deviceId: s.deviceId });
    });
    o.feed.onStreamClose((s) => {
      o.voice.streamClosed(s.id);
      o.presence.remove(s.id);
      o.bus.publishState({ kind: "stream-close", streamId: s.id });
    });
    o.bus.onState((msg, from) => this.receive(msg, from));
  }

  /** Announces this process and starts heartbeats (multi-process buses only). */
  start() {
    const every = this.o.heartbeatMs ?? 2000;
    this.o.bus.publishState({ kind: "hello" });
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
    this.o.bus.publishState({ kind: "bye" });
  }

  private async tick() {
    this.o.bus.publishState({ kind: "heartbeat" });
    const expire = this.o.expireMs ?? 3 * (this.o.heartbeatMs ?? 2000);
    const now = Date.now();
    for (const [pid, seen] of this.lastSeen) if (now - seen > expire) this.drop(pid, "silent");
    if (this.o.headSeq) {
      try {
        this.o.feed.announce(await this.o.headSeq());
      } catch (err) {
        this.o.log.warn("head poll failed", { name: (err as Error).name });
      }
    }
  }

  private receive(msg: StateMessage, from: string) {
    if (msg.kind === "bye") return this.drop(from, "bye");
    const known = this.lastSeen.has(from);
    this.lastSeen.set(from, Date.now());
    if (!known) this.o.log.info("cluster peer seen", { process: from });
    switch (msg.kind) {
      case "hello":
        return this.reannounce();
      case "stream-open":
        return this.o.presence.add({ streamId: msg.streamId, userId: msg.userId, deviceId: msg.deviceId, processId: from });
      case "stream-close":
        return this.o.presence.remove(msg.streamId);
      case "voice-join":
      case "voice-leave":
        return this.o.voice.apply(msg, from);
      case "session-end":
        return this.o.feed.endSession(msg.sessionKey);
      case "heartbeat":
        return;
    }
  }

  /** A new process asked: tell it everything this one holds. */
  private reannounce() {
    const me = this.o.bus.processId;
    for (const s of this.o.presence.streamsOf(me)) {
      this.o.bus.publishState({ kind: "stream-open", streamId: s.streamId, userId: s.userId, deviceId: s.deviceId });
    }
    for (const m of this.o.voice.localMembers()) {
      this.o.bus.publishState({ kind: "voice-join", channelId: m.channelId, userId: m.userId, deviceId: m.deviceId, streamId: m.streamId });
    }
  }

  private drop(pid: string, why: string) {
    if (!this.lastSeen.delete(pid)) return;
    this.o.log.info("cluster peer gone", { process: pid, reason: why });
    this.o.voice.removeProcess(pid);
    this.o.presence.removeProcess(pid);
  }
}
