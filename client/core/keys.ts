// The key manager: which devices we trust (TOFU pins), which keys we hold, and the envelopes
// that move channel and directory keys between devices.
//
// Sharing: to every device the server lists as lacking a key we hold, after pinning its public
// key on first sight; a pinned device showing another key is refused and reported, never
// encrypted to. Receiving: an envelope is opened with the key WE pinned for its sender device
// (pinning it on first sight), under the context we expect (kind, scope, epoch, sender,
// recipient), and a channel key is kept only if it opens the channel's sealed name: a member
// handing out a substituted key is caught before the key is used.
import type { Channel } from "../../gen/dialtone/v1/channel_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { KeyKind, type Envelope, type EnvelopeInputSchema, type MissingEnvelope } from "../../gen/dialtone/v1/envelope_pb.js";
import type { EnvelopeRefSchema } from "../../gen/dialtone/v1/envelope_service_pb.js";
import type { Profile } from "../../gen/dialtone/v1/profile_pb.js";
import type { KeyStatement } from "../../gen/dialtone/v1/identity_pb.js";
import {
  deviceFingerprint,
  constantTimeEqual,
  encodeBase64,
  generateSymmetricKey,
  keyHash,
  signStatement,
  verifyStatement,
  type Statement,
  identityKeyPairFromSeed,
  openEnvelope,
  openText,
  publicKeyFromBase64,
  publicKeyToBase64,
  sealEnvelope,
  type EnvelopeContext,
  type EpochKey,
} from "../crypto/index.js";
import { KeystoreError } from "../keystore/index.js";
import type { Api } from "./api.js";
import { coalesce } from "./coalesce.js";
import type { KeystoreStore } from "./store.js";
import { mayReceiveKeys, type TrustSnapshot } from "./trust.js";

export const DIRECTORY_SCOPE = "directory";
const MAX_MISSING_ROWS = 1000;
const PUT_BATCH = 1000;

export type KeyScope = { readonly kind: "channel"; readonly channelId: string } | { readonly kind: "directory" };

/** What the key manager reports; the client re-emits these to the UI. */
export type KeyEvent =
  | {
      /** A device seen for the first time was pinned (TOFU). */
      readonly type: "device-pinned";
      readonly deviceId: string;
      readonly userId: string;
      readonly fingerprint: string;
      /** One of our own other devices. */
      readonly own: boolean;
      /** We already had devices of this user pinned: a new device of a known user. */
      readonly knownUser: boolean;
    }
  | {
      /** The server shows a different key for a pinned device: refused, nothing is shared with it. */
      readonly type: "device-key-changed";
      readonly deviceId: string;
      readonly userId: string;
      readonly pinnedFingerprint: string;
      readonly offeredFingerprint: string;
    }
  | {
      readonly type: "key-received";
      readonly scope: KeyScope;
      readonly epoch: number;
      readonly senderDeviceId: string;
      readonly senderUserId: string;
    }
  | {
      /** An envelope addressed to us was refused: see `reason`. */
      readonly type: "key-rejected";
      readonly scope: KeyScope;
      readonly epoch: number;
      readonly senderDeviceId: string;
      readonly senderUserId: string;
      readonly reason: string;
    }
  | { readonly type: "keys-shared"; readonly count: number }
  | {
      /** Keys this device did not seal to a device the server listed as lacking them, and why. */
      readonly type: "keys-withheld";
      readonly deviceId: string;
      readonly userId: string;
      readonly reason: string;
    }
  | {
      /** Another device of this account handed over the identity (or the backup key): this device was approved. */
      readonly type: "identity-received";
      readonly kind: "identity" | "backup";
      readonly senderDeviceId: string;
    };

export interface KeyManagerDeps {
  readonly api: Pick<Api, "envelope" | "directory" | "identity">;
  /** Who is certified and admitted (signed identities): an identity handed to us must come from there. */
  readonly trust: () => Promise<TrustSnapshot>;
  /** The same, fetched again now. */
  readonly refreshTrust: () => Promise<TrustSnapshot>;
  /** The keystore gained a key (received, created, rotated): the key backup should follow. */
  readonly keysAdded?: () => void;
  readonly store: KeystoreStore;
  readonly me: { readonly userId: string; readonly deviceId: string };
  /** The channel's current row, to confirm a received key against its sealed name. */
  readonly channel: (channelId: string) => Promise<Channel | undefined>;
  readonly emit: (event: KeyEvent) => void;
}

