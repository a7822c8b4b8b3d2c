// Who is a member and which devices are theirs, decided from signed statements alone
// (ENCRYPTION.md §10): the server's lists are input, never proof. A member is an identity whose
// admission chains to the pinned root through admitted admins; a device is certified when its
// owner's identity key signed its id and X25519 key. Keys go only to certified, unrevoked
// devices of admitted members. Pure: the caller fetches, this evaluates.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Device } from "../../gen/dialtone/v1/device_pb.js";
import { AdmissionRole, type Identity } from "../../gen/dialtone/v1/identity_pb.js";
import {
  constantTimeEqual,
  decodeBase64,
  identityFingerprint,
  verifyStatement,
  type AdmissionRoleName,
  type Statement,
} from "../crypto/index.js";

export type MemberRole = AdmissionRoleName;

export interface Member {
  readonly userId: string;
  readonly identityKey: Uint8Array;
  readonly role: MemberRole;
  /** The admin whose admission (the first valid one found) made this a member; itself for the root. */
  readonly admittedBy: string;
}

/** "certified": signed by its owner's identity; "unverified": no valid certificate; "revoked". */
export type DeviceTrust = "certified" | "unverified" | "revoked";

export interface DeviceStanding {
  readonly deviceId: string;
  readonly userId: string;
  readonly publicKey: string;
  readonly trust: DeviceTrust;
  readonly createdAt: Date | undefined;
}

/** "admitted", "pending" (an identity no admission chains to the root for), "removed", or "no-identity". */
export type UserStanding = "admitted" | "pending" | "removed" | "no-identity";

export type Refusal = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface TrustSnapshot {
  /** The root the evaluation used: the pinned one, or (nothing pinned yet) the only root offered. */
  readonly root: { readonly userId: string; readonly fingerprint: Uint8Array } | undefined;
  /** Why there is no root: none offered, several offered, or none matching the pinned one. */
  readonly rootProblem: string | undefined;
  readonly members: ReadonlyMap<string, Member>;
  /** Every well-formed published identity key, admitted or not. */
  readonly identities: ReadonlyMap<string, Uint8Array>;
  readonly removed: ReadonlySet<string>;
  readonly devices: ReadonlyMap<string, DeviceStanding>;
}

export type Verify = (publicKey: Uint8Array, statement: Statement, signature: string) => Promise<boolean>;

export interface TrustInput {
  readonly identities: readonly Identity[];
  readonly devices: readonly Device[];
  /** The root fingerprint this client pinned (from the invite, or on first contact). */
  readonly pinnedRoot: Uint8Array | undefined;
}

const roleName = (role: AdmissionRole): MemberRole | undefined =>
  role === AdmissionRole.MEMBER ? "member" : role === AdmissionRole.ADMIN ? "admin" : undefined;

