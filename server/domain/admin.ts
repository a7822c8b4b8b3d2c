// Account administration: list accounts, grant or revoke admin, remove accounts (with the
// calling admin's signed removal, when sent), revoke any device. Every change commits its
// durable event with it and writes one audit log line (ids only). The caller is checked by the
// handler (requireAdmin).
import { IdentityChange } from "../../gen/dialtone/v1/event_pb.js";
import * as repo from "../db/repos/users.js";
import type { Deps } from "./deps.js";
import { revokeDevice as revokeAnyDevice } from "./devices.js";
import { DomainError, invalid, notFound } from "./errors.js";
import { identityKeyOf, targetIdentity } from "./identities.js";
import { removal, requireSigned } from "./statements.js";
import { signature, uuid } from "./validate.js";
import { durable, identityUpdated } from "./wire.js";

/** Who acts: an admin account's id, or undefined for the X-Admin-Token. */
export type AdminActor = string | undefined;
const actorName = (a: AdminActor) => a ?? "admin-token";
const lastAdmin = (what: string) =>
  new DomainError("failed_precondition", `user_id: cannot ${what} the last admin; make another account admin first`);

export async function listUsers(deps: Deps, req: { includeRemoved: boolean }) {
  const users = await repo.listUsers(deps.database.db, req.includeRemoved);
  const online = deps.presence.onlineDevices();
  return users.map((u) => ({ ...u, online: online.has(u.id) }));
}

export async function setAdmin(deps: Deps, actor: AdminActor, req: { userId: string; isAdmin: boolean }) {
  const id = uuid("user_id", req.userId);
  const now = deps.now();
  const res = await repo.setAdmin(
    deps.database.db,
    id,
    req.isAdmin,
    now,
    durable({ case: "adminChanged", value: { userId: id, isAdmin: req.isAdmin } }, now),
  );
  if (res.kind === "last_admin") throw lastAdmin("revoke");
  if (res.kind === "not_found") throw notFound("user", "user_id");
  if (res.kind === "removed") throw new DomainError("failed_precondition", "user_id: the account was removed");
  if (res.kind === "changed") deps.bus.publishDurable(res.events);
  deps.log.info("audit", {
    action: req.isAdmin ? "grant_admin" : "revoke_admin",
    actor: actorName(actor),
    target_user_id: id,
    changed: res.kind === "changed",
  });
  const user = (await repo.findUser(deps.database.db, id))!;
  return { ...user, online: deps.presence.isOnline(id) };
}

/**
 * The signed removal to store with the tombstone: `removal|{user_id}|{identity key}` by the
 * calling admin's identity key. The admin token is no account and has no key to sign with.
 */
async function signedRemoval(deps: Deps, actor: AdminActor, userId: string, sig: string, now: Date): Promise<repo.SignedRemoval> {
  if (!actor) throw invalid("removal_signature", "needs an admin's session: the admin token has no identity key to sign with");
  const signerKey = await identityKeyOf(deps, actor);
  const target = await targetIdentity(deps, userId, "user_id");
  requireSigned("removal_signature", removal(userId, target.publicKey), sig, signerKey, "your identity key");
  return {
    row: { userId, identityPublicKey: target.publicKey, signerUserId: actor, signature: sig, createdAt: now },
    event: identityUpdated(userId, IdentityChange.REMOVED, now),
  };
}

export async function removeUser(deps: Deps, actor: AdminActor, req: { userId: string; removalSignature?: string }) {
  const id = uuid("user_id", req.userId);
  const sig = req.removalSignature ? signature("removal_signature", req.removalSignature) : undefined;
  const now = deps.now();
  const signed = sig ? await signedRemoval(deps, actor, id, sig, now) : undefined;
  const res = await repo.removeUser(
    deps.database.db,
    id,
    now,
    (deviceIds) => [
      ...deviceIds.map((deviceId) => durable({ case: "deviceRevoked", value: { deviceId, userId: id } }, now)),
      durable({ case: "userRemoved", value: { userId: id, revokedDeviceIds: deviceIds } }, now),
    ],
    signed,
  );
  if (res.kind === "last_admin") throw lastAdmin("remove");
  if (res.kind === "not_found") throw notFound("user", "user_id");
  const revoked = res.kind === "removed" ? res.revokedDeviceIds : [];
  // The feed ends the open streams of each revoked device as it delivers DeviceRevoked
  // (in every server process); voice memberships end with them, and here at once.
  deps.bus.publishDurable(res.events);
  for (const deviceId of revoked) deps.voice.deviceGone(deviceId);
  deps.log.info("audit", {
    action: "remove_user",
    actor: actorName(actor),
    target_user_id: id,
    devices_revoked: revoked.length,
    changed: res.kind === "removed",
    removal_signed: res.removalStored,
  });
  return { revokedDeviceIds: revoked };
}

export async function revokeDevice(deps: Deps, actor: AdminActor, req: { deviceId: string }) {
  const res = await revokeAnyDevice(deps, { userId: actor, isAdmin: true }, req);
  deps.log.info("audit", {
    action: "revoke_device",
    actor: actorName(actor),
    target_device_id: req.deviceId.toLowerCase(),
    target_user_id: res.userId,
    changed: res.revoked,
  });
}
