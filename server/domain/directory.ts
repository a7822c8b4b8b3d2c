// Profiles (sealed display names) and presence.
import * as repo from "../db/repos/profiles.js";
import { listUserAdminFlags } from "../db/repos/devices.js";
import type { Caller, Deps } from "./deps.js";
import { epoch, LIMITS, sealed, uuids } from "./validate.js";
import { durable, toProfile } from "./wire.js";

export const listProfiles = (deps: Deps) => repo.listProfiles(deps.database.db);

export async function setProfile(deps: Deps, caller: Caller, req: { encryptedName: string; keyEpoch: number }) {
  const keyEpoch = epoch("key_epoch", req.keyEpoch);
  const name = sealed("encrypted_name", req.encryptedName, LIMITS.nameBytes, keyEpoch);
  const now = deps.now();
  const res = await repo.upsertProfile(deps.database.db, { userId: caller.userId, encryptedName: name, keyEpoch, updatedAt: now }, (p) =>
    durable({ case: "profileUpdated", value: { profile: toProfile({ ...p, isAdmin: caller.isAdmin }) } }, now),
  );
  deps.bus.publishDurable(res.events);
  return toProfile({ ...res.profile, isAdmin: caller.isAdmin });
}

export async function listPresence(deps: Deps, req: { userIds: string[] }) {
  const users = await listUserAdminFlags(deps.database.db, uuids("user_ids", req.userIds));
  const online = deps.presence.onlineDevices();
  return users.map((u) => ({
    userId: u.id,
    isAdmin: u.isAdmin,
    online: online.has(u.id),
    onlineDeviceIds: [...(online.get(u.id) ?? [])],
  }));
}