function key32(text: string): Uint8Array | undefined {
  try {
    const bytes = decodeBase64(text);
    return bytes.length === 32 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

const sameKey = (a: Uint8Array, b: Uint8Array) => a.length === b.length && constantTimeEqual(a, b);

/** verifyStatement that treats a malformed statement (empty id, `|`) as a bad signature. */
export const safeVerify =
  (verify: Verify): Verify =>
  async (publicKey, statement, signature) => {
    try {
      return await verify(publicKey, statement, signature);
    } catch {
      return false;
    }
  };

export async function evaluateTrust(input: TrustInput, verify: Verify = safeVerify(verifyStatement)): Promise<TrustSnapshot> {
  const identities = new Map<string, Uint8Array>();
  for (const id of input.identities) {
    const k = key32(id.publicKey);
    if (k) identities.set(id.userId, k);
  }

  // The root: a valid self-signed admin admission whose identity fingerprint is the pinned one.
  const roots: { userId: string; fingerprint: Uint8Array }[] = [];
  for (const id of input.identities) {
    const k = identities.get(id.userId);
    if (!k) continue;
    for (const a of id.admissions) {
      if (a.signerUserId !== id.userId || a.userId !== id.userId || a.role !== AdmissionRole.ADMIN) continue;
      const ak = key32(a.identityPublicKey);
      if (!ak || !sameKey(ak, k)) continue;
      if (!(await verify(k, { kind: "admission", userId: id.userId, identityPublicKey: k, role: "admin" }, a.signature))) continue;
      roots.push({ userId: id.userId, fingerprint: await identityFingerprint(k) });
      break;
    }
  }
  let root: TrustSnapshot["root"];
  let rootProblem: string | undefined;
  if (input.pinnedRoot) {
    root = roots.find((r) => sameKey(r.fingerprint, input.pinnedRoot!));
    if (!root)
      rootProblem = roots.length === 0 ? "the server shows no community root yet" : "the server's community root is not the one pinned";
  } else if (roots.length === 1) {
    root = roots[0];
  } else {
    rootProblem = roots.length === 0 ? "the server shows no community root yet" : `the server offers ${roots.length} community roots`;
  }

  // Admissions, to a fixpoint: an admission counts when an admitted admin signed it.
  const members = new Map<string, Member>();
  if (root) {
    members.set(root.userId, { userId: root.userId, identityKey: identities.get(root.userId)!, role: "admin", admittedBy: root.userId });
    let changed = true;
    while (changed) {
      changed = false;
      for (const id of input.identities) {
        const k = identities.get(id.userId);
        if (!k || id.userId === root.userId) continue;
        const held = members.get(id.userId);
        if (held?.role === "admin") continue;
        for (const a of id.admissions) {
          const role = roleName(a.role);
          const signer = members.get(a.signerUserId);
          if (!role || !signer || signer.role !== "admin" || a.userId !== id.userId) continue;
          if (held && role !== "admin") continue;
          const ak = key32(a.identityPublicKey);
          if (!ak || !sameKey(ak, k)) continue;
          if (!(await verify(signer.identityKey, { kind: "admission", userId: id.userId, identityPublicKey: k, role }, a.signature)))
            continue;
          members.set(id.userId, { userId: id.userId, identityKey: k, role, admittedBy: held?.admittedBy ?? signer.userId });
          changed = true;
          if (role === "admin") break;
        }
      }
    }
  }

  // Removals signed by an admitted admin take a member out (what they signed before stays valid).
  const removed = new Set<string>();
  for (const id of input.identities) {
    const r = id.removal;
    const k = identities.get(id.userId);
    if (!r || !k) continue;
    const signer = members.get(r.signerUserId);
    const rk = key32(r.identityPublicKey);
    if (signer?.role !== "admin" || !rk || !sameKey(rk, k)) continue;
    if (await verify(signer.identityKey, { kind: "removal", userId: id.userId, identityPublicKey: k }, r.signature)) removed.add(id.userId);
  }
  for (const userId of removed) members.delete(userId);

  const devices = new Map<string, DeviceStanding>();
  for (const d of input.devices) {
    const owner = identities.get(d.userId);
    const dk = key32(d.publicKey);
    let trust: DeviceTrust = "unverified";
    if (owner && dk && d.certificate !== "") {
      const ok = await verify(owner, { kind: "device-cert", userId: d.userId, deviceId: d.deviceId, devicePublicKey: dk }, d.certificate);
      if (ok) trust = "certified";
    }
    // The server's word suffices to stop sharing (withholding is always allowed); a signed
    // revocation also counts when the server forgets its flag.
    if (d.revokedAt || removed.has(d.userId)) trust = "revoked";
    else if (owner && d.revocation !== "") {
      if (await verify(owner, { kind: "device-revoked", userId: d.userId, deviceId: d.deviceId }, d.revocation)) trust = "revoked";
    }
    devices.set(d.deviceId, {
      deviceId: d.deviceId,
      userId: d.userId,
      publicKey: d.publicKey,
      trust,
      createdAt: d.createdAt ? timestampDate(d.createdAt) : undefined,
    });
  }
  return { root, rootProblem, members, identities, removed, devices };
}

export function standingOf(t: TrustSnapshot, userId: string): UserStanding {
  if (t.removed.has(userId)) return "removed";
  if (t.members.has(userId)) return "admitted";
  return t.identities.has(userId) ? "pending" : "no-identity";
}

/** Whether a key may be sealed to this device, and if not, why (in words for the member). */
export function mayReceiveKeys(t: TrustSnapshot, deviceId: string, userId: string, publicKey: string): Refusal {
  const d = t.devices.get(deviceId);
  if (!d || d.userId !== userId) return { ok: false, reason: "the server does not list this device for its account (hidden device)" };
  if (d.publicKey !== publicKey) return { ok: false, reason: "the device's key differs from the one listed for it" };
  if (d.trust === "revoked") return { ok: false, reason: "the device was revoked" };
  if (d.trust === "unverified") return { ok: false, reason: "unverified device: its owner has not approved it" };
  const standing = standingOf(t, userId);
  if (standing === "removed") return { ok: false, reason: "its owner was removed" };
  if (standing !== "admitted") {
    return { ok: false, reason: t.root ? "pending member: no admin has admitted its owner" : `no community root (${t.rootProblem})` };
  }
  return { ok: true };
}
