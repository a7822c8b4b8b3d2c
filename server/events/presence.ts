// Who is online across the cluster: every open Subscribe stream of every process,
// this one's and the others' (learnt over the bus). A user is online while they hold
// at least one stream; each process tells its own subscribers about changes.
import type { PresenceView, StreamRecord } from "../domain/ports.js";

export type { StreamRecord } from "../domain/ports.js";

export class Presence implements PresenceView {
  private readonly streams = new Map<string, StreamRecord>();
  private readonly perUser = new Map<string, number>();

  constructor(private readonly changed: (userId: string, online: boolean) => void) {}

  add(s: StreamRecord) {
    if (this.streams.has(s.streamId)) return;
    this.streams.set(s.streamId, s);
    const n = (this.perUser.get(s.userId) ?? 0) + 1;
    this.perUser.set(s.userId, n);
    if (n === 1) this.changed(s.userId, true);
  }

  remove(streamId: string) {
    const s = this.streams.get(streamId);
    if (!s) return;
    this.streams.delete(streamId);
    const n = (this.perUser.get(s.userId) ?? 1) - 1;
    if (n > 0) this.perUser.set(s.userId, n);
    else {
      this.perUser.delete(s.userId);
      this.changed(s.userId, false);
    }
  }

  removeProcess(processId: string) {
    for (const s of [...this.streams.values()]) if (s.processId === processId) this.remove(s.streamId);
  }

  stream(streamId: string): StreamRecord | undefined {
    return this.streams.get(streamId);
  }

  streamsOf(processId: string): StreamRecord[] {
    return [...this.streams.values()].filter((s) => s.processId === processId);
  }

  isOnline(userId: string): boolean {
    return this.perUser.has(userId);
  }

  /** user id → ids of their connected devices. */
  onlineDevices(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const s of this.streams.values()) {
      let set = out.get(s.userId);
      if (!set) out.set(s.userId, (set = new Set()));
      set.add(s.deviceId);
    }
    return out;
  }
}
