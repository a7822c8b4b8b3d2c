// What this client does for signed identities at every reconcile, and what a member asks of it:
// settle this device's identity, refresh who is admitted, let an admin's client admit whom its
// invites vouch for, approve a new device of one's own, admit a member by hand.
import { ApiError, UsageError } from "./errors.js";
import { admitExplicitly, listDirectoryStatements, runAdminDuties, signDirectoryKeys, type AdmissionReport } from "./admissions.js";
import type { KeyStatement } from "../../gen/dialtone/v1/identity_pb.js";
import { coalesce } from "./coalesce.js";
import type { ClientParts } from "./client-parts.js";
import { ensureIdentity, type IdentityStatus } from "./identity.js";
import { writeKeyBackup } from "./key-backup.js";
import { deviceFingerprint, publicKeyFromBase64, signStatement, type AdmissionRoleName } from "../crypto/index.js";
import type { DeviceStanding, TrustSnapshot } from "./trust.js";
import type { TrustLists } from "./trust-book.js";
import { rotateAfterRemoval } from "./rotation.js";

/** A fingerprint as typed: hex digits only, lower case ("9b3e 32aa …" and "9B3E32AA…" match). */
const normalize = (fp: string) => fp.replace(/[\s:-]/g, "").toLowerCase();

export interface ApprovedDevice {
  readonly deviceId: string;
  readonly fingerprint: string;
  /** Envelopes written to it: the identity, the backup key. */
  readonly handedOver: number;
}

export class TrustDuties {
  readonly #p: ClientParts;
  #status: IdentityStatus | undefined;
  /** The status last told (a device waiting for approval settles again at every run: told once). */
  #told = "";
  #unsupported = false;
  readonly #signed = new Set<string>();
  /** The directory's key statements, listed ahead for the next run (prefetch()). */
  #listedDirectory: Promise<KeyStatement[]> | undefined;
  /** Keys arrived since the last backup this process wrote. */
  #keysAdded = false;
  /** Settles the identity, refreshes trust and runs an admin's duties (coalesced). */
  readonly run: () => Promise<AdmissionReport | undefined>;