/** What checking a device's key against our pins found; "invalid" is a malformed key. */
export type DeviceCheck = "pinned" | "known" | "changed" | "invalid";

export interface FetchReport {
  readonly added: number;
  readonly rejected: number;
}

export type EnvelopeInit = MessageInitShape<typeof EnvelopeInputSchema>;
/** Key statements listed once per scope within one fetch. */
type StatementCache = Map<string, Promise<KeyStatement[]>>;
type EnvelopeRef = MessageInitShape<typeof EnvelopeRefSchema>;
/** Listings started ahead of the pass that takes them, and the envelope writes made before. */
interface Prefetched {
  envelopes?: Promise<Envelope[]> | undefined;
  missing?: Promise<MissingEnvelope[]> | undefined;
  readonly writes: number;
}

function scopeOf(kind: KeyKind, scopeId: string): KeyScope | undefined {
  if (kind === KeyKind.CHANNEL) return { kind: "channel", channelId: scopeId };
  if (kind === KeyKind.DIRECTORY && scopeId === DIRECTORY_SCOPE) return { kind: "directory" };
  return undefined;
}

const scopeKey = (s: KeyScope) => (s.kind === "channel" ? `channel:${s.channelId}` : "directory");

/** The scope as the wire names it: the inverse of scopeOf. */
const wireScope = (s: KeyScope) =>
  s.kind === "channel" ? { kind: KeyKind.CHANNEL, scopeId: s.channelId } : { kind: KeyKind.DIRECTORY, scopeId: DIRECTORY_SCOPE };

/** The statement that vouches for a key of this scope and epoch (ENCRYPTION.md §10.2). */
const keyStatement = (s: KeyScope, epoch: number, keyHash: Uint8Array): Statement =>
  s.kind === "channel" ? { kind: "channel-key", channelId: s.channelId, epoch, keyHash } : { kind: "directory-key", epoch, keyHash };

/** A fresh channel key: 32 random bytes, epoch 1. */
export function newChannelKey(): EpochKey {
  return { epoch: 1, key: generateSymmetricKey() };
}

/** Whether `key` opens the channel's sealed name (key confirmation). */
export async function keyOpensChannelName(channel: Pick<Channel, "channelId" | "encryptedName">, key: EpochKey): Promise<boolean> {
  try {
    await openText(key, { purpose: "channel-name", channelId: channel.channelId }, channel.encryptedName);
    return true;
  } catch {
    return false;
  }
}

async function keyOpensProfile(profile: Profile, key: EpochKey): Promise<boolean> {
  try {
    await openText(key, { purpose: "profile-name", userId: profile.userId }, profile.encryptedName);
    return true;
  } catch {
    return false;
  }
}

export class KeyManager {
  readonly #deps: KeyManagerDeps;
  /** Envelopes and device keys already reported, so a retry loop does not repeat the alarm. */
  readonly #reported = new Set<string>();
  /** The last rejection per scope, for error messages ("the key offered was rejected: ..."). */
  readonly #lastRejection = new Map<string, string>();
  /** Envelope writes this client made (put, acknowledge): listings from before them are stale. */
  #writes = 0;
  /** Listings started ahead (prefetch()) for the next fetch and share, each taken once. */
  #prefetched: Prefetched | undefined;

  /** Lists our envelopes and stores every key that passes the checks (coalesced). */
  readonly fetchKeys: () => Promise<FetchReport>;
  /** Shares every key we hold with every accepted device lacking it (coalesced). */
  readonly shareMissing: () => Promise<number>;
  /** fetchKeys, then shareMissing: run on connect, DeviceAdded, KeyShared, ChannelCreated. */
  readonly reconcile: () => Promise<void>;

