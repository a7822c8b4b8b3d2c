import type { ServiceImpl } from "@connectrpc/connect";
import type { DirectoryService } from "../../gen/dialtone/v1/directory_service_pb.js";
import type { PresenceService } from "../../gen/dialtone/v1/presence_service_pb.js";
import type { Deps } from "../domain/deps.js";
import * as directory from "../domain/directory.js";
import { toProfile } from "../domain/wire.js";
import { requireCaller } from "../http/context.js";

export function directoryService(deps: Deps): ServiceImpl<typeof DirectoryService> {
  return {
    async listProfiles(_req, ctx) {
      requireCaller(ctx);
      return { profiles: (await directory.listProfiles(deps)).map(toProfile) };
    },
    async setProfile(req, ctx) {
      return { profile: await directory.setProfile(deps, requireCaller(ctx), req) };
    },
  };
}

export function presenceService(deps: Deps): ServiceImpl<typeof PresenceService> {
  return {
    async listPresence(req, ctx) {
      requireCaller(ctx);
      return { presences: await directory.listPresence(deps, req) };
    },
  };
}
