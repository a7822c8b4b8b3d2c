// One process's handle on its server's keystore. Two dialtone processes often share one keystore
// (`tail` in one terminal, `send` in another), and each holds the whole state in memory; a plain
// save would let the last writer drop keys and pins the other learned. So every save first
// re-reads the file and merges what is on disk into memory (keys and pins are append-only, the
// first key per epoch wins), then writes, holding a lock file so that two processes' saves take
// turns: otherwise the one that read the file first would write over what the other just saved
// (an invite secret, a key), and nothing would bring it back.
import { generateSymmetricKey } from "../crypto/index.js";
import { Keystore, KeystoreError, withFileLock, type Session } from "../keystore/index.js";

export interface MergeReport {
  /** Keys or pins on disk that contradicted ours; ours were kept. */
  readonly conflicts: number;
  /** Entries learned from disk. */
  readonly added: number;
}

export interface MergeOptions {
  /** This process set or cleared the session: keep ours. Else adopt the file's (another process may have logged in or out). */
  readonly keepSession: boolean;
  /** Channels this process deleted: their keys on disk are not brought back. */
  readonly forgottenChannels?: ReadonlySet<string>;
}

/**
 * Copies into `into` what `from` holds and `into` lacks: channel and directory keys (latest
 * epoch), pinned devices, verified users, the identity, backup key, root and pinned identities,
 * invite secrets, the search cache key, the larger feed position, and maybe the session.
 */
export function mergeKeystore(into: Keystore, from: Keystore, options: MergeOptions): MergeReport {
  let conflicts = 0;
  let added = 0;
  const count = (fn: () => "added" | "unchanged" | "pinned" | "known" | "changed") => {
    try {
      const r = fn();
      if (r === "added" || r === "pinned") added++;
      if (r === "changed") conflicts++;
    } catch (err) {
      if (err instanceof KeystoreError && err.code === "key-conflict") conflicts++;
      else throw err;
    }
  };
  for (const id of from.channelIds()) {
    if (options.forgottenChannels?.has(id)) continue;
    const k = from.latestChannelKey(id);
    if (k) count(() => into.setChannelKey(id, k.epoch, k.key));
  }
  const dir = from.latestDirectoryKey();
  if (dir) count(() => into.setDirectoryKey(dir.epoch, dir.key));
  const users = new Set<string>();
  for (const d of from.pinnedDevices()) {
    users.add(d.userId);
    count(() => into.pinDevice(d.deviceId, d.userId, d.publicKey, d.firstSeen));
    if (d.verified && into.pinnedDevice(d.deviceId)?.verified === false) into.setDeviceVerified(d.deviceId, true);
  }
  for (const userId of users) {
    const v = from.verifiedUser(userId);
    if (v && !into.verifiedUser(userId)) {
      into.setUserVerified(userId, v.safetyNumber, v.verifiedAt);
      added++;
    }
  }
  const identity = from.identity;
  if (identity) count(() => into.setIdentity(identity));
  const backupKey = from.backupKey;
  if (backupKey && !into.backupKey) {
    into.setBackupKey(backupKey);
    added++;
  }
  const root = from.root;
  if (root) count(() => into.pinRoot(root.fingerprint, root.source, root.pinnedAt));
  for (const p of from.pinnedIdentities()) count(() => into.pinIdentity(p.userId, p.publicKey, p.firstSeen));
  for (const i of from.inviteSecrets()) if (!into.inviteSecret(i.inviteId)) into.addInviteSecret(i.inviteId, i.secret, i.createdAt);
  const cacheKey = from.searchCacheKey;
  if (cacheKey) count(() => into.setSearchCacheKey(cacheKey));
  if (from.lastEventSeq > into.lastEventSeq) into.setLastEventSeq(from.lastEventSeq);
  if (!options.keepSession) {
    const s = from.session;
    if (s) into.setSession(s);
    else into.clearSession();
  }
  return { conflicts, added };
}

export class KeystoreStore {
  readonly keystore: Keystore;
  readonly configDir: string;
  readonly server: string;
  readonly #passphrase: string;
  #dirty = false;
  #sessionChanged = false;
  readonly #forgotten = new Set<string>();
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  private constructor(keystore: Keystore, configDir: string, server: string, passphrase: string) {
    this.keystore = keystore;
    this.configDir = configDir;
    this.server = server;
    this.#passphrase = passphrase;
  }

  /** Opens the keystore of `server`, creating it (with a fresh device key) when absent. */
  static async openOrCreate(configDir: string, server: string, passphrase: string): Promise<{ store: KeystoreStore; created: boolean }> {
    const created = !(await Keystore.exists(configDir, server));
    const keystore = created ? await Keystore.create(configDir, server, passphrase) : await Keystore.open(configDir, server, passphrase);
    return { store: new KeystoreStore(keystore, configDir, server, passphrase), created };
  }

  static async open(configDir: string, server: string, passphrase: string): Promise<KeystoreStore> {
    return new KeystoreStore(await Keystore.open(configDir, server, passphrase), configDir, server, passphrase);
  }

  get origin(): string {
    return this.keystore.origin;
  }

  /** Something changed in memory; it reaches the disk at the next save/flush. */
  markDirty(): void {
    this.#dirty = true;
  }

  setSession(session: Session): void {
    this.keystore.setSession(session);
    this.#sessionChanged = true;
    this.#dirty = true;
  }

  clearSession(): void {
    this.keystore.clearSession();
    this.#sessionChanged = true;
    this.#dirty = true;
  }

  /** Drops a deleted channel's keys, here and (at the next save) on disk. */
  forgetChannel(channelId: string): void {
    this.keystore.forgetChannel(channelId);
    this.#forgotten.add(channelId);
    this.#dirty = true;
  }

  /** Saves within `delayMs` (coalescing bursts, e.g. the feed position while tailing). */
  scheduleSave(delayMs = 1000): void {
    this.#dirty = true;
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.save().catch(() => {
        // A failed background save is retried by the next flush; the state is still in memory.
        this.#dirty = true;
      });
    }, delayMs);
    this.#timer.unref();
  }

  /** Merges what other processes saved, then writes. Saves never overlap, here or across processes. */
  save(): Promise<void> {
    return this.#save(() => {});
  }

  /** `save()`, with `change` applied to the merged state just before it is written, inside the lock. */
  #save(change: () => void): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const run = async () => {
      this.#dirty = false;
      await withFileLock(`${this.keystore.paths.file}.lock`, async () => {
        const disk = await Keystore.open(this.configDir, this.server, this.#passphrase);
        mergeKeystore(this.keystore, disk, { keepSession: this.#sessionChanged, forgottenChannels: this.#forgotten });
        change();
        await this.keystore.save();
      });
    };
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => {});
    return next;
  }

  /**
   * The search cache's key, made on first use. Made under the keystore's lock after reading the
   * file, so two processes starting their caches at once agree on one key (a second key would
   * leave the other's segments unreadable).
   */
  async searchCacheKey(): Promise<Uint8Array> {
    const held = this.keystore.searchCacheKey;
    if (held) return held;
    await this.#save(() => {
      if (!this.keystore.searchCacheKey) this.keystore.setSearchCacheKey(generateSymmetricKey());
    });
    return this.keystore.searchCacheKey!;
  }

  /** Saves if anything changed since the last save. */
  async flush(): Promise<void> {
    if (this.#dirty || this.#timer) await this.save();
    else await this.#chain;
  }
}
