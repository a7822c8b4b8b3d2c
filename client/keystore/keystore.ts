// One encrypted keystore per server origin: the device key, channel and directory keys,
// pinned device keys, verified users, the session and the event-feed position.
import { readFile, stat } from "node:fs/promises";
import {
  CryptoError,
  constantTimeEqual,
  deriveKeystoreKey,
  generateX25519KeyPair,
  openKeystore,
  sealKeystore,
  utf8Decode,
  utf8Encode,
  x25519PublicKey,
  type EpochKey,
  type KeystoreKey,
  type X25519KeyPair,
} from "../crypto/index.js";
import { ensurePrivateDir, writeFileAtomic } from "./atomic.js";
import { checkOwnPath } from "./ownership.js";
import { KeystoreError } from "./errors.js";
import { nodeScrypt } from "./scrypt.js";
import { keystorePaths, serverOrigin, type KeystorePaths } from "./paths.js";
import {
  parseState,
  serializeState,
  type IdentityKeys,
  type InviteSecret,
  type KeystoreState,
  type PinnedDevice,
  type PinnedIdentity,
  type PinnedRoot,
  type RootSource,
  type Session,
  type VerifiedUser,
} from "./state.js";

export const MIN_PASSPHRASE_LENGTH = 8;

/** What pinning a device key found: a new pin, the same key again, or a different key (refused). */
export type PinResult = "pinned" | "known" | "changed";

const copy = (bytes: Uint8Array): Uint8Array => Uint8Array.from(bytes);

function requireKey(fn: string, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new KeystoreError("invalid-input", `${fn}: key must be 32 bytes`);
  }
}

function requireEpoch(fn: string, epoch: number): void {
  if (!Number.isInteger(epoch) || epoch < 1 || epoch > 0xffffffff) {
    throw new KeystoreError("invalid-input", `${fn}: epoch must be an integer in 1..4294967295`);
  }
}

