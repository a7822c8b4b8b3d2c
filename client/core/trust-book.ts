// The client's current view of who is a member and which devices are certified: fetched from
// the server (identities and every device, revoked ones included), evaluated by trust.ts, the
// root pinned on first contact when no invite named it, identity keys pinned on first sight, and
// every change that matters to a person reported once (unverified devices, pending members).
import type { Device } from "../../gen/dialtone/v1/device_pb.js";
import type { Identity } from "../../gen/dialtone/v1/identity_pb.js";
import type { Api } from "./api.js";
import { coalesce } from "./coalesce.js";
import type { KeystoreStore } from "./store.js";
import { deviceFingerprint, formatFingerprint, identityFingerprint, publicKeyFromBase64, verifyStatement } from "../crypto/index.js";
import { evaluateTrust, safeVerify, standingOf, type TrustSnapshot, type UserStanding, type Verify } from "./trust.js";
import { statementText } from "../crypto/index.js";

export type TrustEvent =
  | {
      /** A device without a valid certificate: shown, given nothing. `own`: approve it from here. */
      readonly type: "device-unverified";
      readonly deviceId: string;
      readonly userId: string;
      readonly fingerprint: string;
      readonly own: boolean;
    }
  | {
      readonly type: "device-certified";
      readonly deviceId: string;
      readonly userId: string;
      readonly fingerprint: string;
      readonly own: boolean;
    }
  | {
      readonly type: "member-standing";
      readonly userId: string;
      readonly standing: UserStanding;
      readonly previous: UserStanding | undefined;
    }
  | {
      /** The server shows another identity key for an account than the one first seen: loud. */
      readonly type: "identity-changed";
      readonly userId: string;
      readonly pinnedFingerprint: string;
      readonly offeredFingerprint: string;
    }
  | { readonly type: "root-problem"; readonly problem: string }
  | { readonly type: "root-pinned"; readonly fingerprint: string; readonly userId: string };

/**
 * The two lists an evaluation starts from, fetched together (identities, and every device with
 * the revoked ones). One fetch serves a whole reconcile pass: settling this device's identity
 * and evaluating who is admitted read the same lists instead of fetching them twice.
 */
export interface TrustLists {
  readonly identities: readonly Identity[];
  readonly devices: readonly Device[];
  /** Orders fetches: an evaluation of older lists never replaces one of newer lists. */
  readonly seq: number;
  /** invalidate() calls seen when the fetch began: a later one makes the result stale. */
  readonly asOf: number;
}

export interface TrustBookDeps {
  readonly api: Pick<Api, "identity" | "device">;
  readonly store: KeystoreStore;
  readonly me: { readonly userId: string; readonly deviceId: string };
  readonly emit: (event: TrustEvent) => void;
}

/** Ed25519 verification with a memo: the same statements are checked at every refresh. */
function memoVerify(): Verify {
  const seen = new Map<string, boolean>();
  const verify = safeVerify(verifyStatement);
  return async (publicKey, statement, signature) => {
    let text: string;
    try {
      text = statementText(statement);
    } catch {
      return false;
    }
    const id = `${Buffer.from(publicKey).toString("base64")}|${signature}|${text}`;
    const hit = seen.get(id);
    if (hit !== undefined) return hit;
    const ok = await verify(publicKey, statement, signature);
    if (seen.size > 50_000) seen.clear();
    seen.set(id, ok);
    return ok;
  };
}

export class TrustBook {
  readonly #deps: TrustBookDeps;
  readonly #verify = memoVerify();
  #current: TrustSnapshot | undefined;
  /** The snapshot last reported on: changes are news against it. */
  #reportedOn: TrustSnapshot | undefined;
  #identities: readonly Identity[] = [];
  /** invalidate() calls so far, and how many the installed evaluation's lists had seen. */
  #invalidations = 0;
  #currentAsOf = -1;
  #fetches = 0;
  #installedSeq = -1;
  /** Lists fetched ahead (prefetch()) for the next pass, taken once. */
  #prefetched: Promise<TrustLists> | undefined;
  readonly #reported = new Set<string>();
  /** Re-fetches, re-evaluates and reports what changed (coalesced: a burst of events costs at most two runs). */
  readonly refresh: () => Promise<TrustSnapshot>;
  /**
   * Re-fetches and re-evaluates without reporting: an admin's client admits whom its invites
   * vouch for first, and reports after (report()), so a member admitted at once never shows as
   * pending.
   */
  readonly refreshQuietly: (lists?: Promise<TrustLists>) => Promise<TrustSnapshot>;

