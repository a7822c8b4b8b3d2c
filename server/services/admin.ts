import type { ServiceImpl } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { AdminService } from "../../gen/dialtone/v1/admin_service_pb.js";
import type { UserWithDevices } from "../db/repos/users.js";
import * as admin from "../domain/admin.js";
import type { Deps } from "../domain/deps.js";
import { toDevice } from "../domain/wire.js";
import { requireAdmin } from "../http/context.js";

const toUser = (u: UserWithDevices & { online: boolean }) => ({
  userId: u.id,
  isAdmin: u.isAdmin,
  createdAt: timestampFromDate(u.createdAt),
  ...(u.removedAt ? { removedAt: timestampFromDate(u.removedAt) } : {}),
  devices: u.devices.map(toDevice),
  online: u.online,
});

export function adminService(deps: Deps): ServiceImpl<typeof AdminService> {
  return {
    async listUsers(req, ctx) {
      requireAdmin(ctx);
      return { users: (await admin.listUsers(deps, req)).map(toUser) };
    },
    async setAdmin(req, ctx) {
      const { caller } = requireAdmin(ctx);
      return { user: toUser(await admin.setAdmin(deps, caller?.userId, req)) };
    },
    async removeUser(req, ctx) {
      const { caller } = requireAdmin(ctx);
      return admin.removeUser(deps, caller?.userId, req);
    },
    async revokeDevice(req, ctx) {
      const { caller } = requireAdmin(ctx);
      await admin.revokeDevice(deps, caller?.userId, req);
      return {};
    },
  };
}
