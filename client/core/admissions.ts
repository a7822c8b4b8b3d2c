// What an admitted admin's client signs (DESIGN §11): admissions of the members its invites let
// in (their admission request MAC proves they hold the invite's secret), of the members whose
// devices it had pinned before the upgrade to signed identities, and of anyone an admin admits
// by hand after comparing safety numbers; statements for the directory keys it holds.
import { AdmissionRole, type Identity, type KeyStatement } from "../../gen/dialtone/v1/identity_pb.js";
import { KeyKind } from "../../gen/dialtone/v1/envelope_pb.js";
import {
  constantTimeEqual,
  decodeBase64,
  encodeBase64,
  keyHash,
  publicKeyFromBase64,
  signStatement,
  verifyAdmissionMac,
  verifyStatement,
  type AdmissionRoleName,
  type IdentityKeyPair,
} from "../crypto/index.js";
import type { Api } from "./api.js";
import { UsageError } from "./errors.js";
import type { KeystoreStore } from "./store.js";
import { standingOf, type TrustSnapshot } from "./trust.js";

export interface AdmissionDeps {
  readonly api: Pick<Api, "identity" | "admin">;
  readonly store: KeystoreStore;
  readonly me: { readonly userId: string };
}

export interface AdmissionReport {
  /** Accounts admitted by this run, with why. */
  readonly admitted: { readonly userId: string; readonly role: AdmissionRoleName; readonly why: "invite" | "upgrade" | "explicit" }[];
}

async function signAdmission(
  identity: IdentityKeyPair,
  userId: string,
  identityPublicKey: Uint8Array,
  role: AdmissionRoleName,
): Promise<string> {
  return signStatement(identity.privateKey, { kind: "admission", userId, identityPublicKey, role });
}

async function admit(
  deps: AdmissionDeps,
  identity: IdentityKeyPair,
  userId: string,
  key: Uint8Array,
  role: AdmissionRoleName,
): Promise<void> {
  await deps.api.identity.admit({
    userId,
    role: role === "admin" ? AdmissionRole.ADMIN : AdmissionRole.MEMBER,
    signature: await signAdmission(identity, userId, key, role),
  });
}

/** Whether this pending identity proved it holds the secret of an invite we minted. */
async function invitedByUs(store: KeystoreStore, id: Identity, key: Uint8Array): Promise<boolean> {
  const req = id.admissionRequest;
  if (!req) return false;
  const secret = store.keystore.inviteSecret(req.inviteId);
  if (!secret) return false;
  let mac: Uint8Array;
  try {
    mac = decodeBase64(req.mac);
  } catch {
    return false;
  }
  return verifyAdmissionMac(secret.secret, id.userId, key, mac);
}

/**
 * Before signed identities, this client pinned device keys on first sight; a member one of whose
 * certified devices carries a key pinned before the upgrade is someone this admin already shared
 * keys with, so admitting them locks nobody out and adds no one new.
 */
function pinnedBeforeUpgrade(store: KeystoreStore, trust: TrustSnapshot, userId: string): boolean {
  const upgradedAt = store.keystore.upgradedAt;
  if (!upgradedAt) return false;
  const pins = store.keystore.pinnedDevicesOf(userId).filter((p) => p.firstSeen.getTime() < upgradedAt.getTime());
  if (pins.length === 0) return false;
  for (const d of trust.devices.values()) {
    if (d.userId !== userId || d.trust !== "certified") continue;
    let key: Uint8Array;
    try {
      key = publicKeyFromBase64(d.publicKey);
    } catch {
      continue;
    }
    if (pins.some((p) => p.deviceId === d.deviceId && constantTimeEqual(p.publicKey, key))) return true;
  }
  return false;
}

/**
 * An admitted admin's automatic duties: admits the pending members its invites or its
 * pre-upgrade pins vouch for. Anyone else stays pending until an admin admits them by hand.
 */
