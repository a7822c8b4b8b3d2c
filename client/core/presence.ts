// Who is online and who is in which voice room, as snapshots (the feed's "presence" and "voice"
// events report the changes after them).
import type { Api } from "./api.js";

export interface PresenceView {
  readonly userId: string;
  readonly online: boolean;
  readonly isAdmin: boolean;
}

export interface VoiceRoomView {
  readonly channelId: string;
  readonly members: { readonly userId: string; readonly deviceId: string }[];
}

export async function listPresence(api: Pick<Api, "presence">): Promise<PresenceView[]> {
  const { presences } = await api.presence.listPresence({});
  return presences.map((p) => ({ userId: p.userId, online: p.online, isAdmin: p.isAdmin }));
}

/** The non-empty voice rooms. */
export async function listVoiceRooms(api: Pick<Api, "voice">): Promise<VoiceRoomView[]> {
  const { rooms } = await api.voice.listVoiceRooms({});
  return rooms.map((r) => ({ channelId: r.channelId, members: r.members.map((m) => ({ userId: m.userId, deviceId: m.deviceId })) }));
}
