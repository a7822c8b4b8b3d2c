// This account's identity on this device (DESIGN §11): created by the account's first device
// (or, after the upgrade, by the first device that runs), published with a certificate for the
// device, backed up under the recovery code; a later device waits for approval (or recovers).
// The first admin's client makes itself the community's root.
import { AdmissionRole } from "../../gen/dialtone/v1/identity_pb.js";
import {
  admissionMac,
  backupKeyFromRecoveryCode,
  deviceFingerprint,
  encodeBase64,
  generateIdentityKeyPair,
  generateRecoveryCode,
  identityFingerprint,
  signStatement,
  type IdentityKeyPair,
} from "../crypto/index.js";
import type { Api } from "./api.js";
import { ApiError } from "./errors.js";
import { writeKeyBackup } from "./key-backup.js";
import type { KeystoreStore } from "./store.js";
import type { TrustLists } from "./trust-book.js";

export interface IdentityDeps {
  readonly api: Pick<Api, "identity" | "device" | "auth">;
  readonly store: KeystoreStore;
  readonly me: { readonly userId: string; readonly deviceId: string };
}

export type IdentityStatus =
  /** This device holds the identity and is certified. `recoveryCode` is set when it was just created: show it once. */
  | { readonly state: "ready"; readonly created: boolean; readonly recoveryCode?: string }
  /** The account has an identity this device does not hold: approve it from another device, or recover. */
  | { readonly state: "awaiting-approval"; readonly fingerprint: string }
  /** The server shows another identity key for this account than the one this device holds. */
  | { readonly state: "conflict"; readonly message: string };

/** What settling found, and whether it wrote to the server (lists fetched before are then stale). */
export interface SettledIdentity {
  readonly status: IdentityStatus;
  readonly changed: boolean;
}

/** The device certificate of this install, signed by the identity. */
export function certifySelf(identity: IdentityKeyPair, me: IdentityDeps["me"], devicePublicKey: Uint8Array): Promise<string> {
  return signStatement(identity.privateKey, { kind: "device-cert", userId: me.userId, deviceId: me.deviceId, devicePublicKey });
}

/** The MAC an invite's admission secret makes over this account's identity, for PublishIdentity. */
async function pendingMac(deps: IdentityDeps, identity: IdentityKeyPair): Promise<string> {
  const secret = deps.store.keystore.pendingAdmissionSecret;
  return secret ? encodeBase64(await admissionMac(secret, deps.me.userId, identity.publicKey)) : "";
}

/**
 * Makes sure this account has an identity and this device's place in it is settled: publishes
 * (or creates) the identity, certifies this device, files the invite's admission request, and
 * makes the first admin the root. Safe to call at every start: it reads the pass's trust lists
 * (identities, devices) and, once settled, makes no call of its own.
 */
export async function ensureIdentity(deps: IdentityDeps, lists: Pick<TrustLists, "identities" | "devices">): Promise<SettledIdentity> {
  const { api, store, me } = deps;
  const ks = store.keystore;
  const published = lists.identities.find((i) => i.userId === me.userId);
  let changed = false;
  let held = ks.identity;
  let recoveryCode: string | undefined;

  if (!held) {
    if (published) return { status: { state: "awaiting-approval", fingerprint: await deviceFingerprint(ks.devicePublicKey) }, changed };
    // The account's first identity: this device creates it, with the recovery code.
    const identity = await generateIdentityKeyPair();
    const code = generateRecoveryCode();
    ks.setIdentity(identity);
    ks.setBackupKey(await backupKeyFromRecoveryCode(code.bytes, me.userId));
    await store.save();
    held = identity;
    recoveryCode = code.code;
  } else if (published && published.publicKey !== encodeBase64(held.publicKey)) {
    return {
      status: {
        state: "conflict",
        message:
          "the server shows another identity key for this account than the one this device holds: do not trust this server's word about your devices",
      },
      changed,
    };
  }

  if (!held) throw new Error("ensureIdentity: no identity after creating one");
  const mac = await pendingMac(deps, held);
  const needsPublish = !published || (mac !== "" && !published.admissionRequest);
  if (needsPublish) {
    await api.identity.publishIdentity({
      publicKey: encodeBase64(held.publicKey),
      deviceCertificate: await certifySelf(held, me, ks.devicePublicKey),
      admissionMac: mac,
    });
    changed = true;
  } else {
    // The lists hold revoked devices too: a revoked one is not certified again.
    const mine = lists.devices.find((d) => d.deviceId === me.deviceId && d.userId === me.userId && !d.revokedAt);
    if (mine && mine.certificate === "") {
      await api.identity.certifyDevice({ deviceId: me.deviceId, certificate: await certifySelf(held, me, ks.devicePublicKey) });
      changed = true;
    }
  }
  if (mac !== "") {
    ks.setPendingAdmissionSecret(undefined);
    store.markDirty();
  }
  if (recoveryCode !== undefined) await writeKeyBackup({ api, store, me }).catch(() => undefined);
  if (await becomeRootIfFirst(deps, held)) changed = true;
  await store.flush();
  return {
    status: { state: "ready", created: recoveryCode !== undefined, ...(recoveryCode !== undefined ? { recoveryCode } : {}) },
    changed,
  };
}

/**
 * The first admin's client signs its own admission as the community's root, once, while the
 * server holds none (the server keeps the first; a racing second admin gets refused).
 */
async function becomeRootIfFirst(deps: IdentityDeps, identity: IdentityKeyPair): Promise<boolean> {
  const { api, store, me } = deps;
  const ks = store.keystore;
  if (ks.root) return false;
  const session = await api.auth.getSession({});
  if (!session.isAdmin) return false;
  // The server answers GetRoot with the one self-signed admission it holds (not_found: none yet).
  const hasRoot = await api.identity.getRoot({}).then(
    () => true,
    (err: unknown) => {
      if (err instanceof ApiError && err.code === "not-found") return false;
      throw err;
    },
  );
  if (hasRoot) return false;
  try {
    await api.identity.admit({
      userId: me.userId,
      role: AdmissionRole.ADMIN,
      signature: await signStatement(identity.privateKey, {
        kind: "admission",
        userId: me.userId,
        identityPublicKey: identity.publicKey,
        role: "admin",
      }),
    });
  } catch (err) {
    if (err instanceof ApiError && (err.code === "permission-denied" || err.code === "already-exists")) return false; // another admin was first
    throw err;
  }
  ks.pinRoot(await identityFingerprint(identity.publicKey), "self");
  store.markDirty();
  return true;
}
