import type { ServiceImpl } from "@connectrpc/connect";
import type { VoiceService } from "../../gen/dialtone/v1/voice_service_pb.js";
import type { Deps } from "../domain/deps.js";
import * as voice from "../domain/voice.js";
import { requireCaller } from "../http/context.js";

const member = (m: { channelId: string; userId: string; deviceId: string }) => ({
  channelId: m.channelId,
  userId: m.userId,
  deviceId: m.deviceId,
});

export function voiceService(deps: Deps): ServiceImpl<typeof VoiceService> {
  return {
    async join(req, ctx) {
      return { members: (await voice.joinVoice(deps, requireCaller(ctx), req)).map(member) };
    },
    leave(req, ctx) {
      voice.leaveVoice(deps, requireCaller(ctx), req);
      return {};
    },
    signal(req, ctx) {
      voice.relaySignal(deps, requireCaller(ctx), req);
      return {};
    },
    getIceServers(_req, ctx) {
      const { servers, ttlSeconds } = voice.getIceServers(deps, requireCaller(ctx));
      return { iceServers: servers, ttlSeconds };
    },
    listVoiceRooms(_req, ctx) {
      requireCaller(ctx);
      return { rooms: deps.voice.allRooms().map((r) => ({ channelId: r.channelId, members: r.members.map(member) })) };
    },
  };
}
