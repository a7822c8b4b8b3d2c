// Invites: minted by admins, shown once, stored as a hash.
import { randomUUID } from "node:crypto";
import { userCount } from "../db/repos/accounts.js";
import * as repo from "../db/repos/invites.js";
import type { Deps } from "./deps.js";
import { invalid, notFound } from "./errors.js";
import { hashToken, newToken } from "./tokens.js";
import { uuid } from "./validate.js";

export const INVITE_DEFAULT_SECONDS = 24 * 3600;

export async function createInvite(deps: Deps, byUserId: string | undefined, req: { lifetimeSeconds?: number; maxUses?: number }) {
  const lifetime = req.lifetimeSeconds ?? INVITE_DEFAULT_SECONDS;
  if (lifetime < 60 || lifetime > 30 * 86400) throw invalid("lifetime_seconds", "must be 60 to 2592000");
  const maxUses = req.maxUses ?? 1;
  if (maxUses < 1 || maxUses > 1000) throw invalid("max_uses", "must be 1 to 1000");
  const now = deps.now();
  const token = newToken();
  const invite = await repo.insertInvite(deps.database.db, {
    id: randomUUID(),
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + lifetime * 1000),
    maxUses,
    createdByUserId: byUserId ?? null,
  });
  deps.log.info("invite created", { invite_id: invite.id, by: byUserId ?? "admin-token", max_uses: maxUses });
  return { token, invite };
}

export const listInvites = (deps: Deps, includeInactive: boolean) => repo.listInvites(deps.database.db, includeInactive, deps.now());

export async function revokeInvite(deps: Deps, inviteId: string) {
  const id = uuid("invite_id", inviteId);
  if (!(await repo.revokeInvite(deps.database.db, id, deps.now()))) throw notFound("invite", "invite_id");
  deps.log.info("invite revoked", { invite_id: id });
}

/**
 * The invite the start-up banner prints, minted only while the server has no account yet: once
 * someone has registered, admins mint invites themselves, and a restart leaves no fresh token
 * in the service's output.
 */
export async function bootstrapInvite(deps: Deps): Promise<string | undefined> {
  if ((await userCount(deps.database.db)) > 0) return undefined;
  return (await createInvite(deps, undefined, {})).token;
}
