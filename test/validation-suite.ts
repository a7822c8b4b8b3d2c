// The bad-input suite: every RPC of every service, called with empty, oversize and malformed
// fields, unknown ids, no session, a garbage session and a non-admin where an admin is needed.
// Each case checks the exact Connect code, that the message names the field, and that nothing
// was written (every table dumped before and after the call). It runs once per database kind
// (validation.pglite.test.ts, validation.postgres.test.ts).
import { randomBytes, randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import http from "node:http";
import http2 from "node:http2";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "@jest/globals";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { KeyKind } from "../gen/dialtone/v1/envelope_pb.js";
import { MessageService } from "../gen/dialtone/v1/message_service_pb.js";
import { PresenceService } from "../gen/dialtone/v1/presence_service_pb.js";
import { MAX_REQUEST_BYTES } from "../server/app.js";
import type { Database } from "../server/db/client.js";
import { users } from "../server/db/schema.js";
import { LIMITS } from "../server/domain/validate.js";
import {
  adminApi,
  api,
  bearer,
  devicePublicKey,
  envelopeValue,
  mintInvite,
  registerUser,
  sealedValue,
  type Api,
  type TestUser,
} from "./support/api.js";
import { dumpAllTables, errorOf } from "./support/assertions.js";
import { type IdentityKey, identityKey, keyHash } from "./support/signing.js";
import { databaseSource, type DatabaseSource, type DbKind } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/server.js";

const PASSWORD = "correct horse battery";
const KIND_CHANNEL = 1;
const KIND_DIRECTORY = 2;

/** A server with a few accounts and rows to aim bad calls at. */
interface World {
  s: TestServer;
  db: Database;
  /** The first account: an admin. */
  admin: TestUser;
  /** A plain member. */
  member: TestUser;
  /** A channel that exists, with one message from the admin. */
  channelId: string;
  messageId: string;
  /** An unused invite (bad registrations must leave it unused). */
  invite: string;
  /** An invite that was revoked, and one whose single use is spent. */
  revokedInvite: string;
  usedInvite: string;
  anon: Api;
  /** A well-formed bearer token that is no session. */
  garbage: Api;
  /** Every account whose session the cases use. */
  users: TestUser[];
  /** Anything else a describe block sets up. */
  extra: Record<string, unknown>;
  /** Subscribe streams opened by the cases' setup, aborted at teardown. */
  streams: AbortController[];
  /** The dump that ended the previous test when it was a passing case (see expectRejected). */
  lastDump?: { dump: string; test: number };
}

type Call = (w: World) => Promise<unknown>;

interface Case {
  name: string;
  call: Call;
  code: Code;
  /** The field the error message must start with (`field: problem`), or a pattern it must match. */
  names: string | RegExp;
}

/** Table name → its rows (as text), from a dumpAllTables dump. */
function tablesOf(dump: string): Map<string, string> {
  const lines = dump.split("\n");
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < lines.length; i += 2) out.set(lines[i]!, lines[i + 1]!);
  return out;
}

/**
 * Columns that record use, not requests: resolving a session slides its expiry (a write of
 * sessions.last_used_at and expires_at, and of devices.last_seen_at) once a minute, whatever the
 * call then does. They may only move forward; every other column must stay as it was.
 */
const BOOKKEEPING: Record<string, readonly string[]> = {
  sessions: ["last_used_at", "expires_at"],
  devices: ["last_seen_at"],
};

