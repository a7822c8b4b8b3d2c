// `dialtone recover`: with every other device gone, the password and the recovery code restore
// the account's identity and every key from the server's encrypted backup onto a fresh device,
// which then certifies itself. The server holds only ciphertext it cannot open.
import {
  CryptoError,
  backupKeyFromRecoveryCode,
  constantTimeEqual,
  decodeBase64,
  identityKeyPairFromSeed,
  parseRecoveryCode,
} from "../crypto/index.js";
import { UsageError } from "./errors.js";
import { certifySelf } from "./identity.js";
import { readKeyBackup } from "./key-backup.js";
import { rm } from "node:fs/promises";
import type { Api } from "./api.js";
import { login, requireSession, sessionApi, type Credentials, type ServerAccess, type SessionResult } from "./session.js";
import type { KeystoreStore } from "./store.js";

export interface RecoveryResult extends SessionResult {
  readonly channelKeys: number;
  readonly directoryKeys: number;
}

function parseCode(text: string): Uint8Array {
  try {
    return parseRecoveryCode(text);
  } catch (err) {
    if (err instanceof CryptoError) throw new UsageError("invalid-input", `recovery code: ${err.message}`);
    throw err;
  }
}

/** Logs in (a new device), opens the backup with the code, and restores the identity and keys. */
export async function recover(access: ServerAccess, creds: Credentials & { readonly recoveryCode: string }): Promise<RecoveryResult> {
  const codeBytes = parseCode(creds.recoveryCode);
  const result = await login(access, creds);
  const { store, session } = result;
  const api = sessionApi(store);
  const me = { userId: session.userId, deviceId: session.deviceId };
  try {
    return await restore(result, api, me, codeBytes);
  } catch (err) {
    // Leave nothing half-done: the device this login made is revoked and its keystore removed
    // (or logged out), so the next attempt starts clean.
    await api.device.revokeDevice({ deviceId: me.deviceId }).catch(() => undefined);
    if (result.keystoreCreated) await rm(store.keystore.paths.dir, { recursive: true, force: true });
    else {
      store.keystore.clearSession();
      await store.save();
    }
    throw err;
  }
}

/**
 * Recovery on a device that is already logged in and waits for approval (the UI's /recover, or
 * `dialtone recover` in a config dir that logged in): nothing is changed if the code is wrong.
 */
export async function recoverLoggedIn(store: KeystoreStore, recoveryCode: string): Promise<Omit<RecoveryResult, keyof SessionResult>> {
  const codeBytes = parseCode(recoveryCode);
  if (store.keystore.identity) throw new UsageError("invalid-input", "this device already holds your identity: nothing to recover");
  const session = requireSession(store);
  const { channelKeys, directoryKeys } = await restore(
    { store, session, keystoreCreated: false, deviceCreated: false },
    sessionApi(store),
    { userId: session.userId, deviceId: session.deviceId },
    codeBytes,
  );
  return { channelKeys, directoryKeys };
}

async function restore(
  result: SessionResult,
  api: Api,
  me: { userId: string; deviceId: string },
  codeBytes: Uint8Array,
): Promise<RecoveryResult> {
  const { store } = result;
  const backupKey = await backupKeyFromRecoveryCode(codeBytes, me.userId);
  let doc: Awaited<ReturnType<typeof readKeyBackup>>;
  try {
    doc = await readKeyBackup({ api }, backupKey, me.userId);
  } catch (err) {
    if (err instanceof CryptoError) {
      throw new UsageError(
        "invalid-input",
        "the recovery code does not open this account's key backup: check it and try again (nothing was changed)",
      );
    }
    throw err;
  }
  if (!doc)
    throw new UsageError("invalid-input", "this account has no key backup on the server: approve this device from another one instead");
  const identity = await identityKeyPairFromSeed(doc.identity);
  const { identities } = await api.identity.listIdentities({ userIds: [me.userId] });
  const published = identities.find((i) => i.userId === me.userId);
  if (!published || !constantTimeEqual(decodeBase64(published.publicKey), identity.publicKey)) {
    throw new UsageError("invalid-input", "the backup's identity is not the one the server publishes for this account: refusing to use it");
  }
  const ks = store.keystore;
  ks.setIdentity(identity);
  ks.setBackupKey(backupKey);
  let channelKeys = 0;
  for (const [channelId, epochs] of doc.channelKeys) {
    for (const [epoch, key] of epochs) if (ks.setChannelKey(channelId, epoch, key) === "added") channelKeys++;
  }
  let directoryKeys = 0;
  for (const [epoch, key] of doc.directoryKeys) if (ks.setDirectoryKey(epoch, key) === "added") directoryKeys++;
  await store.save();
  await api.identity.certifyDevice({ deviceId: me.deviceId, certificate: await certifySelf(identity, me, ks.devicePublicKey) });
  return { ...result, channelKeys, directoryKeys };
}
