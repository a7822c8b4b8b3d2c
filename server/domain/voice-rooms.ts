// Who is in which voice room, in this process. A device is in at most one room,
// tied to one of its Subscribe streams: when that stream ends, it leaves.
import type { EventBus } from "../events/bus.js";
import { ephemeral } from "./wire.js";

export interface VoiceMemberInfo {
  channelId: string;
  userId: string;
  deviceId: string;
  streamId: string;
}

export class VoiceRooms {
  private readonly rooms = new Map<string, Map<string, VoiceMemberInfo>>();
  private readonly byDevice = new Map<string, VoiceMemberInfo>();

  constructor(private readonly bus: EventBus) {}

  join(m: VoiceMemberInfo): VoiceMemberInfo[] {
    const current = this.byDevice.get(m.deviceId);
    if (current && current.channelId === m.channelId && current.streamId === m.streamId) return this.members(m.channelId);
    if (current) this.remove(current);
    let room = this.rooms.get(m.channelId);
    if (!room) this.rooms.set(m.channelId, (room = new Map()));
    room.set(m.deviceId, m);
    this.byDevice.set(m.deviceId, m);
    this.announce("voiceJoined", m);
    return this.members(m.channelId);
  }

  /** Removes the device from the room; false when it was not in it. */
  leave(channelId: string, deviceId: string): boolean {
    const m = this.byDevice.get(deviceId);
    if (!m || m.channelId !== channelId) return false;
    this.remove(m);
    return true;
  }

  streamClosed(streamId: string) {
    for (const m of [...this.byDevice.values()]) if (m.streamId === streamId) this.remove(m);
  }

  deviceGone(deviceId: string) {
    const m = this.byDevice.get(deviceId);
    if (m) this.remove(m);
  }

  closeRoom(channelId: string) {
    for (const m of [...(this.rooms.get(channelId)?.values() ?? [])]) this.remove(m);
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

  private remove(m: VoiceMemberInfo) {
    const room = this.rooms.get(m.channelId);
    room?.delete(m.deviceId);
    if (room && room.size === 0) this.rooms.delete(m.channelId);
    this.byDevice.delete(m.deviceId);
    this.announce("voiceLeft", m);
  }

  private announce(kind: "voiceJoined" | "voiceLeft", m: VoiceMemberInfo) {
    const member = { channelId: m.channelId, userId: m.userId, deviceId: m.deviceId };
    this.bus.publishEphemeral({ audience: { kind: "all" }, event: ephemeral({ case: kind, value: { member } }) });
  }
}
