// Accounts on one server: register, login, logout. Each server has its own keystore (and so its
// own device key); the session token lives inside it, never in a clear-text file.
import { rm } from "node:fs/promises";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Session as WireSession } from "../../gen/dialtone/v1/auth_service_pb.js";
import {
  CryptoError,
  constantTimeEqual,
  decodeBase64,
  formatFingerprint,
  identityFingerprint,
  parseInviteCode,
  publicKeyToBase64,
} from "../crypto/index.js";
import type { Session } from "../keystore/index.js";
import { createApi, type Api } from "./api.js";
import { ApiError, SessionError, UsageError } from "./errors.js";
import { KeystoreStore } from "./store.js";

/** Where a server's state lives and how to unlock it. */
export interface ServerAccess {
  /** The server URL. */
  readonly server: string;
  /** The config dir (client/keystore resolveConfigDir). */
  readonly configDir: string;
  /** The keystore passphrase. */
  readonly passphrase: string;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface SessionResult {
  readonly store: KeystoreStore;
  readonly session: Session;
  /** A keystore (and so a device key) was created by this call. */
  readonly keystoreCreated: boolean;
  /** The server registered a new device for the account. */
  readonly deviceCreated: boolean;
}

function toSession(s: WireSession | undefined): Session {
  if (!s) throw new ApiError("internal", "the server answered without a session");
  return {
    token: s.token,
    userId: s.userId,
    deviceId: s.deviceId,
    isAdmin: s.isAdmin,
    expiresAt: s.expiresAt ? timestampDate(s.expiresAt) : new Date(Date.now() + 86_400_000),
  };
}

async function storeFor(access: ServerAccess): Promise<{ store: KeystoreStore; created: boolean }> {
  const opened = await KeystoreStore.openOrCreate(access.configDir, access.server, access.passphrase);
  const s = opened.store.keystore.session;
  if (s && s.expiresAt.getTime() > Date.now()) {
    throw new SessionError(
      "already-logged-in",
      `this config dir is already logged in to ${opened.store.origin} (user ${s.userId}); run logout first, or use another DIALTONE_CONFIG_DIR`,
    );
  }
  return opened;
}

/**
 * Runs `call`; if it fails and the keystore was created for it, removes that keystore again (a
 * typo in --server leaves nothing behind). The server refuses a device key that another account
 * holds: this keystore belongs to that account (its keys and pins are that user's).
 */
async function undoIfCreated<T>(store: KeystoreStore, created: boolean, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (created) await rm(store.keystore.paths.dir, { recursive: true, force: true });
    if (err instanceof ApiError && err.code === "already-exists" && err.message.includes("device_public_key")) {
      throw new SessionError(
        "keystore-of-another-account",
        `this config dir's keystore for ${store.origin} belongs to another account; log in as that account, or use another DIALTONE_CONFIG_DIR`,
      );
    }
    throw err;
  }
}

/**
 * The server's root must be the one the invite names (its minting admin's community), checked
 * before an account exists: a server that is not the inviter's gets no registration at all.
 */
async function checkRoot(api: Api, expected: Uint8Array): Promise<void> {
  let key: Uint8Array | undefined;
  try {
    const { root } = await api.identity.getRoot({});
    key = root ? decodeBase64(root.publicKey) : undefined;
  } catch (err) {
    if (!(err instanceof ApiError && err.code === "not-found")) throw err;
  }
  const found = key && key.length === 32 ? await identityFingerprint(key) : undefined;
  if (!found || !constantTimeEqual(found, expected)) {
    throw new SessionError(
      "wrong-community",
      `this server's community root ${found ? formatFingerprint(found) : "(none)"} is not the one the invite names (${formatFingerprint(expected)}): ` +
        "the server is not the one whose admin invited you, or it was tampered with; nothing was registered",
    );
  }
}

/**
 * Creates an account with an invite, logging in this install's device. An invite minted by an
 * admin's client (`server token.admission secret.root fingerprint`) pins the root and keeps the
 * secret for the admission request; a bare server token registers a pending member.
 */
export async function register(access: ServerAccess, creds: Credentials & { readonly invite: string }): Promise<SessionResult> {
  let code: ReturnType<typeof parseInviteCode>;
  try {
    code = parseInviteCode(creds.invite);
  } catch (err) {
    if (err instanceof CryptoError) throw new UsageError("invalid-input", `--invite: ${err.message}`);
    throw err;
  }
  const api = createApi({ baseUrl: access.server });
  if (code.rootFingerprint) await checkRoot(api, code.rootFingerprint);
  const { store, created } = await storeFor(access);
  const res = await undoIfCreated(store, created, () =>
    api.auth.register({
      username: creds.username,
      password: creds.password,
      inviteToken: code.serverToken,
      devicePublicKey: publicKeyToBase64(store.keystore.devicePublicKey),
    }),
  );
  const session = toSession(res.session);
  store.setSession(session);
  if (code.rootFingerprint) store.keystore.pinRoot(code.rootFingerprint, "invite");
  if (code.admissionSecret) store.keystore.setPendingAdmissionSecret(code.admissionSecret);
  await store.save();
  return { store, session, keystoreCreated: created, deviceCreated: true };
}

/** Opens a session; an install the account has not used yet becomes a new device. */
export async function login(access: ServerAccess, creds: Credentials): Promise<SessionResult> {
  const { store, created } = await storeFor(access);
  const api = createApi({ baseUrl: access.server });
  const res = await undoIfCreated(store, created, () =>
    api.auth.login({
      username: creds.username,
      password: creds.password,
      devicePublicKey: publicKeyToBase64(store.keystore.devicePublicKey),
    }),
  );
  const session = toSession(res.session);
  store.setSession(session);
  await store.save();
  return { store, session, keystoreCreated: created, deviceCreated: res.deviceCreated };
}

/** The stored session, or a SessionError saying how to get one. */
export function requireSession(store: KeystoreStore): Session {
  const s = store.keystore.session;
  if (!s) throw new SessionError("not-logged-in", `not logged in to ${store.origin}: run dialtone login (or register)`);
  if (s.expiresAt.getTime() <= Date.now()) {
    throw new SessionError("expired", `the session for ${store.origin} expired: run dialtone login`);
  }
  return s;
}

/** An API client authenticated with the store's session. */
export function sessionApi(store: KeystoreStore): Api {
  return createApi({ baseUrl: store.server, token: () => store.keystore.session?.token });
}

/**
 * Revokes the session on the server and forgets it locally. The keystore (device key, channel
 * keys, pins) stays: logging in again from this install reuses the same device.
 */
export async function logout(store: KeystoreStore): Promise<{ revoked: boolean }> {
  if (!store.keystore.session) throw new SessionError("not-logged-in", `not logged in to ${store.origin}`);
  let revoked = true;
  try {
    await sessionApi(store).auth.logout({});
  } catch (err) {
    // Already revoked or expired on the server: forgetting it locally is all that is left.
    if (!(err instanceof ApiError && err.code === "unauthenticated")) throw err;
    revoked = false;
  }
  store.clearSession();
  await store.save();
  return { revoked };
}
