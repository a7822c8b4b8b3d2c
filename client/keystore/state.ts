// The keystore's inner plaintext: a versioned JSON document, parsed into typed maps.
import { decodeBase64, encodeBase64, type X25519KeyPair } from "../crypto/index.js";
import { KeystoreError } from "./errors.js";

export const KEYSTORE_STATE_VERSION = 2;

/** A device key as first seen (TOFU). A different key for the same device id is refused. */
export interface PinnedDevice {
  readonly deviceId: string;
  readonly userId: string;
  readonly publicKey: Uint8Array;
  readonly firstSeen: Date;
  /** compared out of band (fingerprint or safety number) */
  readonly verified: boolean;
}

/** A user whose safety number was compared; valid while their safety number stays the same. */
export interface VerifiedUser {
  readonly userId: string;
  readonly safetyNumber: string;
  readonly verifiedAt: Date;
}

export interface Session {
  readonly token: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly expiresAt: Date;
  readonly isAdmin: boolean;
}

/** The account's Ed25519 identity key (seed and public half), held by approved devices. */
export interface IdentityKeys {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Where the community's root fingerprint we trust came from. */
export type RootSource = "invite" | "first-contact" | "self";

export interface PinnedRoot {
  /** SHA-256 identity fingerprint of the root admin's identity key (ENCRYPTION.md §10). */
  readonly fingerprint: Uint8Array;
  readonly source: RootSource;
  readonly pinnedAt: Date;
}

/** An identity key as first seen for an account: a different one later is announced loudly. */
export interface PinnedIdentity {
  readonly userId: string;
  readonly publicKey: Uint8Array;
  readonly firstSeen: Date;
}

/** The admission secret of an invite this (admin) client minted, kept to admit its users. */
export interface InviteSecret {
  readonly inviteId: string;
  readonly secret: Uint8Array;
  readonly createdAt: Date;
}

export interface KeystoreState {
  device: X25519KeyPair;
  identity: IdentityKeys | undefined;
  /** The account's key-backup key (derived from the recovery code, or handed by another device). */
  backupKey: Uint8Array | undefined;
  root: PinnedRoot | undefined;
  pinnedIdentities: Map<string, PinnedIdentity>;
  inviteSecrets: Map<string, InviteSecret>;
  /** The invite's admission secret this account registered with, until the request is published. */
  pendingAdmissionSecret: Uint8Array | undefined;
  /**
   * When this keystore was upgraded from version 1 (before signed identities): device pins
   * older than this are what the first admin's client admits members by. Unset for new ones.
   */
  upgradedAt: Date | undefined;
  /** channel id → epoch → 32-byte key */
  channelKeys: Map<string, Map<number, Uint8Array>>;
  /** epoch → 32-byte key */
  directoryKeys: Map<number, Uint8Array>;
  pinnedDevices: Map<string, PinnedDevice>;
  verifiedUsers: Map<string, VerifiedUser>;
  session: Session | undefined;
  /** the last event-feed seq applied (int64 on the wire, hence bigint) */
  lastEventSeq: bigint;
  /** The key of the local search cache (ENCRYPTION.md §13), made on first use. */
  searchCacheKey: Uint8Array | undefined;
}

// --- JSON form (version 2; version 1 lacks the fields from "identity" on and still opens) ------
// {"version":1,"device":{"privateKey":b64,"publicKey":b64},
//  "channelKeys":{"<channel id>":{"<epoch>":b64}},"directoryKeys":{"<epoch>":b64},
//  "pinnedDevices":{"<device id>":{"userId","publicKey":b64,"firstSeen":iso,"verified":bool}},
//  "verifiedUsers":{"<user id>":{"safetyNumber","verifiedAt":iso}},
//  "session":null|{"token","userId","deviceId","expiresAt":iso,"isAdmin":bool},
//  "lastEventSeq":"<decimal>",
//  "identity":null|{"privateKey":b64,"publicKey":b64},"backupKey":null|b64,
//  "root":null|{"fingerprint":b64,"source","pinnedAt":iso},
//  "pinnedIdentities":{"<user id>":{"publicKey":b64,"firstSeen":iso}},
//  "inviteSecrets":{"<invite id>":{"secret":b64,"createdAt":iso}},
//  "pendingAdmissionSecret":null|b64,"upgradedAt":null|iso,
//  "searchCacheKey":null|b64}  (absent in documents written before the search cache: null)

export function serializeState(state: KeystoreState): string {
  const epochs = (keys: Map<number, Uint8Array>): Record<string, string> =>
    Object.fromEntries([...keys].sort(([a], [b]) => a - b).map(([epoch, key]) => [String(epoch), encodeBase64(key)]));
  return JSON.stringify({
    version: KEYSTORE_STATE_VERSION,
    device: { privateKey: encodeBase64(state.device.privateKey), publicKey: encodeBase64(state.device.publicKey) },
    channelKeys: Object.fromEntries([...state.channelKeys].map(([id, keys]) => [id, epochs(keys)])),
    directoryKeys: epochs(state.directoryKeys),
    pinnedDevices: Object.fromEntries(
      [...state.pinnedDevices].map(([id, d]) => [
        id,
        { userId: d.userId, publicKey: encodeBase64(d.publicKey), firstSeen: d.firstSeen.toISOString(), verified: d.verified },
      ]),
    ),
    verifiedUsers: Object.fromEntries(
      [...state.verifiedUsers].map(([id, u]) => [id, { safetyNumber: u.safetyNumber, verifiedAt: u.verifiedAt.toISOString() }]),
    ),
    session:
      state.session === undefined
        ? null
        : {
            token: state.session.token,
            userId: state.session.userId,
            deviceId: state.session.deviceId,
            expiresAt: state.session.expiresAt.toISOString(),
            isAdmin: state.session.isAdmin,
          },
    lastEventSeq: state.lastEventSeq.toString(),
    identity:
      state.identity === undefined
        ? null
        : { privateKey: encodeBase64(state.identity.privateKey), publicKey: encodeBase64(state.identity.publicKey) },
    backupKey: state.backupKey === undefined ? null : encodeBase64(state.backupKey),
    root:
      state.root === undefined
        ? null
        : { fingerprint: encodeBase64(state.root.fingerprint), source: state.root.source, pinnedAt: state.root.pinnedAt.toISOString() },
    pinnedIdentities: Object.fromEntries(
      [...state.pinnedIdentities].map(([id, p]) => [id, { publicKey: encodeBase64(p.publicKey), firstSeen: p.firstSeen.toISOString() }]),
    ),
    inviteSecrets: Object.fromEntries(
      [...state.inviteSecrets].map(([id, i]) => [id, { secret: encodeBase64(i.secret), createdAt: i.createdAt.toISOString() }]),
    ),
    pendingAdmissionSecret: state.pendingAdmissionSecret === undefined ? null : encodeBase64(state.pendingAdmissionSecret),
    upgradedAt: state.upgradedAt === undefined ? null : state.upgradedAt.toISOString(),
    searchCacheKey: state.searchCacheKey === undefined ? null : encodeBase64(state.searchCacheKey),
  });
}

class Corrupt extends Error {}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Corrupt(`${what} is not an object`);
  return value as Record<string, unknown>;
}
function str(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) throw new Corrupt(`${what} is not a non-empty string`);
  return value;
}
function bool(value: unknown, what: string): boolean {
  if (typeof value !== "boolean") throw new Corrupt(`${what} is not a boolean`);
  return value;
}
function bytes(value: unknown, what: string, length: number): Uint8Array {
  let out: Uint8Array;
  try {
    out = decodeBase64(str(value, what));
  } catch {
    throw new Corrupt(`${what} is not base64`);
  }
  if (out.length !== length) throw new Corrupt(`${what} is not ${length} bytes`);
  return out;
}
function date(value: unknown, what: string): Date {
  const out = new Date(str(value, what));
  if (Number.isNaN(out.getTime())) throw new Corrupt(`${what} is not a timestamp`);
  return out;
}
function epoch(value: string, what: string): number {
  const n = Number(value);
  if (!/^[1-9]\d*$/.test(value) || n > 0xffffffff) throw new Corrupt(`${what} is not an epoch`);
  return n;
}
function epochKeys(value: unknown, what: string): Map<number, Uint8Array> {
  return new Map(Object.entries(record(value, what)).map(([e, k]) => [epoch(e, what), bytes(k, what, 32)]));
}

