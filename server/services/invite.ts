import type { ServiceImpl } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { InviteService } from "../../gen/dialtone/v1/invite_service_pb.js";
import type { InviteRow } from "../db/repos/invites.js";
import type { Deps } from "../domain/deps.js";
import * as invites from "../domain/invites.js";
import { requireAdmin } from "../http/context.js";

const toInvite = (r: InviteRow) => ({
  inviteId: r.id,
  createdAt: timestampFromDate(r.createdAt),
  expiresAt: timestampFromDate(r.expiresAt),
  maxUses: r.maxUses,
  uses: r.uses,
  revoked: !!r.revokedAt,
});

export function inviteService(deps: Deps): ServiceImpl<typeof InviteService> {
  return {
    async createInvite(req, ctx) {
      const { caller } = requireAdmin(ctx);
      const { token, invite } = await invites.createInvite(deps, caller?.userId, req);
      return { token, invite: toInvite(invite) };
    },
    async listInvites(req, ctx) {
      requireAdmin(ctx);
      return { invites: (await invites.listInvites(deps, req.includeInactive)).map(toInvite) };
    },
    async revokeInvite(req, ctx) {
      requireAdmin(ctx);
      await invites.revokeInvite(deps, req.inviteId);
      return {};
    },
  };
}
