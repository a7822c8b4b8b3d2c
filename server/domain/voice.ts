// Voice rooms over the API: join/leave, sealed signal relay, ICE servers.
import { findChannel } from "../db/repos/channels.js";
import type { Caller, Deps } from "./deps.js";
import { DomainError, invalid, notFound } from "./errors.js";
import { iceServers } from "./turn.js";
import { epoch, LIMITS, sealed, uuid } from "./validate.js";
import { ephemeral } from "./wire.js";

export async function joinVoice(deps: Deps, caller: Caller, req: { channelId: string; streamId: string }) {
  const channelId = uuid("channel_id", req.channelId);
  const streamId = uuid("stream_id", req.streamId);
  const stream = deps.presence.stream(streamId);
  if (!stream || stream.deviceId !== caller.deviceId) {
    throw invalid("stream_id", "not an open Subscribe stream of this device");
  }
  if (!(await findChannel(deps.database.db, channelId))) throw notFound("channel", "channel_id");
  // The stream may have closed while we looked the channel up.
  if (!deps.presence.stream(streamId)) throw invalid("stream_id", "the stream closed");
  return deps.voice.join({ channelId, userId: caller.userId, deviceId: caller.deviceId, streamId, processId: stream.processId });
}

export function leaveVoice(deps: Deps, caller: Caller, req: { channelId: string }) {
  const channelId = uuid("channel_id", req.channelId);
  if (!deps.voice.leave(channelId, caller.deviceId)) throw new DomainError("failed_precondition", "channel_id: not in this voice room");
}

export function relaySignal(
  deps: Deps,
  caller: Caller,
  req: { channelId: string; recipientDeviceId: string; encryptedPayload: string; keyEpoch: number },
) {
  const channelId = uuid("channel_id", req.channelId);
  const recipient = uuid("recipient_device_id", req.recipientDeviceId);
  const keyEpoch = epoch("key_epoch", req.keyEpoch);
  const payload = sealed("encrypted_payload", req.encryptedPayload, LIMITS.signalBytes, keyEpoch);
  const me = deps.voice.memberOf(caller.deviceId);
  if (!me || me.channelId !== channelId) throw new DomainError("failed_precondition", "channel_id: join the voice room before signalling");
  const them = deps.voice.memberOf(recipient);
  if (!them || them.channelId !== channelId) throw notFound("device in this voice room", "recipient_device_id");
  deps.bus.publishEphemeral({
    audience: { kind: "stream", streamId: them.streamId },
    event: ephemeral({
      case: "voiceSignal",
      value: {
        channelId,
        senderUserId: caller.userId,
        senderDeviceId: caller.deviceId,
        recipientDeviceId: recipient,
        encryptedPayload: payload,
        keyEpoch,
      },
    }),
  });
}

export function getIceServers(deps: Deps, caller: Caller) {
  const servers = iceServers(deps.turn.urls, deps.turn.secret, caller.userId, deps.turn.ttlSeconds, deps.now().getTime());
  return { servers, ttlSeconds: deps.turn.secret ? deps.turn.ttlSeconds : 0 };
}