/** Parses the decrypted document; anything unexpected is `corrupted`, a newer version says so. */
export function parseState(text: string, where: string): KeystoreState {
  try {
    const doc = record(JSON.parse(text), "document");
    if (typeof doc["version"] === "number" && doc["version"] > KEYSTORE_STATE_VERSION) {
      throw new KeystoreError("unsupported-version", `keystore ${where} was written by a newer dialtone (inner version ${doc["version"]})`);
    }
    if (doc["version"] !== KEYSTORE_STATE_VERSION && doc["version"] !== 1) throw new Corrupt("unknown version");
    const v2 = doc["version"] === 2;
    const nullable = <T>(key: string, parse: (value: unknown) => T): T | undefined =>
      !v2 || doc[key] === null ? undefined : parse(doc[key]);
    const device = record(doc["device"], "device");
    const session = doc["session"] === null ? undefined : record(doc["session"], "session");
    const seq = str(doc["lastEventSeq"], "lastEventSeq");
    if (!/^(0|[1-9]\d*)$/.test(seq)) throw new Corrupt("lastEventSeq is not a decimal");
    return {
      device: {
        privateKey: bytes(device["privateKey"], "device.privateKey", 32),
        publicKey: bytes(device["publicKey"], "device.publicKey", 32),
      },
      channelKeys: new Map(
        Object.entries(record(doc["channelKeys"], "channelKeys")).map(([id, keys]) => [id, epochKeys(keys, "channelKeys")]),
      ),
      directoryKeys: epochKeys(doc["directoryKeys"], "directoryKeys"),
      pinnedDevices: new Map(
        Object.entries(record(doc["pinnedDevices"], "pinnedDevices")).map(([deviceId, value]) => {
          const d = record(value, "pinnedDevices entry");
          const pinned: PinnedDevice = {
            deviceId,
            userId: str(d["userId"], "pinnedDevices.userId"),
            publicKey: bytes(d["publicKey"], "pinnedDevices.publicKey", 32),
            firstSeen: date(d["firstSeen"], "pinnedDevices.firstSeen"),
            verified: bool(d["verified"], "pinnedDevices.verified"),
          };
          return [deviceId, pinned];
        }),
      ),
      verifiedUsers: new Map(
        Object.entries(record(doc["verifiedUsers"], "verifiedUsers")).map(([userId, value]) => {
          const u = record(value, "verifiedUsers entry");
          const verified: VerifiedUser = {
            userId,
            safetyNumber: str(u["safetyNumber"], "verifiedUsers.safetyNumber"),
            verifiedAt: date(u["verifiedAt"], "verifiedUsers.verifiedAt"),
          };
          return [userId, verified];
        }),
      ),
      session:
        session === undefined
          ? undefined
          : {
              token: str(session["token"], "session.token"),
              userId: str(session["userId"], "session.userId"),
              deviceId: str(session["deviceId"], "session.deviceId"),
              expiresAt: date(session["expiresAt"], "session.expiresAt"),
              isAdmin: bool(session["isAdmin"], "session.isAdmin"),
            },
      lastEventSeq: BigInt(seq),
      identity: nullable("identity", (v) => {
        const i = record(v, "identity");
        return {
          privateKey: bytes(i["privateKey"], "identity.privateKey", 32),
          publicKey: bytes(i["publicKey"], "identity.publicKey", 32),
        };
      }),
      backupKey: nullable("backupKey", (v) => bytes(v, "backupKey", 32)),
      root: nullable("root", (v) => {
        const r = record(v, "root");
        const source = str(r["source"], "root.source");
        if (source !== "invite" && source !== "first-contact" && source !== "self") throw new Corrupt("root.source is not known");
        return { fingerprint: bytes(r["fingerprint"], "root.fingerprint", 32), source, pinnedAt: date(r["pinnedAt"], "root.pinnedAt") };
      }),
      pinnedIdentities: new Map(
        Object.entries(v2 ? record(doc["pinnedIdentities"], "pinnedIdentities") : {}).map(([userId, value]) => {
          const p = record(value, "pinnedIdentities entry");
          const pinned: PinnedIdentity = {
            userId,
            publicKey: bytes(p["publicKey"], "pinnedIdentities.publicKey", 32),
            firstSeen: date(p["firstSeen"], "pinnedIdentities.firstSeen"),
          };
          return [userId, pinned];
        }),
      ),
      inviteSecrets: new Map(
        Object.entries(v2 ? record(doc["inviteSecrets"], "inviteSecrets") : {}).map(([inviteId, value]) => {
          const i = record(value, "inviteSecrets entry");
          const secret: InviteSecret = {
            inviteId,
            secret: bytes(i["secret"], "inviteSecrets.secret", 32),
            createdAt: date(i["createdAt"], "inviteSecrets.createdAt"),
          };
          return [inviteId, secret];
        }),
      ),
      pendingAdmissionSecret: nullable("pendingAdmissionSecret", (v) => bytes(v, "pendingAdmissionSecret", 32)),
      // A version-1 document is being upgraded now: its pins predate signed identities.
      upgradedAt: v2 ? nullable("upgradedAt", (v) => date(v, "upgradedAt")) : new Date(),
      // Added within version 2: older version-2 documents lack it, and older readers ignore it.
      searchCacheKey: doc["searchCacheKey"] === undefined ? undefined : nullable("searchCacheKey", (v) => bytes(v, "searchCacheKey", 32)),
    };
  } catch (err) {
    if (err instanceof KeystoreError) throw err;
    // The reason names a field, never a value: values are secrets.
    const reason = err instanceof Corrupt ? err.message : "not JSON";
    throw new KeystoreError("corrupted", `keystore ${where} decrypted but is not valid: ${reason}`);
  }
}
