import type { ServiceImpl } from "@connectrpc/connect";
import type { EventService } from "../../gen/dialtone/v1/event_service_pb.js";
import type { Deps } from "../domain/deps.js";
import { subscribe } from "../events/subscribe.js";
import { requireCaller } from "../http/context.js";

export function eventService(deps: Deps): ServiceImpl<typeof EventService> {
  return {
    subscribe(req, ctx) {
      return subscribe(deps, requireCaller(ctx), req.afterSeq, ctx.signal);
    },
  };
}
