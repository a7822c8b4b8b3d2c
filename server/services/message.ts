import type { ServiceImpl } from "@connectrpc/connect";
import type { MessageService } from "../../gen/dialtone/v1/message_service_pb.js";
import type { Deps } from "../domain/deps.js";
import * as messages from "../domain/messages.js";
import { toMessage } from "../domain/wire.js";
import { requireCaller } from "../http/context.js";

export function messageService(deps: Deps): ServiceImpl<typeof MessageService> {
  return {
    async sendMessage(req, ctx) {
      return { message: toMessage(await messages.sendMessage(deps, requireCaller(ctx), req)) };
    },
    async deleteMessage(req, ctx) {
      return messages.deleteMessage(deps, requireCaller(ctx), req);
    },
    async sendTyping(req, ctx) {
      await messages.sendTyping(deps, requireCaller(ctx), req);
      return {};
    },
    async listMessages(req, ctx) {
      requireCaller(ctx);
      const page = await messages.listMessages(deps, req);
      return { messages: page.messages.map(toMessage), hasMore: page.hasMore };
    },
  };
}
