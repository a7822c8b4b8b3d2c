// Voice rooms across the cluster: a device is in at most one room, tied to one of its
// Subscribe streams (possibly held by another server process). Every process keeps
// the whole map: local changes are shared over the bus, remote ones applied, and each
// process announces joins and leaves to its own subscribers.
import type { StateMessage } from "./ports.js";

export interface VoiceMemberInfo {
  channelId: string;
  userId: string;
  deviceId: string;
  streamId: string;
  processId: string;
}

export class VoiceRooms {
  private readonly rooms = new Map<string, Map<string, VoiceMemberInfo>>();
  private readonly byDevice = new Map<string, VoiceMemberInfo>();

  constructor(
    private readonly processId: string,
    /** Tells this process's subscribers. */
    private readonly announce: (kind: "voiceJoined" | "voiceLeft", m: VoiceMemberInfo) => void,
    /** Tells the other processes. */
    private readonly share: (msg: StateMessage) => void,
  ) {}

  join(m: Omit<VoiceMemberInfo, "processId"> & { processId?: string }): VoiceMemberInfo[] {
    const member = { ...m, processId: m.processId ?? this.processId };
    const current = this.byDevice.get(m.deviceId);
    if (!current || current.channelId !== m.channelId || current.streamId !== m.streamId) {
      this.add(member);
      this.share({ kind: "voice-join", channelId: m.channelId, userId: m.userId, deviceId: m.deviceId, streamId: m.streamId });
    }
    return this.members(m.channelId);
  }

  /** Removes the device from the room; false when it was not in it. */
  leave(channelId: string, deviceId: string): boolean {
    const m = this.byDevice.get(deviceId);
    if (!m || m.channelId !== channelId) return false;
    this.remove(m);
    this.share({ kind: "voice-leave", channelId, deviceId });
    return true;
  }

  streamClosed(streamId: string) {
    for (const m of [...this.byDevice.values()]) if (m.streamId === streamId) this.leave(m.channelId, m.deviceId);
  }

  deviceGone(deviceId: string) {
    const m = this.byDevice.get(deviceId);
    if (m) this.leave(m.channelId, deviceId);
  }

  closeRoom(channelId: string) {
    for (const m of [...(this.rooms.get(channelId)?.values() ?? [])]) this.leave(channelId, m.deviceId);
  }

  /** A change made by another process. */
  apply(msg: StateMessage, fromProcess: string) {
    if (msg.kind === "voice-join") this.add({ ...msg, processId: fromProcess });
    else if (msg.kind === "voice-leave") {
      const m = this.byDevice.get(msg.deviceId);
      if (m && m.channelId === msg.channelId) this.remove(m);
    }
  }

  /** Another process went away: its members leave. */
  removeProcess(processId: string) {
    for (const m of [...this.byDevice.values()]) if (m.processId === processId) this.remove(m);
  }

  localMembers(): VoiceMemberInfo[] {
    return [...this.byDevice.values()].filter((m) => m.processId === this.processId);
  }

  memberOf(deviceId: string): VoiceMemberInfo | undefined {
    return this.byDevice.get(deviceId);
  }

  members(channelId: string): VoiceMemberInfo[] {
    return [...(this.rooms.get(channelId)?.values() ?? [])];
  }

  allRooms(): Array<{ channelId: string; members: VoiceMemberInfo[] }> {
    return [...this.rooms.entries()].map(([channelId, room]) => ({ channelId, members: [...room.values()] }));
  }

  private add(m: VoiceMemberInfo) {
    const current = this.byDevice.get(m.deviceId);
    if (current) this.remove(current);
    let room = this.rooms.get(m.channelId);
    if (!room) this.rooms.set(m.channelId, (room = new Map()));
    room.set(m.deviceId, m);
    this.byDevice.set(m.deviceId, m);
    this.announce("voiceJoined", m);
  }

  private remove(m: VoiceMemberInfo) {
    const room = this.rooms.get(m.channelId);
    room?.delete(m.deviceId);
    if (room && room.size === 0) this.rooms.delete(m.channelId);
    this.byDevice.delete(m.deviceId);
    this.announce("voiceLeft", m);
  }
}
