// Devices and trust as the member sees them: every device with its fingerprint and pin status,
// safety numbers and their verification, and this install's own identity.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { GetSessionResponse } from "../../gen/dialtone/v1/auth_service_pb.js";
import { deviceFingerprint, formatFingerprint, identityFingerprint, publicKeyToBase64 } from "../crypto/index.js";
import type { ClientParts } from "./client-parts.js";
import type { DeviceView } from "./events.js";
import { computeSafetyNumber, markVerified, type SafetyNumberResult } from "./verify.js";
import { standingOf, type UserStanding } from "./trust.js";
import type { IdentityStatus } from "./identity.js";

export interface WhoAmI {
  readonly userId: string;
  readonly deviceId: string;
  readonly isAdmin: boolean;
  readonly expiresAt: Date | undefined;
  readonly name: string | undefined;
  readonly fingerprint: string;
  readonly publicKey: string;
  /** The account's identity fingerprint (5 groups of 4 hex), when it has one. */
  readonly identityFingerprint: string | undefined;
  /** This account in the community: admitted, pending, removed, or no identity yet. */
  readonly standing: UserStanding;
  /** The role signed for it, when admitted. */
  readonly role: "member" | "admin" | undefined;
  /** This device: holds the identity (ready), waits for approval, or conflicts with the server. */
  readonly identity: IdentityStatus["state"] | undefined;
  /** This device is certified by the account's identity. */
  readonly certified: boolean;
}

/** Every active device of every user, pinning the ones seen for the first time. */
export async function listDevices(p: ClientParts): Promise<DeviceView[]> {
  const [{ devices }, trust] = await Promise.all([p.api.device.listDevices({}), p.trust.refresh()]);
  const out: DeviceView[] = [];
  for (const d of devices) {
    const status = await p.keys.checkDevice(d.deviceId, d.userId, d.publicKey);
    const pinned = p.store.keystore.pinnedDevice(d.deviceId);
    const raw = Buffer.from(d.publicKey, "base64");
    out.push({
      deviceId: d.deviceId,
      userId: d.userId,
      user: p.directory.labelOf(d.userId),
      fingerprint: raw.length === 32 ? await deviceFingerprint(raw) : "(invalid key)",
      current: d.deviceId === p.session.deviceId,
      status,
      verified: pinned?.verified === true && status !== "changed",
      trust: trust.devices.get(d.deviceId)?.trust ?? "unverified",
      standing: standingOf(trust, d.userId),
      createdAt: d.createdAt ? timestampDate(d.createdAt) : undefined,
      lastSeenAt: d.lastSeenAt ? timestampDate(d.lastSeenAt) : undefined,
    });
  }
  await p.store.flush();
  return out;
}

export async function safetyNumberWith(p: ClientParts, userId: string): Promise<SafetyNumberResult> {
  const result = await computeSafetyNumber(
    { api: p.api, keys: p.keys, store: p.store, me: p.session, trust: () => p.trust.refresh() },
    userId,
  );
  await p.store.flush();
  return result;
}

export async function recordVerified(p: ClientParts, result: SafetyNumberResult): Promise<void> {
  markVerified(p.store, result);
  await p.store.flush();
}

/**
 * Who this client is, from the server's word on the session (read by the caller, possibly ahead)
 * and the trust view. The trust view is the one the client shares keys on: fetched by this
 * process's last reconcile (each command's, fresh) and fetched again once an event made it stale.
 */
export async function whoami(
  p: ClientParts,
  identity: IdentityStatus["state"] | undefined,
  session: Promise<GetSessionResponse>,
): Promise<WhoAmI> {
  const [s, trust] = await Promise.all([session, p.trust.snapshot().catch(() => undefined)]);
  const pk = p.store.keystore.devicePublicKey;
  const idKey = trust?.identities.get(s.userId);
  return {
    userId: s.userId,
    deviceId: s.deviceId,
    isAdmin: s.isAdmin,
    expiresAt: s.expiresAt ? timestampDate(s.expiresAt) : undefined,
    name: p.directory.nameOf(s.userId),
    fingerprint: await deviceFingerprint(pk),
    publicKey: publicKeyToBase64(pk),
    identityFingerprint: idKey ? formatFingerprint(await identityFingerprint(idKey)) : undefined,
    standing: trust ? standingOf(trust, s.userId) : "no-identity",
    role: trust?.members.get(s.userId)?.role,
    identity,
    certified: trust?.devices.get(s.deviceId)?.trust === "certified",
  };
}
