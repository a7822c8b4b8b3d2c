import type { ServiceImpl } from "@connectrpc/connect";
import type { ChannelService } from "../../gen/dialtone/v1/channel_service_pb.js";
import * as channels from "../domain/channels.js";
import type { Deps } from "../domain/deps.js";
import { toChannel } from "../domain/wire.js";
import { requireCaller } from "../http/context.js";

export function channelService(deps: Deps): ServiceImpl<typeof ChannelService> {
  return {
    async listChannels(_req, ctx) {
      requireCaller(ctx);
      return { channels: (await channels.listChannels(deps)).map(toChannel) };
    },
    async createChannel(req, ctx) {
      return { channel: toChannel(await channels.createChannel(deps, requireCaller(ctx), req)) };
    },
    async renameChannel(req, ctx) {
      return { channel: toChannel(await channels.renameChannel(deps, requireCaller(ctx), req)) };
    },
    async rotateChannelKey(req, ctx) {
      return { channel: toChannel(await channels.rotateChannelKey(deps, requireCaller(ctx), req)) };
    },
    async deleteChannel(req, ctx) {
      await channels.deleteChannel(deps, requireCaller(ctx), req);
      return {};
    },
  };
}
