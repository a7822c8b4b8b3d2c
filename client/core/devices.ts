// Devices and trust as the member sees them: every device with its fingerprint and pin status,
// safety numbers and their verification, and this install's own identity.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { deviceFingerprint, publicKeyToBase64 } from "../crypto/index.js";
import type { ClientParts } from "./client-parts.js";
import type { DeviceView } from "./events.js";
import { computeSafetyNumber, markVerified, type SafetyNumberResult } from "./verify.js";

export interface WhoAmI {
  readonly userId: string;
  readonly deviceId: string;
  readonly isAdmin: boolean;
  readonly expiresAt: Date | undefined;
  readonly name: string | undefined;
  readonly fingerprint: string;
  readonly publicKey: string;
}

/** Every active device of every user, pinning the ones seen for the first time. */
export async function listDevices(p: ClientParts): Promise<DeviceView[]> {
  const { devices } = await p.api.device.listDevices({});
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
      createdAt: d.createdAt ? timestampDate(d.createdAt) : undefined,
      lastSeenAt: d.lastSeenAt ? timestampDate(d.lastSeenAt) : undefined,
    });
  }
  await p.store.flush();
  return out;
}

export async function safetyNumberWith(p: ClientParts, userId: string): Promise<SafetyNumberResult> {
  const result = await computeSafetyNumber({ api: p.api, keys: p.keys, store: p.store, me: p.session }, userId);
  await p.store.flush();
  return result;
}

export async function recordVerified(p: ClientParts, result: SafetyNumberResult): Promise<void> {
  markVerified(p.store, result);
  await p.store.flush();
}

export async function whoami(p: ClientParts): Promise<WhoAmI> {
  const s = await p.api.auth.getSession({});
  const pk = p.store.keystore.devicePublicKey;
  return {
    userId: s.userId,
    deviceId: s.deviceId,
    isAdmin: s.isAdmin,
    expiresAt: s.expiresAt ? timestampDate(s.expiresAt) : undefined,
    name: p.directory.nameOf(s.userId),
    fingerprint: await deviceFingerprint(pk),
    publicKey: publicKeyToBase64(pk),
  };
}
