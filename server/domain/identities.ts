// Identity keys and the statements signed with them: publishing an account's key, certifying its
// devices, admitting members. Every signature is checked here before it is stored (clients check
// them again); each change commits with its IdentityUpdated event.
import { IdentityChange } from "../../gen/dialtone/v1/event_pb.js";
import { AdmissionRole } from "../../gen/dialtone/v1/identity_pb.js";
import { findDevice } from "../db/repos/devices.js";
import * as repo from "../db/repos/identities.js";
import type { Caller, Deps } from "./deps.js";
import { DomainError, denied, invalid, notFound } from "./errors.js";
import { admission, deviceCertificate, requireSigned, roleWord } from "./statements.js";
import { digest, identityKey, signature, uuid, uuids } from "./validate.js";
import { identityUpdated } from "./wire.js";

const CHANGES: Record<repo.PublishChange, IdentityChange> = {
  published: IdentityChange.PUBLISHED,
  device_certified: IdentityChange.DEVICE_CERTIFIED,
  admission_requested: IdentityChange.ADMISSION_REQUESTED,
};

/** The identity key of the calling account (which signs what it stores), or failed_precondition. */
export async function identityKeyOf(deps: Deps, userId: string): Promise<string> {
  const identity = await repo.findIdentity(deps.database.db, userId);
  if (!identity) throw new DomainError("failed_precondition", "your account has no identity key: publish it first (PublishIdentity)");
  return identity.publicKey;
}

/** A target account's identity key: not_found when there is no account, failed_precondition when it has no key. */
export async function targetIdentity(deps: Deps, userId: string, field: string): Promise<{ publicKey: string; removed: boolean }> {
  const account = await repo.findAccountIdentity(deps.database.db, userId);
  if (!account) throw notFound("user", field);
  if (!account.publicKey) throw new DomainError("failed_precondition", `${field}: the account has published no identity key`);
  return { publicKey: account.publicKey, removed: account.removedAt !== null };
}

async function identityOf(deps: Deps, userId: string): Promise<repo.IdentityRecord> {
  return (await repo.listIdentities(deps.database.db, [userId]))[0]!;
}

/**
 * Publishes the caller's identity key with the calling device's certificate, once: the same key
 * again stores only what is new (the device's certificate, the admission request), another key
 * is already_exists. The first admission request is kept.
 */
export async function publishIdentity(
  deps: Deps,
  caller: Caller,
  req: { publicKey: string; deviceCertificate: string; admissionMac: string },
): Promise<repo.IdentityRecord> {
  const publicKey = identityKey("public_key", req.publicKey);
  const certificate = signature("device_certificate", req.deviceCertificate);
  const admissionMac = req.admissionMac ? digest("admission_mac", req.admissionMac) : undefined;
  const device = await findDevice(deps.database.db, caller.deviceId);
  if (!device) throw notFound("device"); // the session's device: gone only if it was deleted under the session
  requireSigned("device_certificate", deviceCertificate(caller.userId, caller.deviceId, device.publicKey), certificate, publicKey);
  const now = deps.now();
  const res = await repo.publishIdentity(deps.database.db, {
    userId: caller.userId,
    deviceId: caller.deviceId,
    publicKey,
    certificate,
    admissionMac,
    now,
    events: (changes) =>
      changes.map((c) => identityUpdated(caller.userId, CHANGES[c], now, c === "device_certified" ? caller.deviceId : "")),
  });
  if (res.kind === "other_key") {
    throw new DomainError("already_exists", "public_key: the account has published another identity key; it is never replaced");
  }
  if (res.kind === "no_invite") {
    throw new DomainError("failed_precondition", "admission_mac: the account registered without an invite record to request admission for");
  }
  deps.bus.publishDurable(res.events);
  if (res.changes.length)
    deps.log.info("identity published", { user_id: caller.userId, device_id: caller.deviceId, stored: res.changes.join(",") });
  return identityOf(deps, caller.userId);
}

export async function listIdentities(deps: Deps, req: { userIds: string[] }) {
  return repo.listIdentities(deps.database.db, uuids("user_ids", req.userIds));
}

/** The community's root identity, for a client checking an invite before it registers. */
export async function getRoot(deps: Deps) {
  const rootId = await repo.findRootUserId(deps.database.db);
  const [root] = rootId ? await repo.listIdentities(deps.database.db, [rootId]) : [];
  if (!root) throw notFound("root");
  return root;
}

/** Certifies a live device of the caller's own account with the account's identity key (approval). Idempotent. */
export async function certifyDevice(deps: Deps, caller: Caller, req: { deviceId: string; certificate: string }): Promise<void> {
  const id = uuid("device_id", req.deviceId);
  const certificate = signature("certificate", req.certificate);
  const device = await findDevice(deps.database.db, id);
  if (!device) throw notFound("device", "device_id");
  if (device.userId !== caller.userId) throw denied("device_id: not a device of your account");
  if (device.revokedAt) throw new DomainError("failed_precondition", "device_id: the device was revoked");
  const key = await identityKeyOf(deps, caller.userId);
  requireSigned("certificate", deviceCertificate(caller.userId, id, device.publicKey), certificate, key, "your identity key");
  const now = deps.now();
  const res = await repo.certifyDevice(
    deps.database.db,
    id,
    certificate,
    now,
    identityUpdated(caller.userId, IdentityChange.DEVICE_CERTIFIED, now, id),
  );
  if (!res) return;
  deps.bus.publishDurable(res.events);
  deps.log.info("device certified", { user_id: caller.userId, device_id: id, by_device: caller.deviceId });
}

/**
 * Stores an admission signed by the calling admin's identity key over the target's published key.
 * An admin's own admission is the root: role admin, and only while none is stored.
 */
export async function admit(
  deps: Deps,
  caller: Caller,
  req: { userId: string; role: AdmissionRole; signature: string },
): Promise<repo.AdmissionRow> {
  if (!caller.isAdmin) throw denied("only admins admit members");
  const userId = uuid("user_id", req.userId);
  const role = req.role;
  if (role !== AdmissionRole.MEMBER && role !== AdmissionRole.ADMIN) {
    throw invalid("role", "must be ADMISSION_ROLE_MEMBER or ADMISSION_ROLE_ADMIN");
  }
  const sig = signature("signature", req.signature);
  const self = userId === caller.userId;
  if (self && role !== AdmissionRole.ADMIN) {
    throw denied("user_id: you cannot admit yourself; only the root's own admission (role admin) is self-signed");
  }
  const signerKey = await identityKeyOf(deps, caller.userId);
  const target = self ? { publicKey: signerKey, removed: false } : await targetIdentity(deps, userId, "user_id");
  if (target.removed) throw new DomainError("failed_precondition", "user_id: the account was removed");
  const targetKey = target.publicKey;
  requireSigned("signature", admission(userId, targetKey, role), sig, signerKey, "your identity key");
  const now = deps.now();
  const res = await repo.insertAdmission(
    deps.database.db,
    { userId, identityPublicKey: targetKey, role, signerUserId: caller.userId, signature: sig, createdAt: now },
    identityUpdated(userId, IdentityChange.ADMITTED, now),
  );
  if (res.kind === "root_taken") throw denied("user_id: the community has a root already; another admin must admit you");
  if (res.kind === "stored") {
    deps.bus.publishDurable(res.events);
    deps.log.info("audit", { action: "admit", actor: caller.userId, target_user_id: userId, role: roleWord(role), root: self });
  }
  return res.admission;
}
