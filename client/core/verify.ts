// Safety numbers, compared out of band: over the two accounts' identity keys (ENCRYPTION.md
// §10.7) when both have one, so adding, hiding or removing a device never changes them; else
// (during the upgrade) over their pinned device keys (§5, version 0). Verification is stored
// with the number, so it lapses by itself when the number changes.
import { deviceFingerprint, formatSafetyNumber, identitySafetyNumber, safetyNumber } from "../crypto/index.js";
import type { TrustSnapshot } from "./trust.js";
import type { Api } from "./api.js";
import { UsageError } from "./errors.js";
import type { KeyManager } from "./keys.js";
import type { KeystoreStore } from "./store.js";

export interface DeviceKeyView {
  readonly deviceId: string;
  readonly userId: string;
  readonly fingerprint: string;
}

export interface SafetyNumberResult {
  readonly userId: string;
  /** 60 digits. */
  readonly digits: string;
  /** 12 groups of 5 digits on three lines. */
  readonly formatted: string;
  /** We marked this user verified at exactly this number. */
  readonly verified: boolean;
  /** "identity": over identity keys (devices do not enter); "devices": the version-0 number over device keys. */
  readonly basis: "identity" | "devices";
  /** The devices the number covers (version 0 only: active on the server and pinned with the same key). */
  readonly devices: readonly DeviceKeyView[];
  /** Devices whose key differs from the pinned one: left out, and worth an alarm. */
  readonly refused: readonly DeviceKeyView[];
}

export interface VerifyDeps {
  readonly api: Pick<Api, "device">;
  readonly keys: KeyManager;
  readonly store: KeystoreStore;
  readonly me: { readonly userId: string };
  readonly trust: () => Promise<TrustSnapshot>;
}

/** Lists both users' active devices, pins new ones (TOFU), and computes the number. */
export async function computeSafetyNumber(deps: VerifyDeps, userId: string): Promise<SafetyNumberResult> {
  const { me, store, keys } = deps;
  if (userId === me.userId) throw new UsageError("invalid-input", "a safety number compares you with someone else; pick another user");
  const trust = await deps.trust();
  const mineId = trust.identities.get(me.userId);
  const theirsId = trust.identities.get(userId);
  if (mineId && theirsId) {
    const digits = await identitySafetyNumber({ userId: me.userId, identityPublicKey: mineId }, { userId, identityPublicKey: theirsId });
    return {
      userId,
      digits,
      formatted: formatSafetyNumber(digits),
      verified: store.keystore.isUserVerified(userId, digits),
      basis: "identity",
      devices: [],
      refused: [],
    };
  }
  const { devices } = await deps.api.device.listDevices({ userIds: [me.userId, userId] });
  const keysOf = new Map<string, Uint8Array[]>([
    [me.userId, []],
    [userId, []],
  ]);
  const covered: DeviceKeyView[] = [];
  const refused: DeviceKeyView[] = [];
  for (const d of devices) {
    if (d.revokedAt) continue;
    const accepted = await keys.acceptDevice(d.deviceId, d.userId, d.publicKey);
    const pinned = store.keystore.pinnedDevice(d.deviceId);
    if (accepted && pinned) {
      keysOf.get(d.userId)?.push(pinned.publicKey);
      covered.push({ deviceId: d.deviceId, userId: d.userId, fingerprint: await deviceFingerprint(pinned.publicKey) });
    } else {
      const offered = Buffer.from(d.publicKey, "base64");
      refused.push({
        deviceId: d.deviceId,
        userId: d.userId,
        fingerprint: offered.length === 32 ? await deviceFingerprint(offered) : "(invalid key)",
      });
    }
  }
  const mine = keysOf.get(me.userId)!;
  const theirs = keysOf.get(userId)!;
  if (theirs.length === 0) throw new UsageError("unknown-user", `user ${userId} has no active device`);
  if (mine.length === 0) throw new UsageError("invalid-input", "none of your devices is listed by the server");
  const digits = await safetyNumber({ userId: me.userId, devicePublicKeys: mine }, { userId, devicePublicKeys: theirs });
  return {
    userId,
    digits,
    formatted: formatSafetyNumber(digits),
    verified: store.keystore.isUserVerified(userId, digits),
    basis: "devices",
    devices: covered,
    refused,
  };
}

/** Records that the user compared this number out of band. */
export function markVerified(store: KeystoreStore, result: SafetyNumberResult): void {
  if (result.refused.length > 0) {
    throw new UsageError("invalid-input", "a device of this user shows a changed key; resolve that before marking the user verified");
  }
  store.keystore.setUserVerified(result.userId, result.digits);
  for (const d of result.devices) {
    if (d.userId === result.userId) store.keystore.setDeviceVerified(d.deviceId, true);
  }
  store.markDirty();
}
