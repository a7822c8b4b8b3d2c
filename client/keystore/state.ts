// The keystore's inner plaintext: a versioned JSON document, parsed into typed maps.
import { decodeBase64, encodeBase64, type X25519KeyPair } from "../crypto/index.js";
import { KeystoreError } from "./errors.js";

export const KEYSTORE_STATE_VERSION = 1;

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

export interface KeystoreState {
  device: X25519KeyPair;
  /** channel id → epoch → 32-byte key */
  channelKeys: Map<string, Map<number, Uint8Array>>;
  /** epoch → 32-byte key */
  directoryKeys: Map<number, Uint8Array>;
  pinnedDevices: Map<string, PinnedDevice>;
  verifiedUsers: Map<string, VerifiedUser>;
  session: Session | undefined;
  /** the last event-feed seq applied (int64 on the wire, hence bigint) */
  lastEventSeq: bigint;
}

// --- JSON form (version 1) -------------------------------------------------------------------
// {"version":1,"device":{"privateKey":b64,"publicKey":b64},
//  "channelKeys":{"<channel id>":{"<epoch>":b64}},"directoryKeys":{"<epoch>":b64},
//  "pinnedDevices":{"<device id>":{"userId","publicKey":b64,"firstSeen":iso,"verified":bool}},
//  "verifiedUsers":{"<user id>":{"safetyNumber","verifiedAt":iso}},
//  "session":null|{"token","userId","deviceId","expiresAt":iso,"isAdmin":bool},
//  "lastEventSeq":"<decimal>"}

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
    if (doc["version"] !== KEYSTORE_STATE_VERSION) throw new Corrupt("unknown version");
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
    };
  } catch (err) {
    if (err instanceof KeystoreError) throw err;
    // The reason names a field, never a value: values are secrets.
    const reason = err instanceof Corrupt ? err.message : "not JSON";
    throw new KeystoreError("corrupted", `keystore ${where} decrypted but is not valid: ${reason}`);
  }
}
