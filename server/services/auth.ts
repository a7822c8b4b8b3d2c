import type { ServiceImpl } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { AuthService } from "../../gen/dialtone/v1/auth_service_pb.js";
import * as accounts from "../domain/accounts.js";
import type { Deps } from "../domain/deps.js";
import { kPeer, requireCaller } from "../http/context.js";

const session = (s: accounts.SessionResult) => ({
  token: s.token,
  userId: s.userId,
  deviceId: s.deviceId,
  isAdmin: s.isAdmin,
  expiresAt: timestampFromDate(s.expiresAt),
});

export function authService(deps: Deps): ServiceImpl<typeof AuthService> {
  return {
    async register(req) {
      return { session: session(await accounts.register(deps, req)) };
    },
    async login(req, ctx) {
      const s = await accounts.login(deps, ctx.values.get(kPeer), req);
      return { session: session(s), deviceCreated: s.deviceCreated };
    },
    async logout(_req, ctx) {
      await accounts.logout(deps, requireCaller(ctx));
      return {};
    },
    getSession(_req, ctx) {
      const c = requireCaller(ctx);
      return { userId: c.userId, deviceId: c.deviceId, isAdmin: c.isAdmin, expiresAt: timestampFromDate(c.expiresAt) };
    },
  };
}