  constructor(deps: TrustBookDeps) {
    this.#deps = deps;
    this.refresh = coalesce(async () => {
      const snapshot = await this.#refresh();
      await this.report();
      return snapshot;
    });
    const quietly = coalesce(() => this.#refresh());
    // Lists already fetched cost no request: only fetching is worth coalescing.
    this.refreshQuietly = (lists) => (lists ? this.#refresh(lists) : quietly());
  }

  /** Fetches identities and every device (revoked included) at once. */
  fetchLists(): Promise<TrustLists> {
    const seq = ++this.#fetches;
    const asOf = this.#invalidations;
    const { api } = this.#deps;
    return Promise.all([api.identity.listIdentities({}), api.device.listDevices({ includeRevoked: true })]).then(
      ([{ identities }, { devices }]) => ({ identities, devices, seq, asOf }),
    );
  }

  /** Starts fetching the lists the next pass takes (takePrefetched), alongside other reads. */
  prefetch(): void {
    const lists = this.fetchLists();
    lists.catch(() => {}); // the pass that takes it sees the error; an untaken one is dropped
    this.#prefetched = lists;
  }

  /** The prefetched lists, once; undefined when none wait. */
  takePrefetched(): Promise<TrustLists> | undefined {
    const lists = this.#prefetched;
    this.#prefetched = undefined;
    return lists;
  }

  /** Reports what changed since the last report (after refreshQuietly). */
  async report(): Promise<void> {
    const next = this.#current;
    if (!next || next === this.#reportedOn) return;
    await this.#report(next, this.#reportedOn);
    this.#reportedOn = next;
  }

  /** The last evaluation, if any. */
  get current(): TrustSnapshot | undefined {
    return this.#current;
  }

  /** The identities as the server listed them at the last refresh (admission requests included). */
  get identities(): readonly Identity[] {
    return this.#identities;
  }

  /** Marks the view stale (an identity, device or removal event arrived). */
  invalidate(): void {
    this.#invalidations++;
    this.#prefetched = undefined;
  }

  /** The current view, refreshed first if an event made it stale (or none was fetched yet). */
  async snapshot(): Promise<TrustSnapshot> {
    if (this.#current && this.#currentAsOf === this.#invalidations) return this.#current;
    return this.refresh();
  }

  async #refresh(fetched: Promise<TrustLists> = this.fetchLists()): Promise<TrustSnapshot> {
    const { store, me } = this.#deps;
    const { identities, devices, seq, asOf } = await fetched;
    const ks = store.keystore;
    let snapshot = await evaluateTrust({ identities, devices, pinnedRoot: ks.root?.fingerprint }, this.#verify);
    const offered = snapshot.root;
    if (!ks.root && offered) {
      // First contact without an invite naming the root (an upgrade, or a device added by login).
      ks.pinRoot(offered.fingerprint, offered.userId === me.userId ? "self" : "first-contact");
      store.markDirty();
      this.#deps.emit({ type: "root-pinned", fingerprint: formatFingerprint(offered.fingerprint), userId: offered.userId });
      snapshot = await evaluateTrust({ identities, devices, pinnedRoot: offered.fingerprint }, this.#verify);
    }
    // Lists fetched before those of the installed view are older news: keep the newer view.
    if (seq < this.#installedSeq && this.#current) return this.#current;
    this.#installedSeq = seq;
    this.#current = snapshot;
    this.#currentAsOf = asOf;
    this.#identities = identities;
    return snapshot;
  }

  /** Reports each change once per process: what a person must see, not every device seen. */
  async #report(next: TrustSnapshot, prev: TrustSnapshot | undefined): Promise<void> {
    const { store, me, emit } = this.#deps;
    const ks = store.keystore;
    if (next.rootProblem && !this.#reported.has(`root:${next.rootProblem}`)) {
      this.#reported.add(`root:${next.rootProblem}`);
      emit({ type: "root-problem", problem: next.rootProblem });
    }
    for (const [userId, key] of next.identities) {
      const pin = ks.pinIdentity(userId, key);
      if (pin === "pinned") store.markDirty();
      if (pin === "changed" && !this.#reported.has(`identity:${userId}:${Buffer.from(key).toString("base64")}`)) {
        this.#reported.add(`identity:${userId}:${Buffer.from(key).toString("base64")}`);
        emit({
          type: "identity-changed",
          userId,
          pinnedFingerprint: formatFingerprint(await identityFingerprint(ks.pinnedIdentity(userId)!.publicKey)),
          offeredFingerprint: formatFingerprint(await identityFingerprint(key)),
        });
      }
    }
    const users = new Set<string>([...next.identities.keys(), ...[...next.devices.values()].map((d) => d.userId)]);
    for (const userId of users) {
      const standing = standingOf(next, userId);
      const previous = prev ? standingOf(prev, userId) : undefined;
      if (standing === previous) continue;
      // On the first evaluation only what needs attention is news: pending members.
      if (previous === undefined && standing !== "pending") continue;
      emit({ type: "member-standing", userId, standing, previous });
    }
    for (const d of next.devices.values()) {
      const before = prev?.devices.get(d.deviceId)?.trust;
      if (d.trust === before) continue;
      const own = d.userId === me.userId;
      // This device's own wait is the identity notice: it cannot approve itself. A device whose
      // owner has no identity yet is mid-registration: its own identity certifies it in a moment.
      if (d.trust === "unverified" && !next.identities.has(d.userId)) continue;
      if (d.trust === "unverified" && d.deviceId !== me.deviceId && !this.#reported.has(`unverified:${d.deviceId}`)) {
        this.#reported.add(`unverified:${d.deviceId}`);
        emit({ type: "device-unverified", deviceId: d.deviceId, userId: d.userId, fingerprint: await fingerprintOf(d.publicKey), own });
      } else if (
        d.trust === "certified" &&
        before === "unverified" &&
        // News where the wait was: this device's own, or one reported unverified (not a member's
        // first device, certified by its own new identity).
        (d.deviceId === me.deviceId || this.#reported.has(`unverified:${d.deviceId}`))
      ) {
        emit({ type: "device-certified", deviceId: d.deviceId, userId: d.userId, fingerprint: await fingerprintOf(d.publicKey), own });
      }
    }
  }
}

async function fingerprintOf(publicKey: string): Promise<string> {
  try {
    return await deviceFingerprint(publicKeyFromBase64(publicKey));
  } catch {
    return "(invalid key)";
  }
}