function latest(keys: Map<number, Uint8Array> | undefined): EpochKey | undefined {
  if (keys === undefined || keys.size === 0) return undefined;
  const epoch = Math.max(...keys.keys());
  return { epoch, key: copy(keys.get(epoch)!) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

function requireStrongPassphrase(passphrase: string): void {
  if (typeof passphrase !== "string" || [...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new KeystoreError("weak-passphrase", `the keystore passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
}

export class Keystore {
  /** The canonical server origin this keystore belongs to. */
  readonly origin: string;
  readonly paths: KeystorePaths;
  readonly #configDir: string;
  #fileKey: KeystoreKey;
  readonly #state: KeystoreState;

  private constructor(configDir: string, origin: string, fileKey: KeystoreKey, state: KeystoreState) {
    this.#configDir = configDir;
    this.origin = origin;
    this.paths = keystorePaths(configDir, origin);
    this.#fileKey = fileKey;
    this.#state = state;
  }

  /** Whether a keystore exists for this server (by origin) under `configDir`. */
  static async exists(configDir: string, server: string): Promise<boolean> {
    return exists(keystorePaths(configDir, server).file);
  }

  /** Creates a keystore with a fresh device key pair and writes it; refuses to overwrite one. */
  static async create(configDir: string, server: string, passphrase: string): Promise<Keystore> {
    const origin = serverOrigin(server);
    requireStrongPassphrase(passphrase);
    const paths = keystorePaths(configDir, origin);
    if (await exists(paths.file)) {
      throw new KeystoreError("exists", `a keystore for ${origin} already exists at ${paths.file}`);
    }
    const fileKey = await deriveKeystoreKey(passphrase, nodeScrypt);
    const store = new Keystore(configDir, origin, fileKey, {
      device: await generateX25519KeyPair(),
      channelKeys: new Map(),
      directoryKeys: new Map(),
      pinnedDevices: new Map(),
      verifiedUsers: new Map(),
      session: undefined,
      lastEventSeq: 0n,
      identity: undefined,
      backupKey: undefined,
      root: undefined,
      pinnedIdentities: new Map(),
      inviteSecrets: new Map(),
      pendingAdmissionSecret: undefined,
      upgradedAt: undefined,
      searchCacheKey: undefined,
    });
    await ensurePrivateDir(configDir, paths.dir);
    await writeFileAtomic(paths.originFile, `${origin}\n`);
    await store.save();
    return store;
  }

  /** Opens and decrypts the keystore of this server. Reads only: a failure never writes. */
  static async open(configDir: string, server: string, passphrase: string): Promise<Keystore> {
    const origin = serverOrigin(server);
    const paths = keystorePaths(configDir, origin);
    // Another user's directory or file could be a planted keystore or a copy for them to search.
    if (await checkOwnPath(paths.dir, "the keystore directory", "directory")) await checkOwnPath(paths.file, "the keystore", "file");
    let text: string;
    try {
      text = await readFile(paths.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new KeystoreError("not-found", `no keystore for ${origin} at ${paths.file}`);
      }
      throw err;
    }
    let opened: { plaintext: Uint8Array; fileKey: KeystoreKey };
    try {
      opened = await openKeystore(text, passphrase, origin, nodeScrypt);
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err;
      if (err.code === "decrypt-failed" || (err.code === "invalid-input" && passphrase === "")) {
        throw new KeystoreError("wrong-passphrase", `wrong passphrase or corrupted keystore (${paths.file})`, { cause: err });
      }
      if (err.code === "unsupported-version") {
        throw new KeystoreError("unsupported-version", `${paths.file}: ${err.message}`, { cause: err });
      }
      throw new KeystoreError("corrupted", `${paths.file} is not a keystore: ${err.message}`, { cause: err });
    }
    let plaintext: string;
    try {
      plaintext = utf8Decode(opened.plaintext);
    } catch {
      throw new KeystoreError("corrupted", `keystore ${paths.file} decrypted but is not UTF-8`);
    }
    const state = parseState(plaintext, paths.file);
    // The stored public key must be the private key's: a cheap check against a damaged pair.
    if (!constantTimeEqual(await x25519PublicKey(state.device.privateKey), state.device.publicKey)) {
      throw new KeystoreError("corrupted", `keystore ${paths.file}: device public key does not match the private key`);
    }
    return new Keystore(configDir, origin, opened.fileKey, state);
  }

  /** Encrypts the current state with a fresh nonce and replaces the file atomically (0600). */
  async save(): Promise<void> {
    await ensurePrivateDir(this.#configDir, this.paths.dir);
    const text = await sealKeystore(this.#fileKey, this.origin, utf8Encode(serializeState(this.#state)));
    await writeFileAtomic(this.paths.file, `${text}\n`);
  }

  /** Re-encrypts under a new passphrase (fresh scrypt salt) and saves. */
  async changePassphrase(passphrase: string): Promise<void> {
    requireStrongPassphrase(passphrase);
    this.#fileKey = await deriveKeystoreKey(passphrase, nodeScrypt);
    await this.save();
  }

  // --- device key ------------------------------------------------------------------------------

  /** This install's X25519 key pair for this server (never shared across servers). */
  get deviceKeyPair(): X25519KeyPair {
    return { privateKey: copy(this.#state.device.privateKey), publicKey: copy(this.#state.device.publicKey) };
  }

  get devicePublicKey(): Uint8Array {
    return copy(this.#state.device.publicKey);
  }

  // --- channel and directory keys ---------------------------------------------------------------

  channelKey(channelId: string, epoch: number): Uint8Array | undefined {
    const key = this.#state.channelKeys.get(channelId)?.get(epoch);
    return key === undefined ? undefined : copy(key);
  }

  /** The highest-epoch key we hold for a channel: the one to seal new fields with. */
  latestChannelKey(channelId: string): EpochKey | undefined {
    return latest(this.#state.channelKeys.get(channelId));
  }

  /** Every epoch held for a channel, ascending. */
  channelEpochs(channelId: string): number[] {
    return [...(this.#state.channelKeys.get(channelId)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** Every directory key epoch held, ascending. */
  directoryEpochs(): number[] {
    return [...this.#state.directoryKeys.keys()].sort((a, b) => a - b);
  }

  channelIds(): string[] {
    return [...this.#state.channelKeys.keys()];
  }

  /**
   * Stores a channel key. The first key for an epoch wins: a different key for an epoch we
   * already hold is refused (`key-conflict`), since someone is trying to substitute it.
   */
  setChannelKey(channelId: string, epoch: number, key: Uint8Array): "added" | "unchanged" {
    requireEpoch("setChannelKey", epoch);
    requireKey("setChannelKey", key);
    if (typeof channelId !== "string" || channelId.length === 0) {
      throw new KeystoreError("invalid-input", "setChannelKey: channel id must not be empty");
    }
    let keys = this.#state.channelKeys.get(channelId);
    const held = keys?.get(epoch);
    if (held !== undefined) {
      if (constantTimeEqual(held, key)) return "unchanged";
      throw new KeystoreError("key-conflict", `setChannelKey: a different key for channel ${channelId} epoch ${epoch} is already held`);
    }
    if (keys === undefined) this.#state.channelKeys.set(channelId, (keys = new Map()));
    keys.set(epoch, copy(key));
    return "added";
  }

  /** Drops every key of a channel (the channel was deleted). */
  forgetChannel(channelId: string): void {
    this.#state.channelKeys.delete(channelId);
  }

  directoryKey(epoch: number): Uint8Array | undefined {
    const key = this.#state.directoryKeys.get(epoch);
    return key === undefined ? undefined : copy(key);
  }

  latestDirectoryKey(): EpochKey | undefined {
    return latest(this.#state.directoryKeys);
  }

  /** Like setChannelKey: first key per epoch wins. */
  setDirectoryKey(epoch: number, key: Uint8Array): "added" | "unchanged" {
    requireEpoch("setDirectoryKey", epoch);
    requireKey("setDirectoryKey", key);
    const held = this.#state.directoryKeys.get(epoch);
    if (held !== undefined) {
      if (constantTimeEqual(held, key)) return "unchanged";
      throw new KeystoreError("key-conflict", `setDirectoryKey: a different directory key for epoch ${epoch} is already held`);
    }
    this.#state.directoryKeys.set(epoch, copy(key));
    return "added";
  }

  // --- pinned devices (TOFU) --------------------------------------------------------------------

  pinnedDevice(deviceId: string): PinnedDevice | undefined {
    const d = this.#state.pinnedDevices.get(deviceId);
    return d === undefined ? undefined : { ...d, publicKey: copy(d.publicKey), firstSeen: new Date(d.firstSeen) };
  }

  pinnedDevices(): PinnedDevice[] {
    return [...this.#state.pinnedDevices.keys()].map((id) => this.pinnedDevice(id)!);
  }

  pinnedDevicesOf(userId: string): PinnedDevice[] {
    return this.pinnedDevices().filter((d) => d.userId === userId);
  }

  /**
   * Trust on first use. An unknown device id is pinned ("pinned"); the same key and user again
   * is "known"; another key or another user for a pinned id is "changed" and NOT stored: the
   * caller must refuse that device loudly.
   */
  pinDevice(deviceId: string, userId: string, publicKey: Uint8Array, now: Date = new Date()): PinResult {
    requireKey("pinDevice", publicKey);
    if (!deviceId || !userId) throw new KeystoreError("invalid-input", "pinDevice: device and user ids must not be empty");
    const held = this.#state.pinnedDevices.get(deviceId);
    if (held !== undefined) {
      return held.userId === userId && constantTimeEqual(held.publicKey, publicKey) ? "known" : "changed";
    }
    this.#state.pinnedDevices.set(deviceId, {
      deviceId,
      userId,
      publicKey: copy(publicKey),
      firstSeen: new Date(now),
      verified: false,
    });
    return "pinned";
  }

  setDeviceVerified(deviceId: string, verified: boolean): void {
    const held = this.#state.pinnedDevices.get(deviceId);
    if (held === undefined) throw new KeystoreError("invalid-input", `setDeviceVerified: device ${deviceId} is not pinned`);
    this.#state.pinnedDevices.set(deviceId, { ...held, verified });
  }

  // --- verified users ---------------------------------------------------------------------------

  verifiedUser(userId: string): VerifiedUser | undefined {
    const u = this.#state.verifiedUsers.get(userId);
    return u === undefined ? undefined : { ...u, verifiedAt: new Date(u.verifiedAt) };
  }

  /** True only while the user's current safety number is the one that was verified. */
  isUserVerified(userId: string, currentSafetyNumber: string): boolean {
    return this.#state.verifiedUsers.get(userId)?.safetyNumber === currentSafetyNumber;
  }

  setUserVerified(userId: string, safetyNumber: string, now: Date = new Date()): void {
    if (!/^\d{60}$/.test(safetyNumber)) throw new KeystoreError("invalid-input", "setUserVerified: need the 60-digit safety number");
    this.#state.verifiedUsers.set(userId, { userId, safetyNumber, verifiedAt: new Date(now) });
  }

  clearUserVerified(userId: string): void {
    this.#state.verifiedUsers.delete(userId);
  }

  // --- signed identities (ENCRYPTION.md §10) ------------------------------------------------------

  /** This account's identity key, once this device was approved (or created it). */
  get identity(): IdentityKeys | undefined {
    const i = this.#state.identity;
    return i === undefined ? undefined : { privateKey: copy(i.privateKey), publicKey: copy(i.publicKey) };
  }

  /** Sets the identity once; another one for the same keystore is refused (`key-conflict`). */
  setIdentity(identity: IdentityKeys): "added" | "unchanged" {
    requireKey("setIdentity", identity.privateKey);
    requireKey("setIdentity", identity.publicKey);
    const held = this.#state.identity;
    if (held !== undefined) {
      if (constantTimeEqual(held.publicKey, identity.publicKey)) return "unchanged";
      throw new KeystoreError("key-conflict", "setIdentity: this keystore already holds another identity key");
    }
    this.#state.identity = { privateKey: copy(identity.privateKey), publicKey: copy(identity.publicKey) };
    return "added";
  }

  get backupKey(): Uint8Array | undefined {
    const k = this.#state.backupKey;
    return k === undefined ? undefined : copy(k);
  }

  setBackupKey(key: Uint8Array): void {
    requireKey("setBackupKey", key);
    this.#state.backupKey = copy(key);
  }

  get root(): PinnedRoot | undefined {
    const r = this.#state.root;
    return r === undefined ? undefined : { ...r, fingerprint: copy(r.fingerprint), pinnedAt: new Date(r.pinnedAt) };
  }

  /** Pins the community's root once; a different root later is refused (`key-conflict`). */
  pinRoot(fingerprint: Uint8Array, source: RootSource, now: Date = new Date()): "added" | "unchanged" {
    requireKey("pinRoot", fingerprint);
    const held = this.#state.root;
    if (held !== undefined) {
      if (constantTimeEqual(held.fingerprint, fingerprint)) return "unchanged";
      throw new KeystoreError("key-conflict", "pinRoot: another root is pinned");
    }
    this.#state.root = { fingerprint: copy(fingerprint), source, pinnedAt: new Date(now) };
    return "added";
  }

  pinnedIdentity(userId: string): PinnedIdentity | undefined {
    const p = this.#state.pinnedIdentities.get(userId);
    return p === undefined ? undefined : { ...p, publicKey: copy(p.publicKey), firstSeen: new Date(p.firstSeen) };
  }

  pinnedIdentities(): PinnedIdentity[] {
    return [...this.#state.pinnedIdentities.keys()].map((id) => this.pinnedIdentity(id)!);
  }

  /** First sight pins an account's identity key; a different key later is "changed" and not stored. */
  pinIdentity(userId: string, publicKey: Uint8Array, now: Date = new Date()): PinResult {
    requireKey("pinIdentity", publicKey);
    const held = this.#state.pinnedIdentities.get(userId);
    if (held !== undefined) return constantTimeEqual(held.publicKey, publicKey) ? "known" : "changed";
    this.#state.pinnedIdentities.set(userId, { userId, publicKey: copy(publicKey), firstSeen: new Date(now) });
    return "pinned";
  }

  inviteSecret(inviteId: string): InviteSecret | undefined {
    const i = this.#state.inviteSecrets.get(inviteId);
    return i === undefined ? undefined : { ...i, secret: copy(i.secret), createdAt: new Date(i.createdAt) };
  }

  inviteSecrets(): InviteSecret[] {
    return [...this.#state.inviteSecrets.keys()].map((id) => this.inviteSecret(id)!);
  }

  addInviteSecret(inviteId: string, secret: Uint8Array, now: Date = new Date()): void {
    requireKey("addInviteSecret", secret);
    if (!this.#state.inviteSecrets.has(inviteId)) {
      this.#state.inviteSecrets.set(inviteId, { inviteId, secret: copy(secret), createdAt: new Date(now) });
    }
  }

  get pendingAdmissionSecret(): Uint8Array | undefined {
    const s = this.#state.pendingAdmissionSecret;
    return s === undefined ? undefined : copy(s);
  }

  setPendingAdmissionSecret(secret: Uint8Array | undefined): void {
    if (secret !== undefined) requireKey("setPendingAdmissionSecret", secret);
    this.#state.pendingAdmissionSecret = secret === undefined ? undefined : copy(secret);
  }

  /** When this keystore was upgraded from before signed identities (undefined: created after). */
  get upgradedAt(): Date | undefined {
    return this.#state.upgradedAt === undefined ? undefined : new Date(this.#state.upgradedAt);
  }

  // --- the local search cache (ENCRYPTION.md §13) ----------------------------------------------

  get searchCacheKey(): Uint8Array | undefined {
    const k = this.#state.searchCacheKey;
    return k === undefined ? undefined : copy(k);
  }

  /** Sets the cache key once; another one later is refused (`key-conflict`): segments sealed under the first would be lost. */
  setSearchCacheKey(key: Uint8Array): "added" | "unchanged" {
    requireKey("setSearchCacheKey", key);
    const held = this.#state.searchCacheKey;
    if (held !== undefined) {
      if (constantTimeEqual(held, key)) return "unchanged";
      throw new KeystoreError("key-conflict", "setSearchCacheKey: this keystore already holds another search cache key");
    }
    this.#state.searchCacheKey = copy(key);
    return "added";
  }

  // --- session and feed position ----------------------------------------------------------------

  get session(): Session | undefined {
    const s = this.#state.session;
    return s === undefined ? undefined : { ...s, expiresAt: new Date(s.expiresAt) };
  }

  setSession(session: Session): void {
    if (!session.token || !session.userId || !session.deviceId || Number.isNaN(session.expiresAt.getTime())) {
      throw new KeystoreError("invalid-input", "setSession: token, user id, device id and expiry are required");
    }
    this.#state.session = { ...session, expiresAt: new Date(session.expiresAt) };
  }

  clearSession(): void {
    this.#state.session = undefined;
  }

  /** The seq of the last event applied; Subscribe resumes after it. */
  get lastEventSeq(): bigint {
    return this.#state.lastEventSeq;
  }

  setLastEventSeq(seq: bigint): void {
    if (typeof seq !== "bigint" || seq < 0n) throw new KeystoreError("invalid-input", "setLastEventSeq: seq must be a non-negative bigint");
    this.#state.lastEventSeq = seq;
  }
}