  constructor(parts: ClientParts) {
    this.#p = parts;
    this.run = coalesce(() => this.#run());
  }

  get status(): IdentityStatus | undefined {
    return this.#status;
  }

  /**
   * Starts the next run's reads now, alongside other reads (a one-shot command opening): the
   * trust lists, and for an admin's client holding directory keys, the directory's statements.
   */
  prefetch(): void {
    const { api, store, session, trust } = this.#p;
    trust.prefetch();
    const ks = store.keystore;
    // The keystore's admin flag is a hint only: the signed role decides, and without the hint
    // the statements are listed when needed.
    if (session.isAdmin && ks.identity && ks.directoryEpochs().length > 0) {
      const listed = listDirectoryStatements(api);
      listed.catch(() => {});
      this.#listedDirectory = listed;
    }
  }

  /** Re-settles the identity at the next run (it was just handed over to this device). */
  identityArrived(): void {
    this.#status = undefined;
  }

  async #run(): Promise<AdmissionReport | undefined> {
    if (this.#unsupported) return undefined;
    const { api, store, session, trust, events } = this.#p;
    const me = { userId: session.userId, deviceId: session.deviceId };
    // Fresh at every run: members register and devices appear without this client hearing of
    // it. One fetch serves settling the identity and the evaluation below, unless settling wrote.
    let lists: Promise<TrustLists> | undefined = trust.takePrefetched() ?? trust.fetchLists();
    const listed = this.#listedDirectory;
    this.#listedDirectory = undefined;
    try {
      if (this.#status?.state !== "ready") {
        const held = await lists;
        let settled = await ensureIdentity({ api, store, me }, held);
        if (settled.status.state === "awaiting-approval") {
          // Approved meanwhile? The identity handed over waits among our envelopes: take it
          // before telling anyone to approve a device that already was.
          await this.#p.keys.fetchKeys();
          if (store.keystore.identity) settled = await ensureIdentity({ api, store, me }, held);
        }
        const status = settled.status;
        this.#status = status;
        const told = JSON.stringify(status);
        if (told !== this.#told) {
          this.#told = told;
          events.emit("identity", status);
        }
        if (settled.changed) {
          // It published or certified: what was fetched before is stale.
          trust.invalidate();
          lists = undefined;
        }
      }
      const snapshot = await trust.refreshQuietly(lists);
      const report = await runAdminDuties({ api, store, me }, snapshot, trust.identities);
      // Reported once this client admitted whom its invites vouch for: they never show as pending.
      if (report.admitted.length > 0) await trust.refresh();
      else await trust.report();
      if (snapshot.members.get(me.userId)?.role === "admin" && !this.#p.keys.directoryKey()) {
        // Only an admin's directory key is believed: the admin's client makes the first one.
        await this.#p.keys.ensureDirectoryKey(true);
      }
      await signDirectoryKeys({ api, store, me, signed: this.#signed, listed: () => listed ?? listDirectoryStatements(api) }, snapshot);
      return report;
    } catch (err) {
      // A server from before signed identities: nothing to settle, keep chatting.
      if (err instanceof ApiError && err.code === "unimplemented") {
        this.#unsupported = true;
        return undefined;
      }
      throw err;
    }
  }

  /**
   * Approves a new device of this account by the fingerprint it shows: certifies it with the
   * identity and hands it the identity and the backup key (the keys follow at the next share).
   */
  async approveDevice(fingerprint: string): Promise<ApprovedDevice> {
    const { api, store, session, trust, keys } = this.#p;
    const identity = store.keystore.identity;
    if (!identity)
      throw new UsageError(
        "invalid-input",
        "this device does not hold your identity: approve from a device that does, or run dialtone recover",
      );
    const wanted = normalize(fingerprint);
    if (!/^[0-9a-f]{20}$/.test(wanted))
      throw new UsageError("invalid-input", "fingerprint: give all 20 hex digits the new device shows (5 groups of 4)");
    const found = await this.#ownDevice(wanted, (d) => d.trust === "unverified");
    if (found) {
      const { d, key, fp } = found;
      const certificate = await signStatement(identity.privateKey, {
        kind: "device-cert",
        userId: session.userId,
        deviceId: d.deviceId,
        devicePublicKey: key,
      });
      await api.identity.certifyDevice({ deviceId: d.deviceId, certificate });
      const handedOver = await keys.putEnvelopes(await keys.sealIdentityFor(d.deviceId, key));
      trust.invalidate();
      return { deviceId: d.deviceId, fingerprint: fp, handedOver };
    }
    throw new UsageError(
      "invalid-input",
      `no unverified device of yours shows the fingerprint ${fingerprint.trim()}: compare it again (dialtone devices lists them)`,
    );
  }

  /** Another device of this account that `accept`s and shows the fingerprint `wanted` (normalized), fetched fresh. */
  async #ownDevice(
    wanted: string,
    accept: (d: DeviceStanding) => boolean,
  ): Promise<{ d: DeviceStanding; key: Uint8Array; fp: string } | undefined> {
    const snapshot = await this.#p.trust.refresh();
    for (const d of snapshot.devices.values()) {
      if (d.userId !== this.#p.session.userId || !accept(d)) continue;
      let key: Uint8Array;
      try {
        key = publicKeyFromBase64(d.publicKey);
      } catch {
        continue;
      }
      const fp = await deviceFingerprint(key);
      if (normalize(fp) === wanted) return { d, key, fp };
    }
    return undefined;
  }

  /** Revokes an unverified device of this account by its fingerprint (signed, so every client can check it). */
  async rejectDevice(fingerprint: string): Promise<{ deviceId: string; fingerprint: string }> {
    const { api, store, session, trust } = this.#p;
    const found = await this.#ownDevice(normalize(fingerprint), (d) => d.trust !== "revoked" && d.deviceId !== session.deviceId);
    if (found) {
      const { d, fp } = found;
      const identity = store.keystore.identity;
      const revocation = identity
        ? await signStatement(identity.privateKey, { kind: "device-revoked", userId: session.userId, deviceId: d.deviceId })
        : "";
      await api.device.revokeDevice({ deviceId: d.deviceId, revocation });
      trust.invalidate();
      return { deviceId: d.deviceId, fingerprint: fp };
    }
    throw new UsageError("invalid-input", `no other device of yours shows the fingerprint ${fingerprint.trim()}`);
  }

  /**
   * Removes an account (admins): the removal is signed with this admin's identity when both
   * have one, so every client can check it; then every channel moves to a new key epoch.
   */
  async removeUser(userId: string): Promise<{ revokedDeviceIds: readonly string[]; rotated: number }> {
    const { api, store, trust } = this.#p;
    const snapshot = await trust.refresh();
    const identity = store.keystore.identity;
    const key = snapshot.identities.get(userId);
    const removalSignature =
      identity && key && snapshot.members.get(this.#p.session.userId)?.role === "admin"
        ? await signStatement(identity.privateKey, { kind: "removal", userId, identityPublicKey: key })
        : "";
    const { revokedDeviceIds } = await api.admin.removeUser({ userId, removalSignature });
    const outcomes = await rotateAfterRemoval(this.#p);
    return { revokedDeviceIds, rotated: [...outcomes.values()].filter((o) => o === "rotated" || o === "lost-race").length };
  }

  /** Admits one account by hand, after its safety number was compared. */
  async admit(userId: string, role: AdmissionRoleName): Promise<TrustSnapshot> {
    const { api, store, session, trust } = this.#p;
    await admitExplicitly({ api, store, me: { userId: session.userId } }, await trust.refresh(), userId, role);
    trust.invalidate();
    return trust.snapshot();
  }

  /** The keystore gained a key: the next backUp() writes it. */
  keysAdded(): void {
    this.#keysAdded = true;
  }

  /**
   * Brings the server's key backup up to date when this process added keys since it last did
   * (no-op without the backup key): recovery must restore everything readable now.
   */
  async backUp(): Promise<void> {
    const { api, store, session } = this.#p;
    const ks = store.keystore;
    if (!this.#keysAdded || !ks.backupKey || !ks.identity || this.#unsupported) return;
    this.#keysAdded = false;
    try {
      await writeKeyBackup({ api, store, me: { userId: session.userId } });
    } catch (err) {
      this.#keysAdded = true; // try again next time
      throw err;
    }
  }
}
