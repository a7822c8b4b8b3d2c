// Device lists and revocation.
import * as repo from "../db/repos/devices.js";
import type { Caller, Deps } from "./deps.js";
import { denied, notFound } from "./errors.js";
import { uuid, uuids } from "./validate.js";
import { durable } from "./wire.js";

export const listDevices = (deps: Deps, req: { userIds: string[]; includeRevoked: boolean }) =>
  repo.listDevices(deps.database.db, uuids("user_ids", req.userIds), req.includeRevoked);

export class RevokedError extends Error {
  override readonly name = "RevokedError";
}

export async function revokeDevice(deps: Deps, caller: Caller, req: { deviceId: string }) {
  const id = uuid("device_id", req.deviceId);
  const device = await repo.findDevice(deps.database.db, id);
  if (!device) throw notFound("device");
  if (device.userId !== caller.userId && !caller.isAdmin) throw denied("device_id: not your device");
  const now = deps.now();
  const res = await repo.revokeDevice(
    deps.database.db,
    id,
    now,
    durable({ case: "deviceRevoked", value: { deviceId: id, userId: device.userId } }, now),
  );
  if (!res) return; // already revoked: idempotent
  deps.bus.publishDurable(res.events);
  deps.feed.fail((s) => s.deviceId === id, new RevokedError("device revoked"));
  deps.voice.deviceGone(id);
  deps.log.info("device revoked", { device_id: id, by: caller.userId });
}