export async function runAdminDuties(deps: AdmissionDeps, trust: TrustSnapshot, identities: readonly Identity[]): Promise<AdmissionReport> {
  const identity = deps.store.keystore.identity;
  const report: AdmissionReport = { admitted: [] };
  if (!identity || trust.members.get(deps.me.userId)?.role !== "admin") return report;
  let serverAdmins: Set<string> | undefined;
  let reread = false;
  for (const id of identities) {
    if (standingOf(trust, id.userId) !== "pending") continue;
    const key = trust.identities.get(id.userId);
    if (!key) continue;
    const inviteId = id.admissionRequest?.inviteId;
    if (inviteId && !reread && !deps.store.keystore.inviteSecret(inviteId)) {
      // Another process of this config dir may have minted it (`dialtone invite` while `tail`
      // runs): the secret is on disk only, and saving merges what is on disk first.
      reread = true;
      await deps.store.save();
    }
    if (await invitedByUs(deps.store, id, key)) {
      await admit(deps, identity, id.userId, key, "member");
      report.admitted.push({ userId: id.userId, role: "member", why: "invite" });
    } else if (pinnedBeforeUpgrade(deps.store, trust, id.userId)) {
      // Keep the roles the community had: the server's flags were the only record before.
      serverAdmins ??= new Set((await deps.api.admin.listUsers({})).users.filter((u) => u.isAdmin).map((u) => u.userId));
      const role: AdmissionRoleName = serverAdmins.has(id.userId) ? "admin" : "member";
      await admit(deps, identity, id.userId, key, role);
      report.admitted.push({ userId: id.userId, role, why: "upgrade" });
    }
  }
  return report;
}

/** Admits one account by hand (`dialtone admit`, `/admit`), after its safety number was compared. */
export async function admitExplicitly(deps: AdmissionDeps, trust: TrustSnapshot, userId: string, role: AdmissionRoleName): Promise<void> {
  const identity = deps.store.keystore.identity;
  if (!identity) throw new UsageError("invalid-input", "this device does not hold your identity yet: approve it from another device first");
  if (trust.members.get(deps.me.userId)?.role !== "admin")
    throw new UsageError("invalid-input", "only an admitted admin can admit members");
  const key = trust.identities.get(userId);
  if (!key) throw new UsageError("invalid-input", "that account has published no identity yet: it must log in once with this version");
  if (trust.removed.has(userId)) throw new UsageError("invalid-input", "that account was removed");
  await admit(deps, identity, userId, key, role);
}

/** The directory keys' statements as the server lists them. */
export async function listDirectoryStatements(api: Pick<Api, "identity">): Promise<KeyStatement[]> {
  return (await api.identity.listKeyStatements({ kind: KeyKind.DIRECTORY, scopeId: "directory" })).statements;
}

/**
 * Signs a statement for every directory key we hold (admins only: members' signatures do not
 * count), except those the server already lists with a valid signature of ours: a command
 * that runs again does not publish them again. `signed` remembers, for this process, what is
 * known to be published; `listed` is asked only when a key is not known to be.
 */
export async function signDirectoryKeys(
  deps: AdmissionDeps & { readonly signed: Set<string>; readonly listed: () => Promise<KeyStatement[]> },
  trust: TrustSnapshot,
): Promise<number> {
  const identity = deps.store.keystore.identity;
  if (!identity || trust.members.get(deps.me.userId)?.role !== "admin") return 0;
  const ks = deps.store.keystore;
  const unsigned = ks.directoryEpochs().filter((epoch) => !deps.signed.has(`directory:${epoch}`));
  if (unsigned.length === 0) return 0;
  const published = (await deps.listed()).filter((st) => st.signerUserId === deps.me.userId && st.kind === KeyKind.DIRECTORY);
  const statements = [];
  for (const epoch of unsigned) {
    const tag = `directory:${epoch}`;
    const hash = await keyHash(ks.directoryKey(epoch)!);
    const hashText = encodeBase64(hash);
    const statement = { kind: "directory-key", epoch, keyHash: hash } as const;
    let present = false;
    for (const st of published) {
      if (st.epoch !== epoch || st.keyHash !== hashText) continue;
      if ((present = await verifyStatement(identity.publicKey, statement, st.signature).catch(() => false))) break;
    }
    if (present) {
      deps.signed.add(tag);
      continue;
    }
    statements.push({
      tag,
      input: {
        kind: KeyKind.DIRECTORY,
        scopeId: "directory",
        epoch,
        keyHash: encodeBase64(hash),
        signature: await signStatement(identity.privateKey, statement),
      },
    });
  }
  if (statements.length === 0) return 0;
  await deps.api.identity.putKeyStatements({ statements: statements.map((s) => s.input) });
  for (const s of statements) deps.signed.add(s.tag);
  return statements.length;
}