  constructor(deps: KeyManagerDeps) {
    this.#deps = deps;
    this.fetchKeys = coalesce(() => this.#fetchKeys());
    this.shareMissing = coalesce(() => this.#shareMissing());
    this.reconcile = coalesce(async () => {
      await this.fetchKeys();
      await this.shareMissing();
    });
  }

  /**
   * Starts listing our envelopes and the devices lacking keys now, alongside other reads (a
   * one-shot command opening): the next fetchKeys and shareMissing take these listings, unless
   * this client wrote envelopes meanwhile (then they list again).
   */
  prefetch(): void {
    const { api } = this.#deps;
    const envelopes = api.envelope.listEnvelopes({}).then((r) => r.envelopes);
    const missing = api.envelope.listMissingEnvelopes({}).then((r) => r.missing);
    envelopes.catch(() => {}); // the taker sees the error; an untaken listing is dropped
    missing.catch(() => {});
    this.#prefetched = { envelopes, missing, writes: this.#writes };
  }

  /** A prefetched listing, once, if no envelope was written since it was started. */
  #take<K extends "envelopes" | "missing">(kind: K): Prefetched[K] {
    const p = this.#prefetched;
    if (!p || p.writes !== this.#writes) {
      this.#prefetched = undefined;
      return undefined;
    }
    const listing = p[kind];
    p[kind] = undefined;
    return listing;
  }

  get #keystore() {
    return this.#deps.store.keystore;
  }

  channelKey(channelId: string): EpochKey | undefined {
    return this.#keystore.latestChannelKey(channelId);
  }

  channelKeyAt(channelId: string, epoch: number): EpochKey | undefined {
    const key = this.#keystore.channelKey(channelId, epoch);
    return key ? { epoch, key } : undefined;
  }

  directoryKey(): EpochKey | undefined {
    return this.#keystore.latestDirectoryKey();
  }

  directoryKeyAt(epoch: number): EpochKey | undefined {
    const key = this.#keystore.directoryKey(epoch);
    return key ? { epoch, key } : undefined;
  }

  /** Why the last envelope for this scope was refused, if one was. */
  lastRejection(scope: KeyScope): string | undefined {
    return this.#lastRejection.get(scopeKey(scope));
  }