/** The tables whose rows differ between two dumps (bookkeeping columns moving forward aside). */
function changedTables(before: string, after: string): string[] {
  const a = tablesOf(before);
  const b = tablesOf(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((t) => !sameRows(t, a.get(t), b.get(t))).sort();
}

function sameRows(table: string, before: string | undefined, after: string | undefined): boolean {
  if (before === after) return true;
  const columns = BOOKKEEPING[table];
  if (!columns || before === undefined || after === undefined) return false;
  const rowsA = JSON.parse(before) as Array<Record<string, unknown>>;
  const rowsB = JSON.parse(after) as Array<Record<string, unknown>>;
  if (rowsA.length !== rowsB.length) return false;
  // Row order is not guaranteed once a row was updated: pair them by everything else.
  const rest = (r: Record<string, unknown>) =>
    JSON.stringify(
      Object.entries(r)
        .filter(([k]) => !columns.includes(k))
        .sort(),
    );
  const byRest = new Map(rowsA.map((r) => [rest(r), r]));
  return rowsB.every((r) => {
    const old = byRest.get(rest(r));
    return old !== undefined && columns.every((c) => old[c] === r[c] || time(r[c]) >= time(old[c]));
  });
}

function time(v: unknown): number {
  const at = v === null ? Number.NaN : Date.parse(String(v));
  if (Number.isNaN(at)) throw new Error(`a bookkeeping column is not a time in the dump: ${JSON.stringify(v)}`);
  return at;
}

/** The first item of a server stream (so a stream call can fail like a unary one). */
async function firstItem(stream: AsyncIterable<unknown>): Promise<unknown> {
  for await (const item of stream) return item;
  return undefined;
}

/** A sealed-looking value whose base64 text is exactly `chars` long (chars % 4 === 0). */
function sealedOfLength(chars: number): string {
  const v = sealedValue((chars / 4) * 3 - 33);
  if (v.length !== chars) throw new Error(`sealedOfLength(${chars}) gave ${v.length}`);
  return v;
}

/** Base64 of `bytes` whose first byte is `version` (valid base64, wrong content). */
const b64 = (version: number, bytes: number) => Buffer.concat([Buffer.from([version]), randomBytes(bytes - 1)]).toString("base64");

const uuidCases = (rpc: string, field: string, make: (v: string) => Call): Case[] => [
  { name: `${rpc}: ${field} empty`, call: make(""), code: Code.InvalidArgument, names: field },
  { name: `${rpc}: ${field} not a UUID`, call: make("not-a-uuid"), code: Code.InvalidArgument, names: field },
  { name: `${rpc}: ${field} one digit short`, call: make(randomUUID().slice(0, -1)), code: Code.InvalidArgument, names: field },
  { name: `${rpc}: ${field} in braces`, call: make(`{${randomUUID()}}`), code: Code.InvalidArgument, names: field },
];

/** Bad values for a sealed field (base64 of 0x01 || epoch || nonce || ciphertext || tag). */
const sealedCases = (rpc: string, field: string, limit: number, make: (v: string) => Call): Case[] => [
  { name: `${rpc}: ${field} empty`, call: make(""), code: Code.InvalidArgument, names: field },
  { name: `${rpc}: ${field} not base64`, call: make("this is not base64!"), code: Code.InvalidArgument, names: field },
  {
    name: `${rpc}: ${field} base64url`,
    call: make(`${sealedValue(30).replaceAll("+", "-").replaceAll("/", "_")}-_`),
    code: Code.InvalidArgument,
    names: field,
  },
  { name: `${rpc}: ${field} unpadded base64`, call: make(sealedValue(17).replace(/=+$/, "")), code: Code.InvalidArgument, names: field },
  { name: `${rpc}: ${field} version 2`, call: make(b64(2, 64)), code: Code.InvalidArgument, names: field },
  { name: `${rpc}: ${field} version 0`, call: make(b64(0, 64)), code: Code.InvalidArgument, names: field },
  { name: `${rpc}: ${field} shorter than a sealed value`, call: make(b64(1, 32)), code: Code.InvalidArgument, names: field },
  {
    name: `${rpc}: ${field} ${limit + 4} chars (limit ${limit})`,
    call: make(sealedOfLength(limit + 4)),
    code: Code.InvalidArgument,
    names: field,
  },
  {
    name: `${rpc}: ${field} non-canonical base64 (padding bits set)`,
    call: make(nonCanonical(sealedValue(16))),
    code: Code.InvalidArgument,
    names: field,
  },
  {
    name: `${rpc}: ${field} sealed with epoch 0`,
    call: make(withHeaderEpoch(sealedValue(16), 0)),
    code: Code.InvalidArgument,
    names: field,
  },
];

/** The same bytes to a lenient decoder, but the last character's unused bits set. */
function nonCanonical(b64text: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const pad = b64text.endsWith("==") ? 2 : b64text.endsWith("=") ? 1 : 0;
  if (pad === 0) throw new Error("nonCanonical: needs a value with padding");
  const i = b64text.length - pad - 1;
  const out = `${b64text.slice(0, i)}${alphabet[alphabet.indexOf(b64text[i]!) | 1]}${b64text.slice(i + 1)}`;
  if (Buffer.from(out, "base64").compare(Buffer.from(b64text, "base64")) !== 0) throw new Error("nonCanonical: bytes changed");
  return out;
}

/** A sealed-looking value whose header names another epoch. */
function withHeaderEpoch(b64text: string, epoch: number): string {
  const raw = Buffer.from(b64text, "base64");
  raw.writeUInt32BE(epoch, 1);
  return raw.toString("base64");
}

/** Bad values for an Ed25519 signature field (base64 of 64 bytes). */
const signatureCases = (rpc: string, field: string, make: (v: string) => Call): Case[] => [
  { name: `${rpc}: ${field} not base64`, call: make("not a signature!"), code: Code.InvalidArgument, names: field },
  { name: `${rpc}: ${field} of 63 bytes`, call: make(randomBytes(63).toString("base64")), code: Code.InvalidArgument, names: field },
  { name: `${rpc}: ${field} of 65 bytes`, call: make(randomBytes(65).toString("base64")), code: Code.InvalidArgument, names: field },
  {
    name: `${rpc}: ${field} non-canonical base64`,
    call: make(nonCanonical(randomBytes(64).toString("base64"))),
    code: Code.InvalidArgument,
    names: field,
  },
];

/** Bad values for a 32-byte key or digest field. */
const bytes32Cases = (rpc: string, field: string, make: (v: string) => Call, required = true): Case[] => [
  ...(required ? [{ name: `${rpc}: ${field} empty`, call: make(""), code: Code.InvalidArgument, names: field }] : []),
  { name: `${rpc}: ${field} not base64`, call: make("not a key at all!"), code: Code.InvalidArgument, names: field },
  { name: `${rpc}: ${field} of 31 bytes`, call: make(randomBytes(31).toString("base64")), code: Code.InvalidArgument, names: field },
  { name: `${rpc}: ${field} of 33 bytes`, call: make(randomBytes(33).toString("base64")), code: Code.InvalidArgument, names: field },
  {
    name: `${rpc}: ${field} unpadded`,
    call: make(randomBytes(32).toString("base64").replace(/=+$/, "")),
    code: Code.InvalidArgument,
    names: field,
  },
  {
    name: `${rpc}: ${field} non-canonical base64`,
    call: make(nonCanonical(randomBytes(32).toString("base64"))),
    code: Code.InvalidArgument,
    names: field,
  },
];

/** No session, and a session token that is not one. */
const authCases = (rpc: string, call: (a: Api, w: World) => Promise<unknown>): Case[] => [
  { name: `${rpc}: no session`, call: (w) => call(w.anon, w), code: Code.Unauthenticated, names: /Authorization: Bearer/ },
  { name: `${rpc}: garbage bearer token`, call: (w) => call(w.garbage, w), code: Code.Unauthenticated, names: /session/ },
  {
    name: `${rpc}: not a bearer scheme`,
    call: (w) => call(api(w.s.url, { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` }), w),
    code: Code.Unauthenticated,
    names: /session/,
  },
];

/** Admin-only calls: no credentials, a garbage session, a wrong admin token, a member. */
const adminCases = (rpc: string, call: (a: Api, w: World) => Promise<unknown>, admin: "invite" | "channel"): Case[] => [
  ...authCases(rpc, call).map((c) => (admin === "invite" ? { ...c, names: /admin/ } : c)),
  ...(admin === "invite"
    ? [
        {
          name: `${rpc}: wrong admin token`,
          call: (w: World) => call(api(w.s.url, { "x-admin-token": "wrong-token-0123456789abcdef" }), w),
          code: Code.PermissionDenied,
          names: /admin token/,
        },
      ]
    : []),
  { name: `${rpc}: a member session`, call: (w) => call(w.member.api, w), code: Code.PermissionDenied, names: /admin/ },
];

const newChannel = () => ({ channelId: randomUUID(), encryptedName: sealedValue() });
const rotation = (channelId: string, keyEpoch = 2) => ({
  channelId,
  keyEpoch,
  encryptedName: withHeaderEpoch(sealedValue(), Math.max(keyEpoch, 1)),
});
const newMessage = (channelId: string) => ({
  messageId: randomUUID(),
  channelId,
  encryptedBody: sealedValue(),
  encryptedSenderName: sealedValue(),
  keyEpoch: 1,
});
const channelEnvelope = (w: World, over: Record<string, unknown> = {}) => ({
  kind: KIND_CHANNEL,
  scopeId: w.channelId,
  epoch: 1,
  recipientDeviceId: w.member.deviceId,
  ciphertext: envelopeValue(),
  ...over,
});
const registration = (w: World, over: Record<string, unknown> = {}) => ({
  username: `new-${randomUUID().slice(0, 8)}`,
  password: PASSWORD,
  inviteToken: w.invite,
  devicePublicKey: devicePublicKey(),
  ...over,
});
const login = (w: World, over: Record<string, unknown> = {}) => ({
  username: w.member.username,
  password: PASSWORD,
  devicePublicKey: w.member.publicKey,
  ...over,
});
const manyUuids = (n: number) => Array.from({ length: n }, () => randomUUID());

/** Code.ResourceExhausted from "resource_exhausted". */
function codeFromName(name: string): Code {
  const key = name.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase()) as keyof typeof Code;
  return Code[key] ?? Code.Unknown;
}

interface RawBody {
  /** Send headers announcing this many body bytes, then wait for the answer without sending them. */
  announce?: number;
  /** Or send this body in full. */
  body?: Buffer;
  /** Connect only: the body's type (default JSON). */
  contentType?: string;
}

/** A Connect unary call over raw HTTP/1.1 (JSON); resolves the response, rejects a ConnectError. */
function connectUnary(url: string, path: string, token: string, o: RawBody): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const length = o.announce ?? o.body!.length;
    const req = http.request(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": o.contentType ?? "application/json", "content-length": String(length), authorization: `Bearer ${token}` },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        req.destroy();
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          const json = JSON.parse(text) as { code?: string; message?: string };
          if (res.statusCode === 200) resolve(json);
          else reject(new ConnectError(json.message ?? text, codeFromName(json.code ?? "unknown")));
        } catch {
          reject(new ConnectError(`HTTP ${res.statusCode}: ${text}`, Code.Unknown));
        }
      });
    });
    if (o.body) req.end(o.body);
    else req.flushHeaders();
  });
}

/** A gRPC unary call over raw h2c; resolves the response bytes, rejects a ConnectError. */
function grpcUnary(url: string, path: string, token: string, o: RawBody): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc+proto",
      te: "trailers",
      authorization: `Bearer ${token}`,
    });
    let status: string | undefined;
    let message = "";
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) message = decodeURIComponent(String(h["grpc-message"]));
    };
    const chunks: Buffer[] = [];
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", reject);
    stream.on("end", () => {
      stream.close();
      session.close();
      if (status === "0") resolve(Buffer.concat(chunks).subarray(5));
      else reject(new ConnectError(message, Number(status ?? Code.Unknown)));
    });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(o.announce ?? o.body!.length, 1);
    if (o.body) stream.end(Buffer.concat([prefix, o.body]));
    else stream.write(prefix);
  });
}

/** A gRPC-Web unary call over HTTP/1.1; rejects a ConnectError from the trailer frame. */
function grpcWebUnary(url: string, path: string, token: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    const framed = Buffer.concat([prefix, body]);
    const req = http.request(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "content-length": String(framed.length), authorization: `Bearer ${token}` },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const all = Buffer.concat(chunks);
        let data = Buffer.alloc(0);
        const trailer: Record<string, string> = {};
        for (let at = 0; at + 5 <= all.length; ) {
          const len = all.readUInt32BE(at + 1);
          const part = all.subarray(at + 5, at + 5 + len);
          if (all[at]! & 0x80) {
            for (const line of part.toString("utf8").split("\r\n")) {
              const i = line.indexOf(":");
              if (i > 0) trailer[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
            }
          } else data = part;
          at += 5 + len;
        }
        if (trailer["grpc-status"] === "0") resolve(data);
        else reject(new ConnectError(decodeURIComponent(trailer["grpc-message"] ?? ""), Number(trailer["grpc-status"] ?? Code.Unknown)));
      });
    });
    req.end(framed);
  });
}

/** A SendMessageRequest in binary whose encrypted_body (field 3) is not UTF-8; or cut short inside it. */
function undecodableSend(w: World, how: "not-utf8" | "cut-short"): Buffer {
  const str = (field: number, bytes: Buffer) => Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
  const good = Buffer.concat([str(1, Buffer.from(randomUUID())), str(2, Buffer.from(w.channelId))]);
  if (how === "not-utf8") return Buffer.concat([good, str(3, Buffer.from([0x41, 0xff, 0xfe, 0x42]))]);
  return Buffer.concat([good, Buffer.from([(3 << 3) | 2, 40]), Buffer.from("AAAA")]);
}

// ---------------------------------------------------------------------------------------------
// The cases, per service. Calls go through the typed clients (Connect, JSON).

const authServiceCases: Case[] = [
  {
    name: "Register: username empty",
    call: (w) => w.anon.auth.register(registration(w, { username: "" })),
    code: Code.InvalidArgument,
    names: "username",
  },
  {
    name: "Register: username of 1 character",
    call: (w) => w.anon.auth.register(registration(w, { username: "a" })),
    code: Code.InvalidArgument,
    names: "username",
  },
  {
    name: "Register: username of 33 characters",
    call: (w) => w.anon.auth.register(registration(w, { username: "u".repeat(33) })),
    code: Code.InvalidArgument,
    names: "username",
  },
  {
    name: "Register: username only spaces",
    call: (w) => w.anon.auth.register(registration(w, { username: "     " })),
    code: Code.InvalidArgument,
    names: "username",
  },
  {
    name: "Register: username with a NUL",
    call: (w) => w.anon.auth.register(registration(w, { username: "ab\u0000cd" })),
    code: Code.InvalidArgument,
    names: "username",
  },
  {
    name: "Register: username with a zero-width space",
    call: (w) => w.anon.auth.register(registration(w, { username: "ab\u200bcd" })),
    code: Code.InvalidArgument,
    names: "username",
  },
  {
    name: "Register: username of 1 KiB",
    call: (w) => w.anon.auth.register(registration(w, { username: "x".repeat(1024) })),
    code: Code.InvalidArgument,
    names: "username",
  },
  {
    name: "Register: username taken (other case, padded)",
    call: (w) => w.anon.auth.register(registration(w, { username: ` ${w.member.username.toUpperCase()} ` })),
    code: Code.AlreadyExists,
    names: "username",
  },
  {
    name: "Register: password empty",
    call: (w) => w.anon.auth.register(registration(w, { password: "" })),
    code: Code.InvalidArgument,
    names: "password",
  },
  {
    name: "Register: password of 7 characters",
    call: (w) => w.anon.auth.register(registration(w, { password: "1234567" })),
    code: Code.InvalidArgument,
    names: "password",
  },
  {
    name: "Register: password of 257 characters",
    call: (w) => w.anon.auth.register(registration(w, { password: "p".repeat(257) })),
    code: Code.InvalidArgument,
    names: "password",
  },
  {
    name: "Register: invite_token empty",
    call: (w) => w.anon.auth.register(registration(w, { inviteToken: "" })),
    code: Code.InvalidArgument,
    names: "invite_token",
  },
  {
    name: "Register: invite_token of 257 characters",
    call: (w) => w.anon.auth.register(registration(w, { inviteToken: "t".repeat(257) })),
    code: Code.InvalidArgument,
    names: "invite_token",
  },
  {
    name: "Register: invite_token unknown",
    call: (w) => w.anon.auth.register(registration(w, { inviteToken: randomBytes(32).toString("base64url") })),
    code: Code.NotFound,
    names: "invite_token",
  },
  {
    name: "Register: invite_token revoked",
    call: (w) => w.anon.auth.register(registration(w, { inviteToken: w.revokedInvite })),
    code: Code.FailedPrecondition,
    names: "invite_token",
  },
  {
    name: "Register: invite_token used up",
    call: (w) => w.anon.auth.register(registration(w, { inviteToken: w.usedInvite })),
    code: Code.FailedPrecondition,
    names: "invite_token",
  },
  {
    name: "Register: device_public_key empty",
    call: (w) => w.anon.auth.register(registration(w, { devicePublicKey: "" })),
    code: Code.InvalidArgument,
    names: "device_public_key",
  },
  {
    name: "Register: device_public_key not base64",
    call: (w) => w.anon.auth.register(registration(w, { devicePublicKey: "not a key at all!" })),
    code: Code.InvalidArgument,
    names: "device_public_key",
  },
  {
    name: "Register: device_public_key of 31 bytes",
    call: (w) => w.anon.auth.register(registration(w, { devicePublicKey: randomBytes(31).toString("base64") })),
    code: Code.InvalidArgument,
    names: "device_public_key",
  },
  {
    name: "Register: device_public_key of 33 bytes",
    call: (w) => w.anon.auth.register(registration(w, { devicePublicKey: randomBytes(33).toString("base64") })),
    code: Code.InvalidArgument,
    names: "device_public_key",
  },
  {
    name: "Register: device_public_key all zero",
    call: (w) => w.anon.auth.register(registration(w, { devicePublicKey: Buffer.alloc(32).toString("base64") })),
    code: Code.InvalidArgument,
    names: "device_public_key",
  },
  {
    name: "Register: device_public_key base64url",
    call: (w) => w.anon.auth.register(registration(w, { devicePublicKey: randomBytes(32).toString("base64url") })),
    code: Code.InvalidArgument,
    names: "device_public_key",
  },
  {
    name: "Register: device_public_key of another account's device",
    call: (w) => w.anon.auth.register(registration(w, { devicePublicKey: w.member.publicKey })),
    code: Code.AlreadyExists,
    names: "device_public_key",
  },
  {
    name: "Register: device_public_key of 1 KiB",
    call: (w) => w.anon.auth.register(registration(w, { devicePublicKey: randomBytes(768).toString("base64") })),
    code: Code.InvalidArgument,
    names: "device_public_key",
  },

  {
    name: "Login: username empty",
    call: (w) => w.anon.auth.login(login(w, { username: "" })),
    code: Code.InvalidArgument,
    names: "username",
  },
  {
    name: "Login: username of 33 characters",
    call: (w) => w.anon.auth.login(login(w, { username: "u".repeat(33) })),
    code: Code.InvalidArgument,
    names: "username",
  },
  {
    name: "Login: username with a control character",
    call: (w) => w.anon.auth.login(login(w, { username: "ab\u0007cd" })),
    code: Code.InvalidArgument,
    names: "username",
  },
  {
    name: "Login: password empty",
    call: (w) => w.anon.auth.login(login(w, { password: "" })),
    code: Code.InvalidArgument,
    names: "password",
  },
  {
    name: "Login: password of 1025 characters",
    call: (w) => w.anon.auth.login(login(w, { password: "p".repeat(1025) })),
    code: Code.InvalidArgument,
    names: "password",
  },
  {
    name: "Login: device_public_key of another account's device",
    call: (w) => w.anon.auth.login(login(w, { devicePublicKey: w.admin.publicKey })),
    code: Code.AlreadyExists,
    names: "device_public_key",
  },
  {
    name: "Login: device_public_key empty",
    call: (w) => w.anon.auth.login(login(w, { devicePublicKey: "" })),
    code: Code.InvalidArgument,
    names: "device_public_key",
  },
  {
    name: "Login: device_public_key not base64",
    call: (w) => w.anon.auth.login(login(w, { devicePublicKey: "%%%%" })),
    code: Code.InvalidArgument,
    names: "device_public_key",
  },
  {
    name: "Login: device_public_key of 16 bytes",
    call: (w) => w.anon.auth.login(login(w, { devicePublicKey: randomBytes(16).toString("base64") })),
    code: Code.InvalidArgument,
    names: "device_public_key",
  },
  {
    name: "Login: wrong password",
    call: (w) => w.anon.auth.login(login(w, { password: "not the password" })),
    code: Code.Unauthenticated,
    names: /username or password/,
  },
  {
    name: "Login: wrong password from a new device registers no device",
    call: (w) => w.anon.auth.login(login(w, { password: "still not the password", devicePublicKey: devicePublicKey() })),
    code: Code.Unauthenticated,
    names: /username or password/,
  },
  {
    name: "Login: unknown username",
    call: (w) => w.anon.auth.login(login(w, { username: `nobody-${randomUUID().slice(0, 8)}` })),
    code: Code.Unauthenticated,
    names: /username or password/,
  },

  ...authCases("Logout", (a) => a.auth.logout({})),
  ...authCases("GetSession", (a) => a.auth.getSession({})),
];

const inviteServiceCases: Case[] = [
  ...adminCases("CreateInvite", (a) => a.invite.createInvite({}), "invite"),
  ...[0, 59, 2_592_001, 4_294_967_295].map((v) => ({
    name: `CreateInvite: lifetime_seconds ${v}`,
    call: (w: World) => adminApi(w.s.url).invite.createInvite({ lifetimeSeconds: v }),
    code: Code.InvalidArgument,
    names: "lifetime_seconds",
  })),
  ...[0, 1001, 4_294_967_295].map((v) => ({
    name: `CreateInvite: max_uses ${v}`,
    call: (w: World) => adminApi(w.s.url).invite.createInvite({ maxUses: v }),
    code: Code.InvalidArgument,
    names: "max_uses",
  })),
  {
    name: "CreateInvite: max_uses 0 from an admin session",
    call: (w) => w.admin.api.invite.createInvite({ maxUses: 0 }),
    code: Code.InvalidArgument,
    names: "max_uses",
  },
  ...adminCases("ListInvites", (a) => a.invite.listInvites({ includeInactive: true }), "invite"),
  ...adminCases("RevokeInvite", (a) => a.invite.revokeInvite({ inviteId: randomUUID() }), "invite"),
  ...uuidCases("RevokeInvite", "invite_id", (v) => (w) => adminApi(w.s.url).invite.revokeInvite({ inviteId: v })),
  {
    name: "RevokeInvite: invite_id unknown",
    call: (w) => adminApi(w.s.url).invite.revokeInvite({ inviteId: randomUUID() }),
    code: Code.NotFound,
    names: "invite_id",
  },
];

const deviceServiceCases: Case[] = [
  ...authCases("ListDevices", (a) => a.device.listDevices({})),
  {
    name: "ListDevices: user_ids[0] not a UUID",
    call: (w) => w.member.api.device.listDevices({ userIds: ["nope"] }),
    code: Code.InvalidArgument,
    names: "user_ids[0]",
  },
  {
    name: "ListDevices: user_ids[1] empty",
    call: (w) => w.member.api.device.listDevices({ userIds: [w.admin.userId, ""] }),
    code: Code.InvalidArgument,
    names: "user_ids[1]",
  },
  {
    name: "ListDevices: 1001 user_ids",
    call: (w) => w.member.api.device.listDevices({ userIds: manyUuids(1001) }),
    code: Code.InvalidArgument,
    names: "user_ids",
  },
  ...authCases("RevokeDevice", (a, w) => a.device.revokeDevice({ deviceId: w.member.deviceId })),
  ...uuidCases("RevokeDevice", "device_id", (v) => (w) => w.member.api.device.revokeDevice({ deviceId: v })),
  {
    name: "RevokeDevice: device_id unknown",
    call: (w) => w.member.api.device.revokeDevice({ deviceId: randomUUID() }),
    code: Code.NotFound,
    names: "device_id",
  },
  {
    name: "RevokeDevice: another account's device, by a member",
    call: (w) => w.member.api.device.revokeDevice({ deviceId: w.admin.deviceId }),
    code: Code.PermissionDenied,
    names: "device_id",
  },
  ...signatureCases(
    "RevokeDevice",
    "revocation",
    (v) => (w) => w.member.api.device.revokeDevice({ deviceId: w.member.deviceId, revocation: v }),
  ),
  {
    name: "RevokeDevice: a revocation before the account has an identity key",
    call: (w) => w.member.api.device.revokeDevice({ deviceId: w.member.deviceId, revocation: randomBytes(64).toString("base64") }),
    code: Code.FailedPrecondition,
    names: /identity key/,
  },
];

const envelopeRef = (w: World, over: Record<string, unknown> = {}) => ({
  kind: KIND_CHANNEL,
  scopeId: w.channelId,
  epoch: 1,
  senderDeviceId: w.admin.deviceId,
  ...over,
});
const ack = (w: World, refs: { accepted?: Array<Record<string, unknown>>; rejected?: Array<Record<string, unknown>> }) =>
  w.member.api.envelope.acknowledgeEnvelopes({ accepted: refs.accepted ?? [], rejected: refs.rejected ?? [] });
const put = (w: World, envelopes: Array<Record<string, unknown>>) => w.admin.api.envelope.putEnvelopes({ envelopes });
const envelopeServiceCases: Case[] = [
  ...authCases("PutEnvelopes", (a, w) => a.envelope.putEnvelopes({ envelopes: [channelEnvelope(w)] })),
  { name: "PutEnvelopes: no envelopes", call: (w) => put(w, []), code: Code.InvalidArgument, names: "envelopes" },
  {
    name: "PutEnvelopes: 1001 envelopes",
    call: (w) =>
      put(
        w,
        Array.from({ length: 1001 }, (_, i) => channelEnvelope(w, { epoch: i + 1 })),
      ),
    code: Code.InvalidArgument,
    names: "envelopes",
  },
  {
    name: "PutEnvelopes: kind unspecified",
    call: (w) => put(w, [channelEnvelope(w, { kind: 0 })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].kind",
  },
  {
    name: "PutEnvelopes: kind 99",
    call: (w) => put(w, [channelEnvelope(w, { kind: 99 })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].kind",
  },
  ...uuidCases("PutEnvelopes (channel key)", "envelopes[0].scope_id", (v) => (w) => put(w, [channelEnvelope(w, { scopeId: v })])),
  {
    name: 'PutEnvelopes: channel key scoped "directory"',
    call: (w) => put(w, [channelEnvelope(w, { scopeId: "directory" })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].scope_id",
  },
  {
    name: "PutEnvelopes: directory key scoped to a channel",
    call: (w) => put(w, [channelEnvelope(w, { kind: KIND_DIRECTORY })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].scope_id",
  },
  {
    name: "PutEnvelopes: directory key with an empty scope",
    call: (w) => put(w, [channelEnvelope(w, { kind: KIND_DIRECTORY, scopeId: "" })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].scope_id",
  },
  {
    name: "PutEnvelopes: epoch 0",
    call: (w) => put(w, [channelEnvelope(w, { epoch: 0 })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].epoch",
  },
  {
    name: "PutEnvelopes: epoch 2^31",
    call: (w) => put(w, [channelEnvelope(w, { epoch: 2 ** 31 })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].epoch",
  },
  ...uuidCases("PutEnvelopes", "envelopes[0].recipient_device_id", (v) => (w) => put(w, [channelEnvelope(w, { recipientDeviceId: v })])),
  {
    name: "PutEnvelopes: ciphertext empty",
    call: (w) => put(w, [channelEnvelope(w, { ciphertext: "" })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].ciphertext",
  },
  {
    name: "PutEnvelopes: ciphertext not base64",
    call: (w) => put(w, [channelEnvelope(w, { ciphertext: "*".repeat(124) })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].ciphertext",
  },
  {
    name: "PutEnvelopes: ciphertext version 2",
    call: (w) => put(w, [channelEnvelope(w, { ciphertext: b64(2, 93) })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].ciphertext",
  },
  {
    name: "PutEnvelopes: ciphertext of 92 bytes",
    call: (w) => put(w, [channelEnvelope(w, { ciphertext: b64(1, 92) })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].ciphertext",
  },
  {
    name: "PutEnvelopes: ciphertext of 94 bytes",
    call: (w) => put(w, [channelEnvelope(w, { ciphertext: b64(1, 94) })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].ciphertext",
  },
  {
    name: "PutEnvelopes: ciphertext of 1028 chars (limit 1 KiB)",
    call: (w) => put(w, [channelEnvelope(w, { ciphertext: b64(1, 771) })]),
    code: Code.InvalidArgument,
    names: "envelopes[0].ciphertext",
  },
  {
    name: "PutEnvelopes: a bad second envelope stores neither",
    call: (w) => put(w, [channelEnvelope(w), channelEnvelope(w, { epoch: 0 })]),
    code: Code.InvalidArgument,
    names: "envelopes[1].epoch",
  },
  {
    name: "PutEnvelopes: unknown channel",
    call: (w) => put(w, [channelEnvelope(w), channelEnvelope(w, { scopeId: randomUUID() })]),
    code: Code.NotFound,
    names: "envelopes[1].scope_id",
  },
  {
    name: "PutEnvelopes: unknown recipient device",
    call: (w) => put(w, [channelEnvelope(w), channelEnvelope(w, { recipientDeviceId: randomUUID() })]),
    code: Code.NotFound,
    names: "envelopes[1].recipient_device_id",
  },
  ...authCases("ListEnvelopes", (a) => a.envelope.listEnvelopes({})),
  {
    name: "ListEnvelopes: kind 99",
    call: (w) => w.member.api.envelope.listEnvelopes({ kind: 99 as KeyKind }),
    code: Code.InvalidArgument,
    names: "kind",
  },
  // An empty scope_id is "unset" (match all), so the empty-UUID case does not apply.
  ...uuidCases(
    "ListEnvelopes (channel key)",
    "scope_id",
    (v) => (w) => w.member.api.envelope.listEnvelopes({ kind: KIND_CHANNEL, scopeId: v }),
  ).slice(1),
  {
    name: 'ListEnvelopes: scope_id neither a UUID nor "directory" (kind unset)',
    call: (w) => w.member.api.envelope.listEnvelopes({ scopeId: "general" }),
    code: Code.InvalidArgument,
    names: "scope_id",
  },
  {
    name: "ListEnvelopes: directory key with a channel scope",
    call: (w) => w.member.api.envelope.listEnvelopes({ kind: KIND_DIRECTORY, scopeId: w.channelId }),
    code: Code.InvalidArgument,
    names: "scope_id",
  },
  {
    name: 'ListEnvelopes: channel key scoped "directory"',
    call: (w) => w.member.api.envelope.listEnvelopes({ kind: KIND_CHANNEL, scopeId: "directory" }),
    code: Code.InvalidArgument,
    names: "scope_id",
  },
  ...authCases("ListMissingEnvelopes", (a) => a.envelope.listMissingEnvelopes({})),
  {
    name: "ListMissingEnvelopes: kind 99",
    call: (w) => w.member.api.envelope.listMissingEnvelopes({ kind: 99 as KeyKind }),
    code: Code.InvalidArgument,
    names: "kind",
  },
  ...uuidCases(
    "ListMissingEnvelopes (channel key)",
    "scope_id",
    (v) => (w) => w.member.api.envelope.listMissingEnvelopes({ kind: KIND_CHANNEL, scopeId: v }),
  ).slice(1),
  {
    name: 'ListMissingEnvelopes: scope_id neither a UUID nor "directory" (kind unset)',
    call: (w) => w.member.api.envelope.listMissingEnvelopes({ scopeId: "general" }),
    code: Code.InvalidArgument,
    names: "scope_id",
  },
  {
    name: "ListMissingEnvelopes: directory key with a channel scope",
    call: (w) => w.member.api.envelope.listMissingEnvelopes({ kind: KIND_DIRECTORY, scopeId: w.channelId }),
    code: Code.InvalidArgument,
    names: "scope_id",
  },
  {
    name: 'ListMissingEnvelopes: channel key scoped "directory"',
    call: (w) => w.member.api.envelope.listMissingEnvelopes({ kind: KIND_CHANNEL, scopeId: "directory" }),
    code: Code.InvalidArgument,
    names: "scope_id",
  },
  ...authCases("AcknowledgeEnvelopes", (a, w) => a.envelope.acknowledgeEnvelopes({ accepted: [envelopeRef(w)] })),
  { name: "AcknowledgeEnvelopes: nothing to acknowledge", call: (w) => ack(w, {}), code: Code.InvalidArgument, names: "accepted" },
  {
    name: "AcknowledgeEnvelopes: 1001 references",
    call: (w) =>
      ack(w, { accepted: Array.from({ length: 600 }, () => envelopeRef(w)), rejected: Array.from({ length: 401 }, () => envelopeRef(w)) }),
    code: Code.InvalidArgument,
    names: "accepted",
  },
  {
    name: "AcknowledgeEnvelopes: kind unspecified",
    call: (w) => ack(w, { accepted: [envelopeRef(w, { kind: 0 })] }),
    code: Code.InvalidArgument,
    names: "accepted[0].kind",
  },
  {
    name: 'AcknowledgeEnvelopes: channel key scoped "directory"',
    call: (w) => ack(w, { rejected: [envelopeRef(w, { scopeId: "directory" })] }),
    code: Code.InvalidArgument,
    names: "rejected[0].scope_id",
  },
  {
    name: "AcknowledgeEnvelopes: epoch 0",
    call: (w) => ack(w, { accepted: [envelopeRef(w), envelopeRef(w, { epoch: 0 })] }),
    code: Code.InvalidArgument,
    names: "accepted[1].epoch",
  },
  {
    name: "AcknowledgeEnvelopes: epoch 2^32 - 1",
    call: (w) => ack(w, { accepted: [envelopeRef(w, { epoch: 2 ** 32 - 1 })] }),
    code: Code.InvalidArgument,
    names: "accepted[0].epoch",
  },
  ...uuidCases(
    "AcknowledgeEnvelopes",
    "rejected[0].sender_device_id",
    (v) => (w) => ack(w, { rejected: [envelopeRef(w, { senderDeviceId: v })] }),
  ),
  ...uuidCases(
    "AcknowledgeEnvelopes (channel key)",
    "accepted[0].scope_id",
    (v) => (w) => ack(w, { accepted: [envelopeRef(w, { scopeId: v })] }),
  ),
];

const channelServiceCases: Case[] = [
  ...authCases("ListChannels", (a) => a.channel.listChannels({})),
  ...adminCases("CreateChannel", (a) => a.channel.createChannel(newChannel()), "channel"),
  ...uuidCases("CreateChannel", "channel_id", (v) => (w) => w.admin.api.channel.createChannel({ ...newChannel(), channelId: v })),
  ...sealedCases(
    "CreateChannel",
    "encrypted_name",
    LIMITS.nameBytes,
    (v) => (w) => w.admin.api.channel.createChannel({ ...newChannel(), encryptedName: v }),
  ),
  {
    name: "CreateChannel: existing channel_id with another name",
    call: (w) => w.admin.api.channel.createChannel({ channelId: w.channelId, encryptedName: sealedValue() }),
    code: Code.AlreadyExists,
    names: "channel_id",
  },
  ...adminCases("RenameChannel", (a, w) => a.channel.renameChannel({ channelId: w.channelId, encryptedName: sealedValue() }), "channel"),
  ...uuidCases(
    "RenameChannel",
    "channel_id",
    (v) => (w) => w.admin.api.channel.renameChannel({ channelId: v, encryptedName: sealedValue() }),
  ),
  ...sealedCases(
    "RenameChannel",
    "encrypted_name",
    LIMITS.nameBytes,
    (v) => (w) => w.admin.api.channel.renameChannel({ channelId: w.channelId, encryptedName: v }),
  ),
  {
    name: "RenameChannel: unknown channel_id",
    call: (w) => w.admin.api.channel.renameChannel({ channelId: randomUUID(), encryptedName: sealedValue() }),
    code: Code.NotFound,
    names: "channel_id",
  },
  ...adminCases("DeleteChannel", (a, w) => a.channel.deleteChannel({ channelId: w.channelId }), "channel"),
  ...uuidCases("DeleteChannel", "channel_id", (v) => (w) => w.admin.api.channel.deleteChannel({ channelId: v })),
  {
    name: "DeleteChannel: unknown channel_id",
    call: (w) => w.admin.api.channel.deleteChannel({ channelId: randomUUID() }),
    code: Code.NotFound,
    names: "channel_id",
  },
  ...authCases("RotateChannelKey", (a, w) => a.channel.rotateChannelKey(rotation(w.channelId))),
  ...uuidCases("RotateChannelKey", "channel_id", (v) => (w) => w.member.api.channel.rotateChannelKey(rotation(v))),
  ...sealedCases(
    "RotateChannelKey",
    "encrypted_name",
    LIMITS.nameBytes,
    (v) => (w) => w.member.api.channel.rotateChannelKey({ ...rotation(w.channelId), encryptedName: v }),
  ),
  {
    name: "RotateChannelKey: encrypted_name sealed at epoch 1, key_epoch 2",
    call: (w) => w.member.api.channel.rotateChannelKey({ ...rotation(w.channelId), encryptedName: sealedValue() }),
    code: Code.InvalidArgument,
    names: "encrypted_name",
  },
  {
    name: "RotateChannelKey: key_epoch 0",
    call: (w) => w.member.api.channel.rotateChannelKey(rotation(w.channelId, 0)),
    code: Code.InvalidArgument,
    names: "key_epoch",
  },
  {
    name: "RotateChannelKey: key_epoch 2^31",
    call: (w) => w.member.api.channel.rotateChannelKey({ ...rotation(w.channelId), keyEpoch: 2 ** 31 }),
    code: Code.InvalidArgument,
    names: "key_epoch",
  },
  {
    name: "RotateChannelKey: key_epoch 3 (current + 2)",
    call: (w) => w.member.api.channel.rotateChannelKey(rotation(w.channelId, 3)),
    code: Code.Aborted,
    names: /^key_epoch: the channel's key epoch is 1; only 2 can follow it$/,
  },
  {
    name: "RotateChannelKey: key_epoch 1 (the current one)",
    call: (w) => w.member.api.channel.rotateChannelKey(rotation(w.channelId, 1)),
    code: Code.Aborted,
    names: "key_epoch",
  },
  {
    name: "RotateChannelKey: unknown channel_id",
    call: (w) => w.member.api.channel.rotateChannelKey(rotation(randomUUID())),
    code: Code.NotFound,
    names: "channel_id",
  },
];

const send = (w: World, over: Record<string, unknown>) => w.member.api.message.sendMessage({ ...newMessage(w.channelId), ...over });
const messageServiceCases: Case[] = [
  ...authCases("SendMessage", (a, w) => a.message.sendMessage(newMessage(w.channelId))),
  ...uuidCases("SendMessage", "message_id", (v) => (w) => send(w, { messageId: v })),
  ...uuidCases("SendMessage", "channel_id", (v) => (w) => send(w, { channelId: v })),
  ...sealedCases("SendMessage", "encrypted_body", LIMITS.bodyBytes, (v) => (w) => send(w, { encryptedBody: v })),
  ...sealedCases("SendMessage", "encrypted_sender_name", LIMITS.nameBytes, (v) => (w) => send(w, { encryptedSenderName: v })),
  { name: "SendMessage: key_epoch 0", call: (w) => send(w, { keyEpoch: 0 }), code: Code.InvalidArgument, names: "key_epoch" },
  // uint32 on the wire, PostgreSQL integer at rest: 2^31 used to come back `internal`.
  // The header's epoch is what a conforming client opens by: it must be the key_epoch the server stores.
  {
    name: "SendMessage: encrypted_body sealed at epoch 1, key_epoch 2",
    call: (w) => send(w, { keyEpoch: 2, encryptedSenderName: withHeaderEpoch(sealedValue(), 2) }),
    code: Code.InvalidArgument,
    names: "encrypted_body",
  },
  {
    name: "SendMessage: encrypted_sender_name sealed at epoch 1, key_epoch 2",
    call: (w) => send(w, { keyEpoch: 2, encryptedBody: withHeaderEpoch(sealedValue(), 2) }),
    code: Code.InvalidArgument,
    names: "encrypted_sender_name",
  },
  { name: "SendMessage: key_epoch 2^31", call: (w) => send(w, { keyEpoch: 2 ** 31 }), code: Code.InvalidArgument, names: "key_epoch" },
  {
    name: "SendMessage: key_epoch 2^32 - 1",
    call: (w) => send(w, { keyEpoch: 2 ** 32 - 1 }),
    code: Code.InvalidArgument,
    names: "key_epoch",
  },
  { name: "SendMessage: unknown channel_id", call: (w) => send(w, { channelId: randomUUID() }), code: Code.NotFound, names: "channel_id" },
  {
    name: "SendMessage: sealed at epoch 2, the channel's key epoch is 1",
    call: (w) =>
      send(w, { keyEpoch: 2, encryptedBody: withHeaderEpoch(sealedValue(), 2), encryptedSenderName: withHeaderEpoch(sealedValue(), 2) }),
    code: Code.FailedPrecondition,
    names: /^key_epoch: the channel's key epoch is 1; seal with it$/,
  },
  {
    name: "SendMessage: message_id of another sender's message",
    call: (w) => send(w, { messageId: w.messageId }),
    code: Code.AlreadyExists,
    names: "message_id",
  },
  {
    name: "SendMessage: own message_id again in another channel",
    call: (w) => w.admin.api.message.sendMessage({ ...newMessage(String(w.extra.otherChannelId)), messageId: w.messageId }),
    code: Code.AlreadyExists,
    names: "message_id",
  },
  // JSON the typed clients cannot produce: the decoder names the field.
  ...(
    [
      ["key_epoch -1", '{"keyEpoch": -1}', /SendMessageRequest\.key_epoch from JSON/],
      ["key_epoch 2^32", '{"keyEpoch": 4294967296}', /SendMessageRequest\.key_epoch from JSON/],
      ["key_epoch a string", '{"keyEpoch": "one"}', /SendMessageRequest\.key_epoch from JSON/],
      ["channel_id a number", '{"channelId": 5}', /SendMessageRequest\.channel_id from JSON/],
      ["encrypted_body an object", '{"encryptedBody": {}}', /SendMessageRequest\.encrypted_body from JSON/],
      ["not JSON", "{", /cannot decode message dialtone.v1.SendMessageRequest/],
      ["a JSON array", "[]", /cannot decode message dialtone.v1.SendMessageRequest/],
    ] as const
  ).map(([what, json, names]) => ({
    name: `SendMessage (raw JSON): ${what}`,
    call: (w: World) => connectUnary(w.s.url, "/dialtone.v1.MessageService/SendMessage", w.member.token, { body: Buffer.from(json) }),
    code: Code.InvalidArgument,
    names,
  })),
  ...authCases("ListMessages", (a, w) => a.message.listMessages({ channelId: w.channelId })),
  ...uuidCases("ListMessages", "channel_id", (v) => (w) => w.member.api.message.listMessages({ channelId: v })),
  ...[LIMITS.historyPage + 1, 1_000_000, 4_294_967_295].map((limit) => ({
    name: `ListMessages: limit ${limit}`,
    call: (w: World) => w.member.api.message.listMessages({ channelId: w.channelId, limit }),
    code: Code.InvalidArgument,
    names: "limit",
  })),
  ...[2n ** 63n, 2n ** 64n - 1n].map((beforeSeq) => ({
    name: `ListMessages: before_seq ${beforeSeq} (beyond bigint)`,
    call: (w: World) => w.member.api.message.listMessages({ channelId: w.channelId, beforeSeq }),
    code: Code.InvalidArgument,
    names: "before_seq",
  })),
  {
    name: "ListMessages: unknown channel_id",
    call: (w) => w.member.api.message.listMessages({ channelId: randomUUID() }),
    code: Code.NotFound,
    names: "channel_id",
  },
  ...authCases("DeleteMessage", (a, w) => a.message.deleteMessage({ messageId: w.messageId })),
  ...uuidCases("DeleteMessage", "message_id", (v) => (w) => w.member.api.message.deleteMessage({ messageId: v })),
  {
    name: "DeleteMessage: unknown message_id",
    call: (w) => w.member.api.message.deleteMessage({ messageId: randomUUID() }),
    code: Code.NotFound,
    names: "message_id",
  },
  {
    name: "DeleteMessage: another sender's message, by a member",
    call: (w) => w.member.api.message.deleteMessage({ messageId: w.messageId }),
    code: Code.PermissionDenied,
    names: "message_id",
  },
  ...authCases("SendTyping", (a, w) => a.message.sendTyping({ channelId: w.channelId, encryptedPayload: sealedValue(), keyEpoch: 1 })),
  ...uuidCases(
    "SendTyping",
    "channel_id",
    (v) => (w) => w.member.api.message.sendTyping({ channelId: v, encryptedPayload: sealedValue(), keyEpoch: 1 }),
  ),
  ...sealedCases(
    "SendTyping",
    "encrypted_payload",
    LIMITS.nameBytes,
    (v) => (w) => w.member.api.message.sendTyping({ channelId: w.channelId, encryptedPayload: v, keyEpoch: 1 }),
  ),
  {
    name: "SendTyping: key_epoch 0",
    call: (w) => w.member.api.message.sendTyping({ channelId: w.channelId, encryptedPayload: sealedValue(), keyEpoch: 0 }),
    code: Code.InvalidArgument,
    names: "key_epoch",
  },
  {
    name: "SendTyping: unknown channel_id",
    call: (w) => w.member.api.message.sendTyping({ channelId: randomUUID(), encryptedPayload: sealedValue(), keyEpoch: 1 }),
    code: Code.NotFound,
    names: "channel_id",
  },
];

const readStateServiceCases: Case[] = [
  ...authCases("MarkRead", (a, w) => a.readState.markRead({ channelId: w.channelId, seq: 1n })),
  ...authCases("ListReadMarkers", (a) => a.readState.listReadMarkers({})),
  ...uuidCases("MarkRead", "channel_id", (v) => (w) => w.member.api.readState.markRead({ channelId: v, seq: 1n })),
  ...[0n, 2n ** 63n, 2n ** 64n - 1n].map((seq) => ({
    name: `MarkRead: seq ${seq}`,
    call: (w: World) => w.member.api.readState.markRead({ channelId: w.channelId, seq }),
    code: Code.InvalidArgument,
    names: "seq",
  })),
  {
    name: "MarkRead: unknown channel_id",
    call: (w) => w.member.api.readState.markRead({ channelId: randomUUID(), seq: 1n }),
    code: Code.NotFound,
    names: "channel_id",
  },
];

const directoryServiceCases: Case[] = [
  ...authCases("ListProfiles", (a) => a.directory.listProfiles({})),
  ...authCases("SetProfile", (a) => a.directory.setProfile({ encryptedName: sealedValue(), keyEpoch: 1 })),
  ...sealedCases(
    "SetProfile",
    "encrypted_name",
    LIMITS.nameBytes,
    (v) => (w) => w.member.api.directory.setProfile({ encryptedName: v, keyEpoch: 1 }),
  ),
  {
    name: "SetProfile: key_epoch 0",
    call: (w) => w.member.api.directory.setProfile({ encryptedName: sealedValue(), keyEpoch: 0 }),
    code: Code.InvalidArgument,
    names: "key_epoch",
  },
  {
    name: "SetProfile: encrypted_name sealed at epoch 1, key_epoch 3",
    call: (w) => w.member.api.directory.setProfile({ encryptedName: sealedValue(), keyEpoch: 3 }),
    code: Code.InvalidArgument,
    names: "encrypted_name",
  },
  {
    name: "SetProfile: key_epoch 2^31",
    call: (w) => w.member.api.directory.setProfile({ encryptedName: sealedValue(), keyEpoch: 2 ** 31 }),
    code: Code.InvalidArgument,
    names: "key_epoch",
  },
  ...authCases("ListPresence", (a) => a.presence.listPresence({})),
  {
    name: "ListPresence: user_ids[0] not a UUID",
    call: (w) => w.member.api.presence.listPresence({ userIds: ["x"] }),
    code: Code.InvalidArgument,
    names: "user_ids[0]",
  },
  {
    name: "ListPresence: user_ids[2] with a trailing space",
    call: (w) => w.member.api.presence.listPresence({ userIds: [w.admin.userId, w.member.userId, `${w.admin.userId} `] }),
    code: Code.InvalidArgument,
    names: "user_ids[2]",
  },
  {
    name: "ListPresence: 1001 user_ids",
    call: (w) => w.member.api.presence.listPresence({ userIds: manyUuids(1001) }),
    code: Code.InvalidArgument,
    names: "user_ids",
  },
];

const eventServiceCases: Case[] = [
  ...authCases("Subscribe", (a) => firstItem(a.event.subscribe({}))),
  ...authCases("Subscribe with after_seq", (a) => firstItem(a.event.subscribe({ afterSeq: 0n }))),
  {
    name: "Subscribe: after_seq ahead of the feed",
    call: (w) => firstItem(w.member.api.event.subscribe({ afterSeq: 1_000_000n })),
    code: Code.FailedPrecondition,
    names: "after_seq",
  },
];

const voiceAuthCases: Case[] = [
  ...authCases("Join", (a, w) => a.voice.join({ channelId: w.channelId, streamId: randomUUID() })),
  ...authCases("Leave", (a, w) => a.voice.leave({ channelId: w.channelId })),
  ...authCases("Signal", (a, w) =>
    a.voice.signal({ channelId: w.channelId, recipientDeviceId: w.member.deviceId, encryptedPayload: sealedValue(), keyEpoch: 1 }),
  ),
  ...authCases("GetIceServers", (a) => a.voice.getIceServers({})),
  ...authCases("ListVoiceRooms", (a) => a.voice.listVoiceRooms({})),
];

// In the voice world the admin and the member are in w.channelId's room; the outsider is not.
const adminStream = (w: World) => String(w.extra.adminStream);
const signal = (w: World, over: Record<string, unknown>) =>
  w.admin.api.voice.signal({
    channelId: w.channelId,
    recipientDeviceId: w.member.deviceId,
    encryptedPayload: sealedValue(),
    keyEpoch: 1,
    ...over,
  });
const voiceRoomCases: Case[] = [
  ...uuidCases("Join", "channel_id", (v) => (w) => w.admin.api.voice.join({ channelId: v, streamId: adminStream(w) })),
  ...uuidCases("Join", "stream_id", (v) => (w) => w.admin.api.voice.join({ channelId: w.channelId, streamId: v })),
  {
    name: "Join: stream_id of no open stream",
    call: (w) => w.admin.api.voice.join({ channelId: w.channelId, streamId: randomUUID() }),
    code: Code.InvalidArgument,
    names: "stream_id",
  },
  {
    name: "Join: stream_id of another device's stream",
    call: (w) => w.admin.api.voice.join({ channelId: w.channelId, streamId: String(w.extra.memberStream) }),
    code: Code.InvalidArgument,
    names: "stream_id",
  },
  {
    name: "Join: unknown channel_id",
    call: (w) => w.admin.api.voice.join({ channelId: randomUUID(), streamId: adminStream(w) }),
    code: Code.NotFound,
    names: "channel_id",
  },
  ...uuidCases("Leave", "channel_id", (v) => (w) => w.admin.api.voice.leave({ channelId: v })),
  {
    name: "Leave: a room the caller is not in",
    call: (w) => w.admin.api.voice.leave({ channelId: String(w.extra.otherChannelId) }),
    code: Code.FailedPrecondition,
    names: "channel_id",
  },
  {
    name: "Leave: by a device in no room",
    call: (w) => (w.extra.outsider as TestUser).api.voice.leave({ channelId: w.channelId }),
    code: Code.FailedPrecondition,
    names: "channel_id",
  },
  ...uuidCases("Signal", "channel_id", (v) => (w) => signal(w, { channelId: v })),
  ...uuidCases("Signal", "recipient_device_id", (v) => (w) => signal(w, { recipientDeviceId: v })),
  ...sealedCases("Signal", "encrypted_payload", LIMITS.signalBytes, (v) => (w) => signal(w, { encryptedPayload: v })),
  { name: "Signal: key_epoch 0", call: (w) => signal(w, { keyEpoch: 0 }), code: Code.InvalidArgument, names: "key_epoch" },
  {
    name: "Signal: encrypted_payload sealed at epoch 1, key_epoch 2",
    call: (w) => signal(w, { keyEpoch: 2 }),
    code: Code.InvalidArgument,
    names: "encrypted_payload",
  },
  {
    name: "Signal: a room the caller is not in",
    call: (w) => signal(w, { channelId: String(w.extra.otherChannelId) }),
    code: Code.FailedPrecondition,
    names: "channel_id",
  },
  {
    name: "Signal: from a device in no room",
    call: (w) =>
      (w.extra.outsider as TestUser).api.voice.signal({
        channelId: w.channelId,
        recipientDeviceId: w.member.deviceId,
        encryptedPayload: sealedValue(),
        keyEpoch: 1,
      }),
    code: Code.FailedPrecondition,
    names: "channel_id",
  },
  {
    name: "Signal: recipient not in the room",
    call: (w) => signal(w, { recipientDeviceId: (w.extra.outsider as TestUser).deviceId }),
    code: Code.NotFound,
    names: "recipient_device_id",
  },
  {
    name: "Signal: unknown recipient device",
    call: (w) => signal(w, { recipientDeviceId: randomUUID() }),
    code: Code.NotFound,
    names: "recipient_device_id",
  },
];

// IdentityService before any identity is published: field rules, and the calls that need one.
const publish = (w: World, over: Record<string, unknown> = {}) =>
  w.member.api.identity.publishIdentity({
    publicKey: identity(w, "member").publicKey,
    deviceCertificate: identity(w, "member").sign("device-cert", w.member.userId, w.member.deviceId, w.member.publicKey),
    ...over,
  });
/** The identity key of the admin or the member (made on first use; published by the block that needs it). */
function identity(w: World, who: "admin" | "member"): IdentityKey {
  const k = `${who}Identity`;
  w.extra[k] ??= identityKey();
  return w.extra[k] as IdentityKey;
}
const statementInput = (w: World, over: Record<string, unknown> = {}) => {
  const hash = keyHash();
  return {
    kind: KIND_CHANNEL,
    scopeId: w.channelId,
    epoch: 1,
    keyHash: hash,
    signature: identity(w, "member").sign("channel-key", w.channelId, 1, hash),
    ...over,
  };
};
const ROLE_MEMBER = 1;
const ROLE_ADMIN = 2;
const identityServiceCases: Case[] = [
  ...authCases("PublishIdentity", (a, w) =>
    a.identity.publishIdentity({ publicKey: identity(w, "member").publicKey, deviceCertificate: randomBytes(64).toString("base64") }),
  ),
  ...bytes32Cases("PublishIdentity", "public_key", (v) => (w) => publish(w, { publicKey: v })),
  {
    name: "PublishIdentity: public_key all zero",
    call: (w) => publish(w, { publicKey: Buffer.alloc(32).toString("base64") }),
    code: Code.InvalidArgument,
    names: "public_key",
  },
  {
    name: "PublishIdentity: device_certificate empty",
    call: (w) => publish(w, { deviceCertificate: "" }),
    code: Code.InvalidArgument,
    names: "device_certificate",
  },
  ...signatureCases("PublishIdentity", "device_certificate", (v) => (w) => publish(w, { deviceCertificate: v })),
  {
    name: "PublishIdentity: device_certificate signed by another key",
    call: (w) =>
      publish(w, { deviceCertificate: identityKey().sign("device-cert", w.member.userId, w.member.deviceId, w.member.publicKey) }),
    code: Code.InvalidArgument,
    names: /^device_certificate: the signature does not verify under the identity key$/,
  },
  {
    name: "PublishIdentity: device_certificate for the admin's device",
    call: (w) =>
      publish(w, { deviceCertificate: identity(w, "member").sign("device-cert", w.admin.userId, w.admin.deviceId, w.admin.publicKey) }),
    code: Code.InvalidArgument,
    names: "device_certificate",
  },
  ...bytes32Cases("PublishIdentity", "admission_mac", (v) => (w) => publish(w, { admissionMac: v }), false),
  ...authCases("ListIdentities", (a) => a.identity.listIdentities({})),
  {
    name: "ListIdentities: user_ids[1] not a UUID",
    call: (w) => w.member.api.identity.listIdentities({ userIds: [w.admin.userId, "admin"] }),
    code: Code.InvalidArgument,
    names: "user_ids[1]",
  },
  {
    name: "ListIdentities: 1001 user_ids",
    call: (w) => w.member.api.identity.listIdentities({ userIds: manyUuids(1001) }),
    code: Code.InvalidArgument,
    names: "user_ids",
  },
  ...authCases("CertifyDevice", (a, w) =>
    a.identity.certifyDevice({ deviceId: w.member.deviceId, certificate: randomBytes(64).toString("base64") }),
  ),
  ...uuidCases(
    "CertifyDevice",
    "device_id",
    (v) => (w) => w.member.api.identity.certifyDevice({ deviceId: v, certificate: randomBytes(64).toString("base64") }),
  ),
  ...signatureCases(
    "CertifyDevice",
    "certificate",
    (v) => (w) => w.member.api.identity.certifyDevice({ deviceId: w.member.deviceId, certificate: v }),
  ),
  {
    name: "CertifyDevice: before the account has an identity key",
    call: (w) => w.member.api.identity.certifyDevice({ deviceId: w.member.deviceId, certificate: randomBytes(64).toString("base64") }),
    code: Code.FailedPrecondition,
    names: /identity key/,
  },
  ...authCases("Admit", (a, w) =>
    a.identity.admit({ userId: w.member.userId, role: ROLE_MEMBER, signature: randomBytes(64).toString("base64") }),
  ),
  {
    name: "Admit: by a member",
    call: (w) => w.member.api.identity.admit({ userId: w.admin.userId, role: ROLE_MEMBER, signature: randomBytes(64).toString("base64") }),
    code: Code.PermissionDenied,
    names: /admins/,
  },
  ...uuidCases(
    "Admit",
    "user_id",
    (v) => (w) => w.admin.api.identity.admit({ userId: v, role: ROLE_MEMBER, signature: randomBytes(64).toString("base64") }),
  ),
  ...[0, 3].map(
    (role): Case => ({
      name: `Admit: role ${role}`,
      call: (w) => w.admin.api.identity.admit({ userId: w.member.userId, role, signature: randomBytes(64).toString("base64") }),
      code: Code.InvalidArgument,
      names: "role",
    }),
  ),
  ...signatureCases(
    "Admit",
    "signature",
    (v) => (w) => w.admin.api.identity.admit({ userId: w.member.userId, role: ROLE_MEMBER, signature: v }),
  ),
  {
    name: "Admit: before the admin has an identity key",
    call: (w) => w.admin.api.identity.admit({ userId: w.member.userId, role: ROLE_MEMBER, signature: randomBytes(64).toString("base64") }),
    code: Code.FailedPrecondition,
    names: /identity key/,
  },
  ...authCases("PutKeyStatements", (a, w) => a.identity.putKeyStatements({ statements: [statementInput(w)] })),
  {
    name: "PutKeyStatements: no statements",
    call: (w) => w.member.api.identity.putKeyStatements({ statements: [] }),
    code: Code.InvalidArgument,
    names: "statements",
  },
  {
    name: "PutKeyStatements: 1001 statements",
    call: (w) =>
      w.member.api.identity.putKeyStatements({ statements: Array.from({ length: 1001 }, (_, i) => statementInput(w, { epoch: i + 1 })) }),
    code: Code.InvalidArgument,
    names: "statements",
  },
  ...[0, 3, 4, 99].map(
    (kind): Case => ({
      name: `PutKeyStatements: kind ${kind}`,
      call: (w) => w.member.api.identity.putKeyStatements({ statements: [statementInput(w, { kind })] }),
      code: Code.InvalidArgument,
      names: "statements[0].kind",
    }),
  ),
  ...uuidCases(
    "PutKeyStatements (channel key)",
    "statements[0].scope_id",
    (v) => (w) => w.member.api.identity.putKeyStatements({ statements: [statementInput(w, { scopeId: v })] }),
  ),
  {
    name: "PutKeyStatements: directory key scoped to a channel",
    call: (w) => w.member.api.identity.putKeyStatements({ statements: [statementInput(w, { kind: KIND_DIRECTORY })] }),
    code: Code.InvalidArgument,
    names: "statements[0].scope_id",
  },
  {
    name: "PutKeyStatements: epoch 0 in the second",
    call: (w) => w.member.api.identity.putKeyStatements({ statements: [statementInput(w), statementInput(w, { epoch: 0 })] }),
    code: Code.InvalidArgument,
    names: "statements[1].epoch",
  },
  ...bytes32Cases(
    "PutKeyStatements",
    "statements[0].key_hash",
    (v) => (w) => w.member.api.identity.putKeyStatements({ statements: [statementInput(w, { keyHash: v })] }),
  ),
  ...signatureCases(
    "PutKeyStatements",
    "statements[0].signature",
    (v) => (w) => w.member.api.identity.putKeyStatements({ statements: [statementInput(w, { signature: v })] }),
  ),
  {
    name: "PutKeyStatements: before the account has an identity key",
    call: (w) => w.member.api.identity.putKeyStatements({ statements: [statementInput(w)] }),
    code: Code.FailedPrecondition,
    names: /identity key/,
  },
  ...authCases("ListKeyStatements", (a) => a.identity.listKeyStatements({})),
  {
    name: "ListKeyStatements: kind 99",
    call: (w) => w.member.api.identity.listKeyStatements({ kind: 99 as KeyKind }),
    code: Code.InvalidArgument,
    names: "kind",
  },
  {
    name: 'ListKeyStatements: scope_id neither a UUID nor "directory"',
    call: (w) => w.member.api.identity.listKeyStatements({ scopeId: "general" }),
    code: Code.InvalidArgument,
    names: "scope_id",
  },
  ...authCases("GetKeyBackup", (a) => a.identity.getKeyBackup({})),
  ...authCases("PutKeyBackup", (a) => a.identity.putKeyBackup({ expectedVersion: 0n, ciphertext: "AAAA" })),
  {
    name: "PutKeyBackup: ciphertext empty",
    call: (w) => w.member.api.identity.putKeyBackup({ ciphertext: "" }),
    code: Code.InvalidArgument,
    names: "ciphertext",
  },
  {
    name: "PutKeyBackup: ciphertext not base64",
    call: (w) => w.member.api.identity.putKeyBackup({ ciphertext: "not base64 at all" }),
    code: Code.InvalidArgument,
    names: "ciphertext",
  },
  {
    name: "PutKeyBackup: ciphertext non-canonical base64",
    call: (w) => w.member.api.identity.putKeyBackup({ ciphertext: nonCanonical(randomBytes(100).toString("base64")) }),
    code: Code.InvalidArgument,
    names: "ciphertext",
  },
  {
    name: `PutKeyBackup: ciphertext of ${LIMITS.backupChars + 4} chars (limit ${LIMITS.backupChars})`,
    call: (w) => w.member.api.identity.putKeyBackup({ ciphertext: "A".repeat(LIMITS.backupChars + 4) }),
    code: Code.InvalidArgument,
    names: "ciphertext",
  },
  {
    name: "PutKeyBackup: expected_version 2^63",
    call: (w) => w.member.api.identity.putKeyBackup({ expectedVersion: 2n ** 63n, ciphertext: "AAAA" }),
    code: Code.InvalidArgument,
    names: "expected_version",
  },
  {
    name: "PutKeyBackup: expected_version 1 with none stored",
    call: (w) => w.member.api.identity.putKeyBackup({ expectedVersion: 1n, ciphertext: "AAAA" }),
    code: Code.Aborted,
    names: /^expected_version: the backup is at version 0, not 1; read it, merge and retry$/,
  },
];

// Signed statements once the admin (the root) and the member have published their identity keys.
const signedStatementCases: Case[] = [
  {
    name: "PublishIdentity: another key than the one published",
    call: (w) => {
      const other = identityKey();
      return publish(w, {
        publicKey: other.publicKey,
        deviceCertificate: other.sign("device-cert", w.member.userId, w.member.deviceId, w.member.publicKey),
      });
    },
    code: Code.AlreadyExists,
    names: "public_key",
  },
  {
    name: "PublishIdentity: an admission request from an account registered without an invite record",
    call: (w) => publish(w, { admissionMac: randomBytes(32).toString("base64") }),
    code: Code.FailedPrecondition,
    names: "admission_mac",
  },
  {
    name: "CertifyDevice: the admin's device, by the member",
    call: (w) =>
      w.member.api.identity.certifyDevice({
        deviceId: w.admin.deviceId,
        certificate: identity(w, "member").sign("device-cert", w.member.userId, w.admin.deviceId, w.admin.publicKey),
      }),
    code: Code.PermissionDenied,
    names: "device_id",
  },
  {
    name: "CertifyDevice: signed by another key",
    call: (w) =>
      w.member.api.identity.certifyDevice({
        deviceId: String(w.extra.memberLaptop),
        certificate: identityKey().sign("device-cert", w.member.userId, String(w.extra.memberLaptop), String(w.extra.memberLaptopKey)),
      }),
    code: Code.InvalidArgument,
    names: "certificate",
  },
  {
    name: "CertifyDevice: unknown device_id",
    call: (w) => w.member.api.identity.certifyDevice({ deviceId: randomUUID(), certificate: randomBytes(64).toString("base64") }),
    code: Code.NotFound,
    names: "device_id",
  },
  {
    name: "Admit: signed by the member's key",
    call: (w) =>
      w.admin.api.identity.admit({
        userId: w.member.userId,
        role: ROLE_MEMBER,
        signature: identity(w, "member").sign("admission", w.member.userId, identity(w, "member").publicKey, "member"),
      }),
    code: Code.InvalidArgument,
    names: "signature",
  },
  {
    name: "Admit: signed for the other role",
    call: (w) =>
      w.admin.api.identity.admit({
        userId: w.member.userId,
        role: ROLE_ADMIN,
        signature: identity(w, "admin").sign("admission", w.member.userId, identity(w, "member").publicKey, "member"),
      }),
    code: Code.InvalidArgument,
    names: "signature",
  },
  {
    name: "Admit: the root admitting itself again as a member",
    call: (w) =>
      w.admin.api.identity.admit({
        userId: w.admin.userId,
        role: ROLE_MEMBER,
        signature: identity(w, "admin").sign("admission", w.admin.userId, identity(w, "admin").publicKey, "member"),
      }),
    code: Code.PermissionDenied,
    names: "user_id",
  },
  {
    name: "Admit: an account without an identity key",
    call: (w) => {
      const outsider = w.extra.outsider as TestUser;
      return w.admin.api.identity.admit({
        userId: outsider.userId,
        role: ROLE_MEMBER,
        signature: identity(w, "admin").sign("admission", outsider.userId, identityKey().publicKey, "member"),
      });
    },
    code: Code.FailedPrecondition,
    names: "user_id",
  },
  {
    name: "Admit: an unknown account",
    call: (w) => w.admin.api.identity.admit({ userId: randomUUID(), role: ROLE_MEMBER, signature: randomBytes(64).toString("base64") }),
    code: Code.NotFound,
    names: "user_id",
  },
  {
    name: "PutKeyStatements: the second signed by another key",
    call: (w) => {
      const hash = keyHash();
      const forged = statementInput(w, {
        epoch: 2,
        keyHash: hash,
        signature: identity(w, "admin").sign("channel-key", w.channelId, 2, hash),
      });
      return w.member.api.identity.putKeyStatements({ statements: [statementInput(w), forged] });
    },
    code: Code.InvalidArgument,
    names: "statements[1].signature",
  },
  {
    name: "PutKeyStatements: an unknown channel",
    call: (w) => {
      const hash = keyHash();
      const elsewhere = randomUUID();
      return w.member.api.identity.putKeyStatements({
        statements: [
          statementInput(w, {
            scopeId: elsewhere,
            keyHash: hash,
            signature: identity(w, "member").sign("channel-key", elsewhere, 1, hash),
          }),
        ],
      });
    },
    code: Code.NotFound,
    names: "statements[0].scope_id",
  },
  {
    name: "RevokeDevice: a revocation signed by another key",
    call: (w) =>
      w.member.api.device.revokeDevice({
        deviceId: String(w.extra.memberLaptop),
        revocation: identityKey().sign("device-revoked", w.member.userId, String(w.extra.memberLaptop)),
      }),
    code: Code.InvalidArgument,
    names: "revocation",
  },
  {
    name: "RemoveUser: a removal signed by the member's own key",
    call: (w) =>
      w.admin.api.admin.removeUser({
        userId: w.member.userId,
        removalSignature: identity(w, "member").sign("removal", w.member.userId, identity(w, "member").publicKey),
      }),
    code: Code.InvalidArgument,
    names: "removal_signature",
  },
  {
    name: "RemoveUser: a removal signature with the admin token",
    call: (w) =>
      adminApi(w.s.url).admin.removeUser({
        userId: w.member.userId,
        removalSignature: identity(w, "admin").sign("removal", w.member.userId, identity(w, "member").publicKey),
      }),
    code: Code.InvalidArgument,
    names: "removal_signature",
  },
  ...signatureCases(
    "RemoveUser",
    "removal_signature",
    (v) => (w) => w.admin.api.admin.removeUser({ userId: w.member.userId, removalSignature: v }),
  ),
];

// ---------------------------------------------------------------------------------------------

export function validationSuite(kind: DbKind) {
  let source: DatabaseSource;
  beforeAll(async () => {
    source = await databaseSource(kind);
  }, 60_000);
  afterAll(async () => {
    await source?.stop();
  });

  /** One server and world for the enclosing describe block. */
  function useWorld(): () => World {
    let world: World | undefined;
    beforeAll(async () => {
      const db = await source.fresh();
      const s = await startTestServer(db);
      const admin = await registerUser(s.url, "admin-user");
      const usedInvite = await mintInvite(s.url);
      const [member, invite, revoked] = await Promise.all([
        registerUser(s.url, "member-user", usedInvite),
        mintInvite(s.url),
        adminApi(s.url).invite.createInvite({}),
      ]);
      const channelId = randomUUID();
      const otherChannelId = randomUUID();
      const [, , sent] = await Promise.all([
        adminApi(s.url).invite.revokeInvite({ inviteId: revoked.invite!.inviteId }),
        admin.api.channel.createChannel({ channelId: otherChannelId, encryptedName: sealedValue() }),
        admin.api.channel
          .createChannel({ channelId, encryptedName: sealedValue() })
          .then(() => admin.api.message.sendMessage(newMessage(channelId))),
      ]);
      world = {
        s,
        db,
        admin,
        member,
        users: [admin, member],
        channelId,
        messageId: sent.message!.messageId,
        invite,
        revokedInvite: revoked.token,
        usedInvite,
        anon: api(s.url),
        garbage: api(s.url, bearer(randomBytes(32).toString("base64url"))),
        extra: { otherChannelId },
        streams: [],
      };
    }, 60_000);
    afterAll(async () => {
      if (!world) return;
      // Closing the server ends the open Subscribe streams (unavailable) before the clients let go.
      await world.s.close();
      for (const ac of world.streams) ac.abort();
      await world.db.close();
    });
    return () => world!;
  }

  test("the nothing-written check lets bookkeeping move forward and nothing else", () => {
    const dump = (sessions: object[], devices: object[], invites: object[] = []) =>
      `sessions\n${JSON.stringify(sessions)}\ndevices\n${JSON.stringify(devices)}\ninvites\n${JSON.stringify(invites)}\n`;
    const s = (used: string, extra = {}) => ({ token_hash: "h1", device_id: "d1", last_used_at: used, expires_at: used, ...extra });
    const d = (seen: string) => ({ id: "d1", user_id: "u1", public_key: "k", last_seen_at: seen });
    const t0 = "2026-01-01T00:00:00.000Z";
    const t1 = "2026-01-01T00:01:00.000Z";
    const before = dump([s(t0)], [d(t0)]);
    expect(changedTables(before, dump([s(t1)], [d(t1)]))).toEqual([]); // the sliding touch
    expect(changedTables(dump([s(t1)], [d(t1)]), before)).toEqual(["devices", "sessions"]); // backwards is a write
    expect(changedTables(before, dump([s(t1, { device_id: "d2" })], [d(t0)]))).toEqual(["sessions"]); // another column
    expect(changedTables(before, dump([s(t0), s(t1, { token_hash: "h2" })], [d(t0)]))).toEqual(["sessions"]); // a new row
    expect(changedTables(before, dump([s(t0)], [d(t0)], [{ id: "i" }]))).toEqual(["invites"]);
  });

  // Numbers the tests, so a case knows whether the test just before it was a case too.
  let testNo = 0;
  beforeEach(() => void testNo++);

  /**
   * Runs one bad call between two dumps of every table. When the test just before was a
   * passing case, its closing dump is this one's opening dump (nothing runs in between but
   * this hook; setup hooks that write clear it): any write after it still shows up here.
   */
  async function expectRejected(w: World, c: Case) {
    const reuse = w.lastDump?.test === testNo - 1 ? w.lastDump.dump : undefined;
    w.lastDump = undefined;
    const before = reuse ?? (await dumpAllTables(w.db));
    const err = await errorOf(c.call(w));
    const after = await dumpAllTables(w.db);
    const names = expect.stringMatching(typeof c.names === "string" ? new RegExp(`^${c.names.replace(/[.[\]]/g, "\\$&")}: `) : c.names);
    expect(err ? { code: Code[err.code], message: err.rawMessage } : "accepted").toEqual({ code: Code[c.code], message: names });
    expect(changedTables(before, after)).toEqual([]);
    w.lastDump = { dump: after, test: testNo };
  }

  const each = (cases: Case[], world: () => World) => test.each(cases)("$name", (c) => expectRejected(world(), c));

  // One server for everything: a rejected call changes nothing, so the cases cannot disturb
  // one another. The blocks that need more state (voice rooms, a revoked device) add it first.
  describe(`bad input on ${kind}`, () => {
    const world = useWorld();
    describe("AuthService", () => each(authServiceCases, world));
    describe("InviteService", () => each(inviteServiceCases, world));
    describe("DeviceService", () => each(deviceServiceCases, world));
    describe("EnvelopeService", () => each(envelopeServiceCases, world));
    describe("ChannelService", () => each(channelServiceCases, world));
    describe("MessageService", () => each(messageServiceCases, world));
    describe("ReadStateService", () => each(readStateServiceCases, world));
    describe("DirectoryService and PresenceService", () => each(directoryServiceCases, world));
    describe("EventService", () => each(eventServiceCases, world));
    describe("VoiceService (auth)", () => each(voiceAuthCases, world));
    describe("IdentityService", () => each(identityServiceCases, world));

    describe("IdentityService and signed statements, with identities", () => {
      // The admin publishes and self-admits (the root), the member publishes (from an account
      // without an invite record, as before the upgrade) and logs in on a laptop; an outsider has no key.
      beforeAll(async () => {
        const w = world();
        w.lastDump = undefined;
        const sign = (who: "admin" | "member") => {
          const u = w[who];
          return u.api.identity.publishIdentity({
            publicKey: identity(w, who).publicKey,
            deviceCertificate: identity(w, who).sign("device-cert", u.userId, u.deviceId, u.publicKey),
          });
        };
        await sign("admin");
        await sign("member");
        const admin = identity(w, "admin");
        await w.admin.api.identity.admit({
          userId: w.admin.userId,
          role: ROLE_ADMIN,
          signature: admin.sign("admission", w.admin.userId, admin.publicKey, "admin"),
        });
        await w.db.db.update(users).set({ inviteId: null }).where(eq(users.id, w.member.userId));
        const laptopKey = devicePublicKey();
        const laptop = await w.anon.auth.login({ username: w.member.username, password: PASSWORD, devicePublicKey: laptopKey });
        w.extra.memberLaptop = laptop.session!.deviceId;
        w.extra.memberLaptopKey = laptopKey;
        const outsider = (w.extra.outsider as TestUser | undefined) ?? (await registerUser(w.s.url, "identity-outsider"));
        w.extra.outsider = outsider;
      });
      each(signedStatementCases, world);
    });

    describe("VoiceService rooms", () => {
      /** Opens a Subscribe stream for `u`, keeps reading it, and returns its stream_id. */
      async function openStream(w: World, u: TestUser): Promise<string> {
        const ac = new AbortController();
        w.streams.push(ac);
        const it = u.api.event.subscribe({}, { signal: ac.signal })[Symbol.asyncIterator]();
        const first = await it.next();
        const item = (first.value as { item: { case: string; value: { streamId: string } } }).item;
        if (item.case !== "hello") throw new Error("Subscribe did not start with hello");
        void (async () => {
          try {
            while (!(await it.next()).done);
          } catch {
            // ended at teardown
          }
        })();
        return item.value.streamId;
      }
      // The admin and the member are in w.channelId's room; the outsider has a stream but no room.
      beforeAll(async () => {
        const w = world();
        w.lastDump = undefined;
        const outsider = await registerUser(w.s.url, "outsider");
        w.users.push(outsider);
        w.extra.outsider = outsider;
        w.extra.adminStream = await openStream(w, w.admin);
        w.extra.memberStream = await openStream(w, w.member);
        await openStream(w, outsider);
        await w.admin.api.voice.join({ channelId: w.channelId, streamId: String(w.extra.adminStream) });
        await w.member.api.voice.join({ channelId: w.channelId, streamId: String(w.extra.memberStream) });
      });
      each(voiceRoomCases, world);

      test("a signal payload of exactly 64 KiB is relayed; the bad calls left the room as it was", async () => {
        const w = world();
        await signal(w, { encryptedPayload: sealedOfLength(LIMITS.signalBytes) });
        const rooms = await w.member.api.voice.listVoiceRooms({});
        expect(rooms.rooms).toHaveLength(1);
        expect(rooms.rooms[0]!.members.map((m) => m.deviceId).sort()).toEqual([w.admin.deviceId, w.member.deviceId].sort());
      });
    });

    describe("revoked devices", () => {
      // The member logs in on a second device, then revokes it.
      beforeAll(async () => {
        const w = world();
        w.lastDump = undefined;
        const key = devicePublicKey();
        const second = await w.anon.auth.login({ username: w.member.username, password: PASSWORD, devicePublicKey: key });
        await w.member.api.device.revokeDevice({ deviceId: second.session!.deviceId });
        w.extra.revokedKey = key;
        w.extra.revokedDevice = second.session!.deviceId;
        w.extra.revokedSession = api(w.s.url, bearer(second.session!.token));
      });
      each(
        [
          {
            name: "Login: with a revoked device's key",
            call: (w) =>
              w.anon.auth.login({ username: w.member.username, password: PASSWORD, devicePublicKey: String(w.extra.revokedKey) }),
            code: Code.PermissionDenied,
            names: "device_public_key",
          },
          {
            name: "GetSession: a revoked device's session",
            call: (w) => (w.extra.revokedSession as Api).auth.getSession({}),
            code: Code.Unauthenticated,
            names: /session/,
          },
          {
            name: "SendMessage: a revoked device's session",
            call: (w) => (w.extra.revokedSession as Api).message.sendMessage(newMessage(w.channelId)),
            code: Code.Unauthenticated,
            names: /session/,
          },
          {
            name: "PutEnvelopes: to a revoked device",
            call: (w) => put(w, [channelEnvelope(w, { recipientDeviceId: String(w.extra.revokedDevice) })]),
            code: Code.NotFound,
            names: "envelopes[0].recipient_device_id",
          },
        ],
        world,
      );
    });

    describe("undecodable binary bodies: invalid_argument naming the field, in every protocol", () => {
      const send = "/dialtone.v1.MessageService/SendMessage";
      each(
        [
          {
            name: "Connect (application/proto): a string field that is not UTF-8",
            call: (w) =>
              connectUnary(w.s.url, send, w.member.token, { body: undecodableSend(w, "not-utf8"), contentType: "application/proto" }),
            code: Code.InvalidArgument,
            names: /^encrypted_body: not valid UTF-8$/,
          },
          {
            name: "Connect (application/proto): a message cut short inside a field",
            call: (w) =>
              connectUnary(w.s.url, send, w.member.token, { body: undecodableSend(w, "cut-short"), contentType: "application/proto" }),
            code: Code.InvalidArgument,
            names: /^encrypted_body: cut short/,
          },
          {
            name: "gRPC: a string field that is not UTF-8",
            call: (w) => grpcUnary(w.s.url, send, w.member.token, { body: undecodableSend(w, "not-utf8") }),
            code: Code.InvalidArgument,
            names: /^encrypted_body: not valid UTF-8$/,
          },
          {
            name: "gRPC: a message cut short inside a field",
            call: (w) => grpcUnary(w.s.url, send, w.member.token, { body: undecodableSend(w, "cut-short") }),
            code: Code.InvalidArgument,
            names: /^encrypted_body: cut short/,
          },
          {
            name: "gRPC-Web: a string field that is not UTF-8",
            call: (w) => grpcWebUnary(w.s.url, send, w.member.token, undecodableSend(w, "not-utf8")),
            code: Code.InvalidArgument,
            names: /^encrypted_body: not valid UTF-8$/,
          },
        ],
        useWorld(),
      );
    });

    describe("request size (1 MiB)", () => {
      each(
        [
          {
            name: "Connect: a body of 1 MiB + 1 byte is refused from its Content-Length",
            call: (w) => connectUnary(w.s.url, "/dialtone.v1.AuthService/GetSession", w.member.token, { announce: MAX_REQUEST_BYTES + 1 }),
            code: Code.ResourceExhausted,
            names: /larger than configured readMaxBytes 1048576/,
          },
          {
            name: "Connect: a 4 MiB body is refused from its Content-Length",
            call: (w) =>
              connectUnary(w.s.url, "/dialtone.v1.MessageService/SendMessage", w.member.token, { announce: 4 * MAX_REQUEST_BYTES }),
            code: Code.ResourceExhausted,
            names: /larger than configured readMaxBytes/,
          },
          {
            name: "gRPC: a message of 1 MiB + 1 byte is refused from its length prefix",
            call: (w) => grpcUnary(w.s.url, "/dialtone.v1.AuthService/GetSession", w.member.token, { announce: MAX_REQUEST_BYTES + 1 }),
            code: Code.ResourceExhausted,
            names: /larger than configured readMaxBytes 1048576/,
          },
          {
            name: "gRPC: a SendMessage of 4 MiB is refused from its length prefix",
            call: (w) => grpcUnary(w.s.url, "/dialtone.v1.MessageService/SendMessage", w.member.token, { announce: 4 * MAX_REQUEST_BYTES }),
            code: Code.ResourceExhausted,
            names: /larger than configured readMaxBytes/,
          },
        ],
        world,
      );

      test("a body of exactly 1 MiB is accepted (Connect JSON padded with spaces, gRPC with an unknown field)", async () => {
        const w = world();
        const json = Buffer.alloc(MAX_REQUEST_BYTES, " ");
        json.write("{}");
        const viaConnect = (await connectUnary(w.s.url, "/dialtone.v1.AuthService/GetSession", w.member.token, { body: json })) as {
          userId: string;
        };
        expect(viaConnect.userId).toBe(w.member.userId);
        // GetSessionRequest with field 15 (bytes): tag 0x7a, a 3-byte varint length, then the bytes.
        const length = MAX_REQUEST_BYTES - 4;
        const message = Buffer.alloc(MAX_REQUEST_BYTES);
        message.set([0x7a, (length & 0x7f) | 0x80, ((length >> 7) & 0x7f) | 0x80, length >> 14]);
        await expect(grpcUnary(w.s.url, "/dialtone.v1.AuthService/GetSession", w.member.token, { body: message })).resolves.toBeDefined();
      });

      test("typed clients sending over 1 MiB are refused and nothing is written", async () => {
        const w = world();
        const over = sealedOfLength(4 * Math.ceil((MAX_REQUEST_BYTES + 1024) / 4));
        const grpc = createGrpcTransport({ baseUrl: w.s.url, idleConnectionTimeoutMs: 5 });
        const calls: Array<[string, () => Promise<unknown>]> = [
          ["SendMessage (Connect JSON)", () => send(w, { encryptedBody: over })],
          [
            "SendMessage (gRPC)",
            () =>
              createClient(MessageService, grpc).sendMessage(
                { ...newMessage(w.channelId), encryptedBody: over },
                { headers: bearer(w.member.token) },
              ),
          ],
          ["Register (Connect JSON)", () => w.anon.auth.register(registration(w, { username: over }))],
          ["ListPresence with 30,000 ids (Connect JSON)", () => w.member.api.presence.listPresence({ userIds: manyUuids(30_000) })],
          [
            "ListPresence with 30,000 ids (gRPC)",
            () => createClient(PresenceService, grpc).listPresence({ userIds: manyUuids(30_000) }, { headers: bearer(w.member.token) }),
          ],
        ];
        await Promise.all([w.admin, w.member].map((u) => u.api.auth.getSession({})));
        const before = await dumpAllTables(w.db);
        for (const [label, call] of calls) {
          const err = await errorOf(call());
          // The server answers resource_exhausted as soon as it sees the size; when the client is
          // still uploading, the connection may be reset before it reads that answer (ECONNRESET on
          // HTTP/1.1, NGHTTP2_ENHANCE_YOUR_CALM on HTTP/2). Never accepted, never invalid_argument.
          const seen = err
            ? err.code === Code.ResourceExhausted
              ? "resource_exhausted"
              : /ECONNRESET|NGHTTP2|socket hang up|EPIPE/.test(err.rawMessage)
                ? "reset"
                : `${Code[err.code]}: ${err.rawMessage}`
            : "accepted";
          expect([label, seen]).toEqual([label, expect.stringMatching(/^(resource_exhausted|reset)$/)]);
        }
        expect(changedTables(before, await dumpAllTables(w.db))).toEqual([]);
        // The server still answers; the invite the oversize Register carried is checked under "limits".
        expect((await w.member.api.auth.getSession({})).userId).toBe(w.member.userId);
      });
    });

    // Last: these calls succeed and write (and make every later dump bigger).
    describe("limits", () => {
      test("the invite every bad registration carried is still good", async () => {
        const w = world();
        const res = await w.anon.auth.register(registration(w));
        expect(res.session?.isAdmin).toBe(false);
      });

      test("every limit is inclusive: values exactly at it are accepted", async () => {
        const w = world();
        const adminToken = adminApi(w.s.url).invite;
        for (const init of [{ lifetimeSeconds: 60 }, { lifetimeSeconds: 2_592_000 }, { maxUses: 1 }, { maxUses: 1000 }]) {
          expect((await adminToken.createInvite(init)).token).toMatch(/^[A-Za-z0-9_-]{43}$/);
        }
        const long = await w.anon.auth.register(
          registration(w, { username: "u".repeat(32), password: "p".repeat(256), inviteToken: await mintInvite(w.s.url) }),
        );
        expect(long.session?.userId).toBeTruthy();
        const short = await w.anon.auth.register(
          registration(w, { username: "ab", password: "p".repeat(8), inviteToken: await mintInvite(w.s.url) }),
        );
        expect(short.session?.userId).toBeTruthy();
        expect(
          (await w.anon.auth.login({ username: "U".repeat(32), password: "p".repeat(256), devicePublicKey: devicePublicKey() }))
            .deviceCreated,
        ).toBe(true);

        const name1k = sealedOfLength(LIMITS.nameBytes);
        const channelId = randomUUID();
        await w.admin.api.channel.createChannel({ channelId, encryptedName: name1k });
        await w.admin.api.channel.renameChannel({ channelId, encryptedName: sealedOfLength(LIMITS.nameBytes) });
        const body64k = sealedOfLength(LIMITS.bodyBytes);
        const sent = await w.member.api.message.sendMessage({
          ...newMessage(channelId),
          encryptedBody: body64k,
          encryptedSenderName: name1k,
        });
        expect(sent.message?.encryptedBody).toBe(body64k);
        expect((await w.member.api.message.listMessages({ channelId, limit: LIMITS.historyPage })).messages).toHaveLength(1);
        expect((await w.member.api.message.listMessages({ channelId, limit: 1 })).messages).toHaveLength(1);
        expect((await w.member.api.directory.setProfile({ encryptedName: name1k, keyEpoch: 1 })).profile?.encryptedName).toBe(name1k);

        const ids = [w.admin.userId, ...manyUuids(LIMITS.idsPerCall - 1)];
        expect((await w.member.api.device.listDevices({ userIds: ids })).devices.map((d) => d.deviceId)).toEqual([w.admin.deviceId]);
        expect((await w.member.api.presence.listPresence({ userIds: ids })).presences).toHaveLength(1);
        const envelopes = Array.from({ length: LIMITS.envelopesPerCall }, (_, i) =>
          channelEnvelope(w, { scopeId: channelId, epoch: i + 1 }),
        );
        expect(await w.admin.api.envelope.putEnvelopes({ envelopes })).toMatchObject({
          stored: LIMITS.envelopesPerCall,
          alreadyPresent: 0,
        });
        // A scope filter in upper case finds the envelopes stored under the lower-case id.
        expect(
          (await w.member.api.envelope.listEnvelopes({ kind: KIND_CHANNEL, scopeId: channelId.toUpperCase() })).envelopes,
        ).toHaveLength(LIMITS.envelopesPerCall);
        expect(
          (await w.admin.api.envelope.listMissingEnvelopes({ scopeId: channelId.toUpperCase() })).missing.map((m) => m.scopeId),
        ).toContain(channelId);
        expect(
          await w.admin.api.envelope.putEnvelopes({ envelopes: [channelEnvelope(w, { kind: KIND_DIRECTORY, scopeId: "directory" })] }),
        ).toMatchObject({ stored: 1 });
      });
    });
  });
}
