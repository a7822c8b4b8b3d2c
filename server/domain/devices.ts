// Device lists and revocation (with the owner's signed revocation, when it sends one).
import * as repo from "../db/repos/devices.js";
import type { Caller, Deps } from "./deps.js";
import { denied, invalid, notFound } from "./errors.js";
import { identityKeyOf } from "./identities.js";
import { deviceRevocation, requireSigned } from "./statements.js";
import { signature, uuid, uuids } from "./validate.js";
import { durable } from "./wire.js";

export const listDevices = (deps: Deps, req: { userIds: string[]; includeRevoked: boolean }) =>
  repo.listDevices(deps.database.db, uuids("user_ids", req.userIds), req.includeRevoked);

/** The one revoking: a session's caller, or the admin token (no user). */
export type Actor = Pick<Caller, "isAdmin"> & { userId: string | undefined };

export async function revokeDevice(
  deps: Deps,
  caller: Actor,
  req: { deviceId: string; revocation?: string },
): Promise<{ userId: string; revoked: boolean }> {
  const id = uuid("device_id", req.deviceId);
  const revocation = req.revocation ? signature("revocation", req.revocation) : undefined;
  const device = await repo.findDevice(deps.database.db, id);
  if (!device) throw notFound("device", "device_id");
  if (device.userId !== caller.userId && !caller.isAdmin) throw denied("device_id: not your device");
  if (revocation) {
    // Device.revocation is the owner's statement: an admin revoking another account's device signs none.
    if (device.userId !== caller.userId)
      throw invalid("revocation", "only the device's own account signs its revocation; revoke without one");
    const key = await identityKeyOf(deps, device.userId);
    requireSigned("revocation", deviceRevocation(device.userId, id), revocation, key, "your identity key");
  }
  const now = deps.now();
  const res = await repo.revokeDevice(
    deps.database.db,
    id,
    now,
    durable({ case: "deviceRevoked", value: { deviceId: id, userId: device.userId } }, now),
    revocation,
  );
  if (!res) return { userId: device.userId, revoked: false }; // already revoked: idempotent
  deps.bus.publishDurable(res.events);
  deps.voice.deviceGone(id);
  deps.log.info("device revoked", { device_id: id, by: caller.userId ?? "admin-token", signed: !!revocation });
  return { userId: device.userId, revoked: true };
}