  /**
   * Trust on first use: pins an unknown device (reporting it), accepts a known one, and refuses
   * (reporting it once) a device whose key or owner differs from the pinned one.
   */
  async checkDevice(deviceId: string, userId: string, publicKeyBase64: string): Promise<DeviceCheck> {
    const ks = this.#keystore;
    let publicKey: Uint8Array;
    try {
      publicKey = publicKeyFromBase64(publicKeyBase64);
    } catch {
      return "invalid";
    }
    const knownUser = ks.pinnedDevicesOf(userId).length > 0;
    const result = ks.pinDevice(deviceId, userId, publicKey);
    if (result === "known") return "known";
    if (result === "pinned") {
      this.#deps.store.markDirty();
      this.#deps.emit({
        type: "device-pinned",
        deviceId,
        userId,
        fingerprint: await deviceFingerprint(publicKey),
        own: userId === this.#deps.me.userId,
        knownUser,
      });
      return "pinned";
    }
    const tag = `changed:${deviceId}:${publicKeyBase64}:${userId}`;
    if (!this.#reported.has(tag)) {
      this.#reported.add(tag);
      const pinned = ks.pinnedDevice(deviceId)!;
      this.#deps.emit({
        type: "device-key-changed",
        deviceId,
        userId,
        pinnedFingerprint: await deviceFingerprint(pinned.publicKey),
        offeredFingerprint: await deviceFingerprint(publicKey),
      });
    }
    return "changed";
  }

  /** checkDevice, as "may we encrypt to / accept keys from this device". */
  async acceptDevice(deviceId: string, userId: string, publicKeyBase64: string): Promise<boolean> {
    const r = await this.checkDevice(deviceId, userId, publicKeyBase64);
    return r === "pinned" || r === "known";
  }

  /** Seals `key` for one pinned device. */
  async sealFor(scope: KeyScope, epoch: number, key: Uint8Array, recipientDeviceId: string): Promise<EnvelopeInit> {
    const recipient = this.#keystore.pinnedDevice(recipientDeviceId);
    if (!recipient) throw new Error(`sealFor: device ${recipientDeviceId} is not pinned`);
    const context: EnvelopeContext = {
      ...scope,
      epoch,
      senderDeviceId: this.#deps.me.deviceId,
      recipientDeviceId,
    };
    const ciphertext = await sealEnvelope({
      senderPrivateKey: this.#keystore.deviceKeyPair.privateKey,
      recipientPublicKey: recipient.publicKey,
      context,
      key,
    });
    return {
      ...wireScope(scope),
      epoch,
      recipientDeviceId,
      ciphertext,
    };
  }

  async #put(inputs: EnvelopeInit[]): Promise<number> {
    this.#writes++;
    let stored = 0;
    for (let i = 0; i < inputs.length; i += PUT_BATCH) {
      stored += (await this.#deps.api.envelope.putEnvelopes({ envelopes: inputs.slice(i, i + PUT_BATCH) })).stored;
    }
    return stored;
  }

  async #shareMissing(): Promise<number> {
    const { api } = this.#deps;
    let rows = (await this.#take("missing")) ?? (await api.envelope.listMissingEnvelopes({})).missing;
    if (rows.length >= MAX_MISSING_ROWS) {
      // Truncated: ask per scope we hold a key for, so keys we lack cannot hide ours.
      rows = [];
      for (const channelId of this.#keystore.channelIds()) {
        rows.push(...(await api.envelope.listMissingEnvelopes({ kind: KeyKind.CHANNEL, scopeId: channelId })).missing);
      }
      if (this.directoryKey()) {
        rows.push(...(await api.envelope.listMissingEnvelopes({ kind: KeyKind.DIRECTORY, scopeId: DIRECTORY_SCOPE })).missing);
      }
    }
    if (rows.length === 0) return 0;
    let trust = await this.#deps.trust();
    // A device we have not evaluated yet (registered since): look again once before refusing it.
    if (rows.some((r) => !trust.devices.has(r.deviceId))) trust = await this.#deps.refreshTrust();
    const inputs: EnvelopeInit[] = [];
    const vouched: { scope: KeyScope; epoch: number; key: Uint8Array }[] = [];
    for (const row of rows) {
      const scope = scopeOf(row.kind, row.scopeId);
      if (!scope) continue;
      const held = scope.kind === "channel" ? this.channelKeyAt(scope.channelId, row.epoch) : this.directoryKeyAt(row.epoch);
      if (!held) continue;
      // Signed identities decide, not the server's list: certified devices of admitted members only.
      const may = mayReceiveKeys(trust, row.deviceId, row.userId, row.publicKey);
      if (!may.ok) {
        // An owner without an identity is mid-registration (its client publishes one in a moment)
        // or runs a client from before signed identities: withheld without a notice.
        if (trust.identities.has(row.userId)) this.#withheld(row.deviceId, row.userId, may.reason);
        continue;
      }
      if (!(await this.acceptDevice(row.deviceId, row.userId, row.publicKey))) continue;
      // The row names the current epoch; older ones we hold go along, so history stays readable.
      const epochs = scope.kind === "channel" ? this.#keystore.channelEpochs(scope.channelId) : this.#keystore.directoryEpochs();
      for (const epoch of epochs.filter((e) => e <= row.epoch)) {
        const key = scope.kind === "channel" ? this.channelKeyAt(scope.channelId, epoch)! : this.directoryKeyAt(epoch)!;
        inputs.push(await this.sealFor(scope, epoch, key.key, row.deviceId));
        vouched.push({ scope, epoch, key: key.key });
      }
    }
    if (inputs.length === 0) return 0;
    await this.vouchFor(vouched, trust);
    const stored = await this.#put(inputs);
    if (stored > 0) this.#deps.emit({ type: "keys-shared", count: stored });
    return stored;
  }

  /** Reports once per device and reason that keys were withheld from it. */
  #withheld(deviceId: string, userId: string, reason: string): void {
    const tag = `withheld:${deviceId}:${reason}`;
    if (this.#reported.has(tag)) return;
    this.#reported.add(tag);
    this.#deps.emit({ type: "keys-withheld", deviceId, userId, reason });
  }

  /**
   * Signs and publishes a statement for each key we hand out (`channel-key`, or `directory-key`
   * when we are an admin): recipients accept a key only with one from an admitted member.
   */
  async vouchFor(keys: readonly { scope: KeyScope; epoch: number; key: Uint8Array }[], trust: TrustSnapshot): Promise<void> {
    const identity = this.#keystore.identity;
    const role = trust.members.get(this.#deps.me.userId)?.role;
    if (!identity || !role) return;
    const statements = [];
    for (const k of keys) {
      const tag = `vouched:${scopeKey(k.scope)}:${k.epoch}`;
      if (this.#reported.has(tag) || (k.scope.kind === "directory" && role !== "admin")) continue;
      this.#reported.add(tag);
      const hash = await keyHash(k.key);
      statements.push({
        ...wireScope(k.scope),
        epoch: k.epoch,
        keyHash: encodeBase64(hash),
        signature: await signStatement(identity.privateKey, keyStatement(k.scope, k.epoch, hash)),
      });
    }
    for (let i = 0; i < statements.length; i += PUT_BATCH) {
      await this.#deps.api.identity.putKeyStatements({ statements: statements.slice(i, i + PUT_BATCH) });
    }
  }

  /** Whether a statement from an admitted member (an admin, for the directory) vouches for this key. */
  async #vouched(scope: KeyScope, epoch: number, key: Uint8Array, trust: TrustSnapshot, seen: StatementCache): Promise<boolean> {
    let listed = seen.get(scopeKey(scope));
    if (!listed) {
      listed = this.#deps.api.identity.listKeyStatements(wireScope(scope)).then((r) => r.statements);
      seen.set(scopeKey(scope), listed);
    }
    const statements = await listed;
    const hash = await keyHash(key);
    const hashText = encodeBase64(hash);
    for (const st of statements) {
      if (st.epoch !== epoch || st.keyHash !== hashText) continue;
      const signer = trust.members.get(st.signerUserId);
      if (!signer || (scope.kind === "directory" && signer.role !== "admin")) continue;
      try {
        if (await verifyStatement(signer.identityKey, keyStatement(scope, epoch, hash), st.signature)) return true;
      } catch {
        // a malformed statement vouches for nothing
      }
    }
    return false;
  }

  async #fetchKeys(): Promise<FetchReport> {
    const envelopes = (await this.#take("envelopes")) ?? (await this.#deps.api.envelope.listEnvelopes({})).envelopes;
    let profiles: Profile[] | undefined;
    const statements: StatementCache = new Map();
    const accepted: EnvelopeRef[] = [];
    const rejected: EnvelopeRef[] = [];
    for (const env of envelopes) {
      if (env.kind === KeyKind.IDENTITY || env.kind === KeyKind.BACKUP) {
        const ref = { kind: env.kind, scopeId: env.scopeId, epoch: env.epoch, senderDeviceId: env.senderDeviceId };
        const outcome = await this.#receiveIdentity(env);
        if (outcome === "added") accepted.push(ref);
        else if (outcome !== "skipped") rejected.push(ref);
        continue;
      }
      const scope = scopeOf(env.kind, env.scopeId);
      if (!scope || env.recipientDeviceId !== this.#deps.me.deviceId) continue;
      const held = scope.kind === "channel" ? this.channelKeyAt(scope.channelId, env.epoch) : this.directoryKeyAt(env.epoch);
      if (held) continue;
      const tag = `envelope:${env.senderDeviceId}:${env.ciphertext}`;
      if (this.#reported.has(tag)) continue;
      const ref = { kind: env.kind, scopeId: env.scopeId, epoch: env.epoch, senderDeviceId: env.senderDeviceId };
      const outcome = await this.#receive(
        env,
        scope,
        async () => (profiles ??= (await this.#deps.api.directory.listProfiles({})).profiles),
        statements,
      );
      if (outcome === "added") accepted.push(ref);
      else if (outcome !== "skipped") {
        rejected.push(ref);
        this.#reported.add(tag);
        this.#lastRejection.set(scopeKey(scope), outcome.reason);
        this.#deps.emit({
          type: "key-rejected",
          scope,
          epoch: env.epoch,
          senderDeviceId: env.senderDeviceId,
          senderUserId: env.senderUserId,
          reason: outcome.reason,
        });
      }
    }
    // Tell the server: an accepted envelope ends the "missing" listing for this device; a rejected
    // one is deleted, so junk from one member cannot stand in for the real key.
    if (accepted.length + rejected.length > 0) this.#writes++;
    for (let i = 0; i < accepted.length; i += PUT_BATCH) {
      await this.#deps.api.envelope.acknowledgeEnvelopes({ accepted: accepted.slice(i, i + PUT_BATCH) });
    }
    for (let i = 0; i < rejected.length; i += PUT_BATCH) {
      await this.#deps.api.envelope.acknowledgeEnvelopes({ rejected: rejected.slice(i, i + PUT_BATCH) });
    }
    return { added: accepted.length, rejected: rejected.length };
  }

  /**
   * The identity (or backup key) handed over by another device of this account when it approved
   * this one: believed only from a device the account's identity certified, and an identity only
   * if it is the one the account published.
   */
  async #receiveIdentity(env: Envelope): Promise<"added" | "skipped" | { reason: string }> {
    const ks = this.#keystore;
    const me = this.#deps.me;
    const kind = env.kind === KeyKind.IDENTITY ? "identity" : "backup";
    if (env.scopeId !== me.userId || env.senderUserId !== me.userId || env.recipientDeviceId !== me.deviceId) return "skipped";
    if (kind === "identity" ? ks.identity : ks.backupKey) return "skipped";
    const trust = await this.#deps.trust();
    const sender = trust.devices.get(env.senderDeviceId);
    const published = trust.identities.get(me.userId);
    if (!sender || sender.userId !== me.userId || sender.trust !== "certified" || sender.publicKey !== env.senderPublicKey || !published) {
      return { reason: `the ${kind} offered by device ${env.senderDeviceId} does not come from a certified device of this account` };
    }
    let secret: Uint8Array;
    try {
      secret = await openEnvelope({
        recipientPrivateKey: ks.deviceKeyPair.privateKey,
        senderPublicKey: publicKeyFromBase64(sender.publicKey),
        context: { kind, userId: me.userId, epoch: 1, senderDeviceId: env.senderDeviceId, recipientDeviceId: me.deviceId },
        envelope: env.ciphertext,
      });
    } catch {
      return { reason: `the ${kind} envelope from device ${env.senderDeviceId} does not open` };
    }
    if (kind === "identity") {
      const pair = await identityKeyPairFromSeed(secret);
      if (!constantTimeEqual(pair.publicKey, published))
        return { reason: "the identity handed over is not the one this account published" };
      ks.setIdentity(pair);
    } else {
      ks.setBackupKey(secret);
    }
    this.#deps.store.markDirty();
    this.#deps.emit({ type: "identity-received", kind, senderDeviceId: env.senderDeviceId });
    return "added";
  }

  /** Seals this account's identity and backup key for a device it just certified (approval). */
  async sealIdentityFor(recipientDeviceId: string, recipientPublicKey: Uint8Array): Promise<EnvelopeInit[]> {
    const ks = this.#keystore;
    const me = this.#deps.me;
    const out: EnvelopeInit[] = [];
    const secrets: ["identity" | "backup", Uint8Array | undefined][] = [
      ["identity", ks.identity?.privateKey],
      ["backup", ks.backupKey],
    ];
    for (const [kind, secret] of secrets) {
      if (!secret) continue;
      const ciphertext = await sealEnvelope({
        senderPrivateKey: ks.deviceKeyPair.privateKey,
        recipientPublicKey,
        context: { kind, userId: me.userId, epoch: 1, senderDeviceId: me.deviceId, recipientDeviceId },
        key: secret,
      });
      out.push({
        kind: kind === "identity" ? KeyKind.IDENTITY : KeyKind.BACKUP,
        scopeId: me.userId,
        epoch: 1,
        recipientDeviceId,
        ciphertext,
      });
    }
    return out;
  }

  /** Stores envelopes this device wrote (batched). */
  putEnvelopes(inputs: EnvelopeInit[]): Promise<number> {
    return this.#put(inputs);
  }

  async #receive(
    env: Envelope,
    scope: KeyScope,
    profiles: () => Promise<Profile[]>,
    statements: StatementCache,
  ): Promise<"added" | "skipped" | { reason: string }> {
    const ks = this.#keystore;
    const trust = await this.#deps.trust();
    // Only a certified device of an admitted member hands out keys (the server's word is not
    // enough): the same rule as for receiving them.
    const may = mayReceiveKeys(trust, env.senderDeviceId, env.senderUserId, env.senderPublicKey);
    if (!may.ok) return { reason: `the sender device ${env.senderDeviceId} may not hand out keys: ${may.reason}` };
    if (!(await this.acceptDevice(env.senderDeviceId, env.senderUserId, env.senderPublicKey))) {
      return { reason: `the sender device ${env.senderDeviceId} shows a key other than the one pinned for it` };
    }
    const sender = ks.pinnedDevice(env.senderDeviceId)!;
    let key: Uint8Array;
    try {
      key = await openEnvelope({
        recipientPrivateKey: ks.deviceKeyPair.privateKey,
        senderPublicKey: sender.publicKey,
        context: { ...scope, epoch: env.epoch, senderDeviceId: env.senderDeviceId, recipientDeviceId: this.#deps.me.deviceId },
        envelope: env.ciphertext,
      });
    } catch {
      return {
        reason: `the envelope from device ${env.senderDeviceId} does not open under its pinned key and the expected context (forged or moved)`,
      };
    }
    const epochKey = { epoch: env.epoch, key };
    if (!(await this.#vouched(scope, env.epoch, key, trust, statements))) {
      return {
        reason:
          scope.kind === "channel"
            ? `no admitted member signed the key from device ${env.senderDeviceId} (epoch ${env.epoch})`
            : `the directory key (epoch ${env.epoch}) from device ${env.senderDeviceId} is not signed by an admin`,
      };
    }
    if (scope.kind === "channel") {
      const channel = await this.#deps.channel(scope.channelId);
      if (!channel) return "skipped"; // deleted, or not listed yet: nothing to confirm against
      // The name is sealed at the current epoch only; older epochs rest on the signed statement.
      if (channel.keyEpoch === env.epoch && !(await keyOpensChannelName(channel, epochKey))) {
        return { reason: `the key from device ${env.senderDeviceId} does not open the channel's name (substituted key)` };
      }
    } else {
      // Confirm against a profile name sealed at this epoch by someone other than the sender
      // (a sender can seal its own profile with any key it likes).
      const named = (await profiles()).filter((p) => p.encryptedName !== "" && p.keyEpoch === env.epoch);
      const others = named.filter((p) => p.userId !== env.senderUserId);
      const witnesses = others.length > 0 ? others : named;
      if (witnesses.length > 0) {
        let ok = false;
        for (const p of witnesses) if ((ok = await keyOpensProfile(p, epochKey))) break;
        if (!ok) return { reason: `the directory key from device ${env.senderDeviceId} opens no profile name (substituted key)` };
      }
    }
    try {
      const r = scope.kind === "channel" ? ks.setChannelKey(scope.channelId, env.epoch, key) : ks.setDirectoryKey(env.epoch, key);
      if (r === "added") {
        this.#deps.store.markDirty();
        this.#deps.keysAdded?.();
      }
    } catch (err) {
      if (err instanceof KeystoreError && err.code === "key-conflict") return { reason: "a different key for this epoch is already held" };
      throw err;
    }
    this.#deps.emit({ type: "key-received", scope, epoch: env.epoch, senderDeviceId: env.senderDeviceId, senderUserId: env.senderUserId });
    return "added";
  }

  /**
   * Stores a channel key we created and seals it for every accepted device lacking it (our own
   * included, so another install of ours, or this one after losing its keystore, can fetch it).
   */
  async adoptNewChannelKey(channelId: string, key: EpochKey): Promise<number> {
    this.#keystore.setChannelKey(channelId, key.epoch, key.key);
    this.#deps.store.markDirty();
    this.#deps.keysAdded?.();
    await this.vouchFor([{ scope: { kind: "channel", channelId }, epoch: key.epoch, key: key.key }], await this.#deps.trust());
    return this.shareMissing();
  }

  /**
   * The directory key, fetching it if shared. With `generate`, when nobody has a key yet (no
   * profile carries a name), creates one: the envelope to ourselves is written first, and since
   * the server keeps only the first self-written directory envelope of an epoch, of two racing
   * creators one wins and the other waits for the winner's share.
   */
  async ensureDirectoryKey(generate: boolean): Promise<EpochKey | undefined> {
    if (this.directoryKey()) return this.directoryKey();
    await this.fetchKeys();
    if (this.directoryKey() || !generate) return this.directoryKey();
    const { profiles } = await this.#deps.api.directory.listProfiles({});
    if (profiles.some((p) => p.encryptedName !== "")) return undefined; // someone holds one: wait for a share
    // Only an admin's directory key is believed (a member's would be refused by everyone).
    if ((await this.#deps.trust()).members.get(this.#deps.me.userId)?.role !== "admin") return undefined;
    const key = generateSymmetricKey();
    const me = this.#deps.me;
    const pinnedSelf = await this.acceptDevice(me.deviceId, me.userId, publicKeyToBase64(this.#keystore.devicePublicKey));
    if (!pinnedSelf) return undefined;
    const self = await this.sealFor({ kind: "directory" }, 1, key, me.deviceId);
    this.#writes++;
    const { stored } = await this.#deps.api.envelope.putEnvelopes({ envelopes: [self] });
    if (stored === 1) {
      this.#keystore.setDirectoryKey(1, key);
      this.#deps.store.markDirty();
      this.#deps.keysAdded?.();
      await this.vouchFor([{ scope: { kind: "directory" }, epoch: 1, key }], await this.#deps.trust());
      await this.shareMissing();
    } else {
      await this.fetchKeys();
    }
    return this.directoryKey();
  }
}
