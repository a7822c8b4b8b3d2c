// The account's encrypted key backup on the server (DESIGN §11, ENCRYPTION.md "Key backup"):
// the identity, channel and directory keys under a key derived from the recovery code. Every
// device holding the backup key keeps it current (compare-and-set: merge, then retry on a race);
// `recover` opens it on a fresh device with nothing but the password and the code.
import {
  CryptoError,
  decodeBackupDocument,
  encodeBackupDocument,
  openKeyBackup,
  sealKeyBackup,
  type BackupDocument,
} from "../crypto/index.js";
import type { Api } from "./api.js";
import { ApiError } from "./errors.js";
import type { KeystoreStore } from "./store.js";

export interface KeyBackupDeps {
  readonly api: Pick<Api, "identity">;
  readonly store: KeystoreStore;
  readonly me: { readonly userId: string };
}

const ATTEMPTS = 4;

/** What this keystore holds, as a backup document (undefined without an identity). */
function documentOf(store: KeystoreStore, userId: string): BackupDocument | undefined {
  const ks = store.keystore;
  const identity = ks.identity;
  if (!identity) return undefined;
  const channelKeys = new Map<string, Map<number, Uint8Array>>();
  for (const id of ks.channelIds()) {
    const epochs = new Map<number, Uint8Array>();
    for (const epoch of ks.channelEpochs(id)) epochs.set(epoch, ks.channelKey(id, epoch)!);
    channelKeys.set(id, epochs);
  }
  const directoryKeys = new Map<number, Uint8Array>();
  for (const epoch of ks.directoryEpochs()) directoryKeys.set(epoch, ks.directoryKey(epoch)!);
  return { userId, identity: identity.privateKey, channelKeys, directoryKeys };
}

/** Whether `doc` holds every key `held` does (so writing would add nothing). */
function covers(doc: BackupDocument, held: BackupDocument): boolean {
  for (const [id, epochs] of held.channelKeys) for (const e of epochs.keys()) if (!doc.channelKeys.get(id)?.has(e)) return false;
  for (const e of held.directoryKeys.keys()) if (!doc.directoryKeys.has(e)) return false;
  return true;
}

function merge(a: BackupDocument, b: BackupDocument): BackupDocument {
  const channelKeys = new Map<string, Map<number, Uint8Array>>();
  for (const src of [b, a]) {
    for (const [id, epochs] of src.channelKeys) {
      const into = channelKeys.get(id) ?? new Map<number, Uint8Array>();
      for (const [e, k] of epochs) into.set(e, k);
      channelKeys.set(id, into);
    }
  }
  return { userId: a.userId, identity: a.identity, channelKeys, directoryKeys: new Map([...b.directoryKeys, ...a.directoryKeys]) };
}

/**
 * Writes what this device holds into the backup, merged with what is there. No-op without a
 * backup key, or when the backup already covers every key. Returns the version written.
 */
export async function writeKeyBackup(deps: KeyBackupDeps): Promise<bigint | undefined> {
  const { api, store, me } = deps;
  const backupKey = store.keystore.backupKey;
  const held = documentOf(store, me.userId);
  if (!backupKey || !held) return undefined;
  for (let attempt = 0; ; attempt++) {
    const current = await api.identity.getKeyBackup({});
    let doc = held;
    if (current.version > 0n) {
      try {
        const stored = decodeBackupDocument(await openKeyBackup(backupKey, me.userId, current.version, current.ciphertext), me.userId);
        if (covers(stored, held)) return current.version;
        doc = merge(held, stored);
      } catch (err) {
        // A backup we cannot open was made under another recovery code (or damaged): ours replaces it.
        if (!(err instanceof CryptoError)) throw err;
      }
    }
    const version = current.version + 1n;
    try {
      const ciphertext = await sealKeyBackup(backupKey, me.userId, version, encodeBackupDocument(doc));
      return (await api.identity.putKeyBackup({ expectedVersion: current.version, ciphertext })).version;
    } catch (err) {
      if (err instanceof ApiError && err.code === "aborted" && attempt + 1 < ATTEMPTS) continue; // another device wrote first: merge again
      throw err;
    }
  }
}

/** Opens the account's backup with a backup key (recovery); a wrong code fails to open. */
export async function readKeyBackup(
  deps: Pick<KeyBackupDeps, "api">,
  backupKey: Uint8Array,
  userId: string,
): Promise<BackupDocument | undefined> {
  const current = await deps.api.identity.getKeyBackup({});
  if (current.version === 0n) return undefined;
  return decodeBackupDocument(await openKeyBackup(backupKey, userId, current.version, current.ciphertext), userId);
}
