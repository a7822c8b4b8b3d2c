import type { ServiceImpl } from "@connectrpc/connect";
import type { ReadStateService } from "../../gen/dialtone/v1/read_state_service_pb.js";
import type { Deps } from "../domain/deps.js";
import * as readState from "../domain/read-state.js";
import { requireCaller } from "../http/context.js";

export function readStateService(deps: Deps): ServiceImpl<typeof ReadStateService> {
  return {
    async markRead(req, ctx) {
      return { marker: await readState.markRead(deps, requireCaller(ctx), req) };
    },
    async listReadMarkers(_req, ctx) {
      return { markers: await readState.listReadMarkers(deps, requireCaller(ctx)) };
    },
  };
}
