// client/crypto's signed-identity parsers (ENCRYPTION.md §10): invite codes, recovery codes, the
// key backup's document and its sealed form, and signed statements. Each check holds the parser
// to a small model of the documented format written here, so a refusal must name a problem the
// model sees too, and what it accepts must be what the model reads.
import fc from "fast-check";
import {
  CryptoError,
  backupKeyFromRecoveryCode,
  decodeBackupDocument,
  encodeBackupDocument,
  formatInviteCode,
  formatRecoveryCode,
  identityKeyPairFromSeed,
  openKeyBackup,
  parseInviteCode,
  parseRecoveryCode,
  sealKeyBackup,
  signStatement,
  verifyStatement,
  type BackupDocument,
  type InviteCode,
  type Statement,
} from "../../../client/crypto/index.js";
import { b64, mutatedBytes, mutatedText } from "../mutate.js";
import { defineTarget, expectRefusal, FuzzFinding, type FuzzTarget } from "../target.js";

const USER = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d";
const DEVICE = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const CHANNEL = "9d3b3e62-6a5b-4b8e-9a51-7b2f0c1d2e3f";
const MAX_EPOCH = 0xffffffff;
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (seed + i * 37) & 0xff);
const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a === undefined || b === undefined ? a === b : Buffer.compare(a, b) === 0;
const show = (x: unknown) => fc.stringify(x);

/** Strings of any UTF-16 code units, lone surrogates included (fc.string's units are well-formed). */
const utf16 = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength });
const LONE_SURROGATE = /\p{Cs}/u;
const wellFormedId = (x: unknown): x is string => typeof x === "string" && x.length > 0 && !LONE_SURROGATE.test(x);

/** Canonical standard base64 (padding, no stray bits), decided by re-encoding with Buffer. */
function modelBase64(text: unknown): Uint8Array | undefined {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? new Uint8Array(bytes) : undefined;
}

function expectCryptoError(err: unknown, what: string, codes: readonly string[], message?: (m: string) => boolean): void {
  expectRefusal(err, [CryptoError], what);
  const e = err as CryptoError;
  if (!codes.includes(e.code)) throw new FuzzFinding(`${what} refused with code ${e.code} (${e.message}), expected ${codes.join(" or ")}`);
  if (message && !message(e.message)) throw new FuzzFinding(`${what} refused with the wrong message: ${e.message}`);
}

// ---- invite codes (§10.4) -------------------------------------------------------------------

type InviteModel = { ok: InviteCode } | { error: string };

function modelInvite(text: string): InviteModel {
  const trimmed = text.replace(/^\s+|\s+$/g, "");
  if (trimmed === "") return { error: "the invite code is empty" };
  const parts = trimmed.split(".");
  if (parts.length !== 1 && parts.length !== 3)
    return { error: `the invite code has ${parts.length} parts separated by ".", it needs 3 (or 1 for a server token alone)` };
  const [token, ...rest] = parts as [string, ...string[]];
  if (token === "") return { error: "the invite's server token is empty" };
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return { error: "the invite's server token has a character outside base64url (A-Z a-z 0-9 - _)" };
  if (rest.length === 0) return { ok: { serverToken: token } };
  const decoded: Uint8Array[] = [];
  for (const [part, what] of [
    [rest[0]!, "admission secret"],
    [rest[1]!, "root fingerprint"],
  ] as const) {
    if (part === "") return { error: `the invite's ${what} is empty` };
    if (!/^[A-Za-z0-9_-]{43}$/.test(part)) return { error: `the invite's ${what} is not 43 base64url characters` };
    const bytes = Buffer.from(part, "base64url");
    if (bytes.toString("base64url") !== part) return { error: `the invite's ${what} is not canonical base64url` };
    decoded.push(new Uint8Array(bytes));
  }
  return { ok: { serverToken: token, admissionSecret: decoded[0]!, rootFingerprint: decoded[1]! } };
}

function inviteTarget(): FuzzTarget {
  const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,48}$/);
  const valid = fc.record({
    serverToken: token,
    admissionSecret: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    rootFingerprint: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  });
  const space = fc.constantFrom("", " ", "\n", "\t", "\r\n", "\u00a0", "\ufeff", "\u2028");
  const part = fc.oneof(
    token,
    fc.constant(""),
    fc.uint8Array({ maxLength: 34 }).map((b) => Buffer.from(b).toString("base64url")),
  );
  const sample = formatInviteCode({ serverToken: "tok-EN_123", admissionSecret: bytesOf(32, 1), rootFingerprint: bytesOf(32, 99) });
  return defineTarget({
    name: "invite-code",
    about: "parseInviteCode on mutated and arbitrary codes, and formatInviteCode round trips with surrounding white space",
    input: fc.oneof(
      // A formatted code (or its token alone) with white space around it: parses to the same bytes.
      fc.tuple(valid, fc.boolean(), space, space).map(([code, alone, before, after]) => ({
        text: before + (alone ? code.serverToken : formatInviteCode(code)) + after,
        code,
        alone,
      })),
      fc
        .oneof(
          mutatedText(sample),
          utf16(140),
          fc.tuple(valid, fc.nat(), utf16(3)).map(([c, i, s]) => spliceIn(formatInviteCode(c), i, s)),
          // One character of a 43-character part changed: the last one carries 2 bits that must be zero.
          fc
            .tuple(valid, fc.constantFrom(1, 2), fc.oneof(fc.constant(42), fc.nat(42)), fc.constantFrom(..."AaBbQgw0-_+/=~. "))
            .map(([c, p, i, ch]) => {
              const parts = formatInviteCode(c).split(".");
              parts[p] = parts[p]!.slice(0, i) + ch + parts[p]!.slice(i + 1);
              return parts.join(".");
            }),
          // Any number of parts, some empty, some of the wrong length.
          fc.array(part, { maxLength: 5 }).map((parts) => parts.join(".")),
        )
        .map((text) => ({
          text,
          code: undefined,
          alone: false,
        })),
    ),
    check({ text, code, alone }) {
      const model = modelInvite(text);
      let parsed: InviteCode;
      try {
        parsed = parseInviteCode(text);
      } catch (err) {
        expectCryptoError(err, "parseInviteCode", ["invalid-input"]);
        if (!("error" in model)) throw new FuzzFinding(`parseInviteCode refused a valid code ${show(text)}: ${(err as Error).message}`);
        if ((err as Error).message !== model.error)
          throw new FuzzFinding(
            `parseInviteCode named another problem for ${show(text)}: "${(err as Error).message}", not "${model.error}"`,
          );
        return;
      }
      if ("error" in model) throw new FuzzFinding(`parseInviteCode accepted ${show(text)} (${model.error})`);
      const want = code ? (alone ? { serverToken: code.serverToken } : code) : model.ok;
      if (
        parsed.serverToken !== want.serverToken ||
        !same(parsed.admissionSecret, want.admissionSecret) ||
        !same(parsed.rootFingerprint, want.rootFingerprint)
      )
        throw new FuzzFinding(`parseInviteCode read ${show(text)} as ${show(parsed)}, not ${show(want)}`);
    },
  });
}

const spliceIn = (text: string, at: number, s: string) => text.slice(0, at % (text.length + 1)) + s + text.slice(at % (text.length + 1));

// ---- recovery codes (§10.5) ----------------------------------------------------------------

type RecoveryModel = { ok: Uint8Array } | { error: string };

function modelRecovery(text: string): RecoveryModel {
  let value = 0n;
  let count = 0;
  for (const ch of text.replace(/[\s-]/gu, "")) {
    const c = ch.length === 1 && ch >= "a" && ch <= "z" ? ch.toUpperCase() : ch;
    const digit = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".indexOf(c === "O" ? "0" : c === "I" || c === "L" ? "1" : c);
    if (digit < 0 || c.length !== 1)
      return {
        error: `the recovery code contains ${JSON.stringify(ch)}, which is not in a recovery code (0-9 and A-Z without I, L, O, U)`,
      };
    value = (value << 5n) | BigInt(digit);
    count++;
  }
  if (count !== 32) return { error: `the recovery code has ${count} characters, it needs 32 (8 groups of 4)` };
  return { ok: new Uint8Array(Buffer.from(value.toString(16).padStart(40, "0"), "hex")) };
}

/** How a person might copy a code: any case, O for 0, I or L for 1, white space and dashes anywhere. */
function messy(code: string, choices: readonly number[]): string {
  const seps = ["", "", "", " ", "-", "--", "\n", "\t", " - ", "\u00a0", "\u3000"];
  let out = "";
  let i = 0;
  for (const ch of code.replaceAll("-", "")) {
    const r = choices[i++ % choices.length]!;
    let c = ch;
    if (ch === "0" && r % 3 === 1) c = "O";
    if (ch === "1" && r % 3 !== 0) c = r % 3 === 1 ? "I" : "L";
    if ((r >> 2) % 2 === 1) c = c.toLowerCase();
    out += seps[(r >> 3) % seps.length]! + c;
  }
  return out + seps[choices[0]! % seps.length]!;
}

function recoveryTarget(): FuzzTarget {
  const sample = formatRecoveryCode(bytesOf(20, 7));
  const choices = fc.array(fc.nat(1023), { minLength: 1, maxLength: 32 });
  return defineTarget({
    name: "recovery-code",
    about: "parseRecoveryCode on formatted codes copied messily (case, spacing, O/I/L), mutated and arbitrary text",
    input: fc.oneof(
      fc
        .tuple(fc.uint8Array({ minLength: 20, maxLength: 20 }), choices)
        .map(([bytes, r]) => ({ text: messy(formatRecoveryCode(bytes), r), bytes })),
      fc
        .oneof(mutatedText(sample), mutatedText(messy(sample, [5, 17, 300, 42])), utf16(48), fc.string({ unit: "binary", maxLength: 48 }))
        .map((text) => ({ text, bytes: undefined })),
    ),
    check({ text, bytes }) {
      const model = modelRecovery(text);
      let parsed: Uint8Array;
      try {
        parsed = parseRecoveryCode(text);
      } catch (err) {
        expectCryptoError(err, "parseRecoveryCode", ["invalid-input"]);
        if (!("error" in model)) throw new FuzzFinding(`parseRecoveryCode refused ${show(text)}: ${(err as Error).message}`);
        if ((err as Error).message !== model.error)
          throw new FuzzFinding(
            `parseRecoveryCode named another problem for ${show(text)}: "${(err as Error).message}", not "${model.error}"`,
          );
        return;
      }
      if ("error" in model) throw new FuzzFinding(`parseRecoveryCode accepted ${show(text)} (${model.error})`);
      if (!same(parsed, bytes ?? model.ok)) throw new FuzzFinding(`parseRecoveryCode read ${show(text)} as ${b64(parsed)}`);
      // Accepted text is a spelling of exactly one code: formatting the bytes gives its canonical form.
      if (!same(parseRecoveryCode(formatRecoveryCode(parsed)), parsed))
        throw new FuzzFinding(`recovery code round trip changed ${show(text)}`);
    },
  });
}

// ---- the backup document (§10.6) -----------------------------------------------------------

/**
 * What is wrong with a document, as the prefixes of the messages that may name it (the field
 * path and a space); `malformed` and `unsupported` stand for those codes. Empty: a valid document.
 */
function backupProblems(bytes: Uint8Array, userId: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    return ["malformed"];
  }
  const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isObject(doc)) return ["malformed"];
  const problems: string[] = [];
  const version = doc["version"];
  // "A larger number is an unsupported version, anything else malformed."
  if (version !== 1) problems.push(typeof version === "number" && Number.isInteger(version) && version > 1 ? "unsupported" : "version ");
  for (const k of Object.keys(doc))
    if (!["version", "userId", "identity", "channelKeys", "directoryKeys"].includes(k)) problems.push(`unknown field ${JSON.stringify(k)}`);
  if (!wellFormedId(doc["userId"]) || doc["userId"] !== userId) problems.push("userId ");
  const key = (field: string, value: unknown) => {
    if (modelBase64(value)?.length !== 32) problems.push(`${field} `);
  };
  const epochs = (field: string, value: unknown) => {
    if (!isObject(value)) return void problems.push(`${field} `);
    for (const [e, k] of Object.entries(value)) {
      if (!/^[1-9][0-9]*$/.test(e) || Number(e) > MAX_EPOCH) problems.push(`${field} has epoch `);
      else key(`${field}[${e}]`, k);
    }
  };
  key("identity", doc["identity"]);
  const channels = doc["channelKeys"];
  if (!isObject(channels)) problems.push("channelKeys ");
  else
    for (const [id, keys] of Object.entries(channels)) {
      if (!wellFormedId(id)) problems.push("channelKeys channel id ");
      else epochs(`channelKeys[${id}]`, keys);
    }
  epochs("directoryKeys", doc["directoryKeys"]);
  return problems;
}

/** A document as plain data, maps sorted: what two decodings must agree on. */
function plain(doc: BackupDocument): string {
  const epochs = (m: ReadonlyMap<number, Uint8Array>) => [...m].sort(([a], [b]) => a - b).map(([e, k]) => [e, b64(k)]);
  return JSON.stringify({
    userId: doc.userId,
    identity: b64(doc.identity),
    channelKeys: [...doc.channelKeys].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, m]) => [id, epochs(m)]),
    directoryKeys: epochs(doc.directoryKeys),
  });
}

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const epochKeys = fc
  .uniqueArray(fc.tuple(fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: MAX_EPOCH })), key32), {
    selector: ([e]) => e,
    maxLength: 4,
  })
  .map((entries) => new Map(entries));
// Any non-empty well-formed text (JSON escapes, non-ASCII, astral characters), "__proto__" too.
const anyId = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
  fc.string({ unit: "binary", minLength: 1, maxLength: 12 }),
  fc.constantFrom(CHANNEL, "__proto__", "constructor", "1", "\u0000", "😀", "～"),
);
const backupDocument = fc.record({
  userId: anyId,
  identity: key32,
  channelKeys: fc.uniqueArray(fc.tuple(anyId, epochKeys), { selector: ([id]) => id, maxLength: 4 }).map((entries) => new Map(entries)),
  directoryKeys: epochKeys,
});

function sampleBackupDocument(): BackupDocument {
  return {
    userId: USER,
    identity: bytesOf(32, 3),
    channelKeys: new Map([
      [
        CHANNEL,
        new Map([
          [1, bytesOf(32, 5)],
          [2, bytesOf(32, 6)],
          [10, bytesOf(32, 7)],
        ]),
      ],
      ["😀", new Map([[MAX_EPOCH, bytesOf(32, 8)]])],
    ]),
    directoryKeys: new Map([[3, bytesOf(32, 9)]]),
  };
}

function backupDocumentTarget(): FuzzTarget {
  const bytes = encodeBackupDocument(sampleBackupDocument());
  const text = new TextDecoder().decode(bytes);
  const doc = JSON.parse(text) as Record<string, unknown>;
  const enc = (x: unknown) => new TextEncoder().encode(typeof x === "string" ? x : JSON.stringify(x));
  // One field at a time replaced by any JSON value: at the top, in a channel's map, as an epoch.
  const topSwap = fc
    .tuple(fc.constantFrom(...Object.keys(doc), "extra", "__proto__"), fc.jsonValue())
    .map(([k, v]) => enc({ ...doc, [k]: v }));
  const epochSwap = fc
    .tuple(
      fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.constantFrom("0", "01", "4294967295", "4294967296", "1e3", " 1")),
      fc.jsonValue(),
    )
    .map(([e, v]) => enc({ ...doc, channelKeys: { [CHANNEL]: { [e]: v } }, directoryKeys: { [e]: v } }));
  const channelSwap = fc
    .tuple(fc.oneof(utf16(6), fc.constantFrom("", "\ud800", "__proto__")), fc.jsonValue())
    .map(([id, v]) => enc({ ...doc, channelKeys: { [id]: v } }));
  const version = fc
    .oneof(fc.integer(), fc.double(), fc.constantFrom("1", "1.0", "2e0", "1e400", "-0", "true", "null", "[1]"))
    .map((v) => enc(text.replace('"version":1', `"version":${typeof v === "string" ? v : JSON.stringify(v)}`)));
  return defineTarget({
    name: "backup-document",
    about: "decodeBackupDocument on mutated documents, one field of any JSON value, and encodeBackupDocument round trips",
    input: fc.oneof(
      // A document this module wrote, read by its own account (or, now and then, by another).
      fc.tuple(backupDocument, fc.oneof({ arbitrary: fc.constant(undefined), weight: 5 }, anyId)).map(([d, reader]) => ({
        bytes: encodeBackupDocument(d),
        userId: reader ?? d.userId,
        doc: d as BackupDocument | undefined,
      })),
      fc
        .oneof(mutatedText(text).map(enc), mutatedBytes(bytes), topSwap, epochSwap, channelSwap, version, fc.json().map(enc))
        .map((b) => ({ bytes: b, userId: USER, doc: undefined })),
    ),
    check({ bytes: input, userId, doc: original }) {
      const problems = backupProblems(input, userId);
      let decoded: BackupDocument;
      try {
        decoded = decodeBackupDocument(input, userId);
      } catch (err) {
        const m = (err as Error).message;
        const code = (err as CryptoError).code;
        expectCryptoError(err, "decodeBackupDocument", ["malformed", "unsupported-version", "invalid-input"]);
        const named =
          code === "malformed"
            ? problems.includes("malformed")
            : code === "unsupported-version"
              ? problems.includes("unsupported")
              : problems.some((p) => m.startsWith(`decodeBackupDocument: ${p}`));
        if (!named)
          throw new FuzzFinding(
            `decodeBackupDocument refused ${show(new TextDecoder().decode(input))} with ${code} "${m}"; the problems: ${show(problems)}`,
          );
        return;
      }
      if (problems.length)
        throw new FuzzFinding(`decodeBackupDocument accepted ${show(new TextDecoder().decode(input))}: ${show(problems)}`);
      // Accepted: it re-encodes to a document that decodes to the same keys (nothing half-read),
      // and a document this module wrote reads back exactly.
      const again = decodeBackupDocument(encodeBackupDocument(decoded), userId);
      if (plain(again) !== plain(decoded))
        throw new FuzzFinding(`backup document round trip changed ${show(new TextDecoder().decode(input))}`);
      if (original && plain(decoded) !== plain(original))
        throw new FuzzFinding(`decodeBackupDocument(encodeBackupDocument(d)) is not d: ${show(original)}`);
      if (original && Buffer.compare(encodeBackupDocument(decoded), input) !== 0)
        throw new FuzzFinding(`encodeBackupDocument is not canonical for ${show(original)}`);
    },
  });
}

// ---- the sealed key backup (§10.6) ---------------------------------------------------------

async function keyBackupTarget(): Promise<FuzzTarget> {
  const version = 7n;
  const backupKey = await backupKeyFromRecoveryCode(bytesOf(20, 11), USER);
  const plaintext = encodeBackupDocument(sampleBackupDocument());
  const sealed = await sealKeyBackup(backupKey, USER, version, plaintext);
  const raw = new Uint8Array(Buffer.from(sealed, "base64"));
  const MAX_U64 = 2n ** 64n - 1n;
  return defineTarget({
    name: "key-backup",
    about: "openKeyBackup on mutated sealed backups, under the right version and account or another",
    input: fc.record({
      sealed: fc.oneof(
        { arbitrary: mutatedBytes(raw).map(b64), weight: 3 },
        { arbitrary: mutatedText(sealed), weight: 3 },
        // Another format byte in front of the same nonce, ciphertext and tag.
        { arbitrary: fc.integer({ min: 0, max: 255 }).map((f) => b64(Uint8Array.of(f, ...raw.subarray(1)))), weight: 1 },
      ),
      version: fc.oneof(
        { arbitrary: fc.constant(version), weight: 6 },
        fc.constantFrom(version - 1n, version + 1n, version + 2n ** 32n, 0n, -1n, MAX_U64, MAX_U64 + 1n),
        fc.bigInt({ min: -2n, max: MAX_U64 + 2n }),
      ),
      userId: fc.oneof({ arbitrary: fc.constant(USER), weight: 6 }, mutatedText(USER)),
    }),
    async check(input) {
      const genuine = input.sealed === sealed && input.version === version && input.userId === USER;
      // What must happen, in the order §10.6 states it.
      const decoded = modelBase64(input.sealed);
      const expected =
        !wellFormedId(input.userId) || input.userId.includes("|") || input.version < 1n || input.version > MAX_U64
          ? "invalid-input"
          : decoded === undefined || decoded.length < 29
            ? "malformed"
            : decoded[0] !== 1
              ? "unsupported-version"
              : genuine
                ? "opens"
                : "decrypt-failed";
      let opened: Uint8Array;
      try {
        opened = await openKeyBackup(backupKey, input.userId, input.version, input.sealed);
      } catch (err) {
        expectCryptoError(err, "openKeyBackup", [expected], (m) => m.startsWith("openKeyBackup: "));
        return;
      }
      if (!genuine) throw new FuzzFinding(`openKeyBackup opened a changed backup: ${show(input)}`);
      if (!same(opened, plaintext)) throw new FuzzFinding("openKeyBackup opened the backup to other bytes");
      decodeBackupDocument(opened, USER);
    },
  });
}

// ---- signed statements (§10.2) -------------------------------------------------------------

type Field = "kind" | "userId" | "deviceId" | "channelId" | "devicePublicKey" | "identityPublicKey" | "keyHash" | "epoch" | "role";
const TEXT_FIELDS = new Set<string>(["userId", "deviceId", "channelId"]);
const FIELDS: Record<Statement["kind"], Field[]> = {
  "device-cert": ["userId", "deviceId", "devicePublicKey"],
  "device-revoked": ["userId", "deviceId"],
  admission: ["userId", "identityPublicKey", "role"],
  removal: ["userId", "identityPublicKey"],
  "channel-key": ["channelId", "epoch", "keyHash"],
  "directory-key": ["epoch", "keyHash"],
};

/** The signed text of a statement by §10.2, or undefined when a field breaks its rules. */
function modelStatementText(s: unknown): string | undefined {
  if (typeof s !== "object" || s === null) return undefined;
  const r = s as Record<string, unknown>;
  if (typeof r["kind"] !== "string" || !Object.hasOwn(FIELDS, r["kind"])) return undefined;
  const fields = FIELDS[r["kind"] as Statement["kind"]];
  const out: string[] = [];
  for (const f of fields) {
    const v = r[f];
    if (TEXT_FIELDS.has(f)) {
      // Non-empty, no "|", and text UTF-8 can carry: a lone surrogate would be signed as U+FFFD.
      if (!wellFormedId(v) || v.includes("|")) return undefined;
      out.push(v);
    } else if (f === "epoch") {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_EPOCH) return undefined;
      out.push(String(v));
    } else if (f === "role") {
      if (v !== "member" && v !== "admin") return undefined;
      out.push(v);
    } else {
      if (!(v instanceof Uint8Array) || v.length !== 32) return undefined;
      out.push(b64(v));
    }
  }
  return [`dialtone/v1/${r["kind"]}`, ...out].join("|");
}

/** S + k·L: the same point equation, a signature RFC 8032 §5.1.7 refuses (S ≥ L). */
function malleated(signature: Uint8Array, k: number): Uint8Array {
  const out = signature.slice();
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(out[i]!);
  s += BigInt(k) * ED25519_L;
  for (let i = 32; i < 64; i++, s >>= 8n) out[i] = Number(s & 0xffn);
  return out;
}

async function statementTarget(): Promise<FuzzTarget> {
  const identity = await identityKeyPairFromSeed(bytesOf(32, 21));
  const statements: Statement[] = [
    { kind: "device-cert", userId: USER, deviceId: DEVICE, devicePublicKey: bytesOf(32, 31) },
    { kind: "device-revoked", userId: USER, deviceId: DEVICE },
    { kind: "admission", userId: USER, identityPublicKey: identity.publicKey, role: "admin" },
    { kind: "removal", userId: USER, identityPublicKey: bytesOf(32, 41) },
    { kind: "channel-key", channelId: CHANNEL, epoch: 3, keyHash: bytesOf(32, 51) },
    { kind: "directory-key", epoch: MAX_EPOCH, keyHash: bytesOf(32, 61) },
    // Fields are any text without "|": non-ASCII ones too, U+FFFD (what a lone surrogate becomes in UTF-8) among them.
    { kind: "device-revoked", userId: "\ufffd-é-😀", deviceId: "d\ufffd" },
  ];
  const signed = await Promise.all(
    statements.map(async (statement) => {
      const signature = await signStatement(identity.privateKey, statement);
      const text = modelStatementText(statement)!;
      return { statement, text, signature, sigBytes: new Uint8Array(Buffer.from(signature, "base64")) };
    }),
  );
  const value = (field: Field, original: unknown): fc.Arbitrary<unknown> => {
    if (field === "kind") return fc.constantFrom(...Object.keys(FIELDS), "device", "", "__proto__", "toString");
    if (field === "epoch")
      return fc.oneof(
        fc.integer({ min: -2, max: 2 ** 33 }),
        fc.constantFrom(0, 1, 2, 4, MAX_EPOCH, MAX_EPOCH + 1, 3.5, Number.NaN, -0, Number.POSITIVE_INFINITY, "3", 3n),
      );
    if (field === "role") return fc.oneof(fc.constantFrom("member", "admin", "Admin", "admin ", "root", ""), fc.string({ maxLength: 8 }));
    if (TEXT_FIELDS.has(field))
      return fc.oneof(
        mutatedText(original as string),
        utf16(12),
        fc.constantFrom("", "|", `${original as string}|x`, (original as string).replaceAll("\ufffd", "\ud800")),
      );
    return mutatedBytes(original as Uint8Array);
  };
  const mutation = fc.constantFrom(...signed).chain((sig) => {
    const fields: Field[] = ["kind", ...FIELDS[sig.statement.kind]];
    const signature = fc.oneof(
      mutatedBytes(sig.sigBytes).map(b64),
      mutatedText(sig.signature),
      fc.integer({ min: 1, max: 14 }).map((k) => b64(malleated(sig.sigBytes, k))),
    );
    const field = fc
      .constantFrom(...fields)
      .chain((f) =>
        fc
          .oneof({ arbitrary: value(f, (sig.statement as Record<string, unknown>)[f]), weight: 4 }, fc.anything())
          .map((v) => [f, v] as const),
      )
      .map(([f, v]) => ({ ...sig, statement: { ...sig.statement, [f]: v } as Statement }));
    return fc.oneof(
      { arbitrary: signature.map((signature) => ({ ...sig, signature, publicKey: identity.publicKey })), weight: 4 },
      { arbitrary: field.map((s) => ({ ...s, publicKey: identity.publicKey })), weight: 4 },
      { arbitrary: mutatedBytes(identity.publicKey).map((publicKey) => ({ ...sig, publicKey })), weight: 1 },
      {
        arbitrary: fc.anything().map((statement) => ({ ...sig, statement: statement as Statement, publicKey: identity.publicKey })),
        weight: 1,
      },
      { arbitrary: fc.constant({ ...sig, publicKey: identity.publicKey }), weight: 1 },
    );
  });
  return defineTarget({
    name: "statement",
    about: "verifyStatement on mutated signatures (S + kL too), statement fields of any value and public keys",
    input: mutation,
    async check({ statement, signature, publicKey }) {
      const text = modelStatementText(statement);
      let ok: boolean;
      try {
        ok = await verifyStatement(publicKey, statement, signature);
      } catch (err) {
        expectCryptoError(err, "verifyStatement", ["invalid-input"], (m) => m.startsWith("verifyStatement: "));
        if (text !== undefined && publicKey.length === 32)
          throw new FuzzFinding(`verifyStatement refused a well-formed statement ${show(statement)}: ${(err as Error).message}`);
        return;
      }
      if (text === undefined) throw new FuzzFinding(`verifyStatement took a statement that breaks §10.2's rules: ${show(statement)}`);
      if (typeof ok !== "boolean") throw new FuzzFinding(`verifyStatement returned ${show(ok)}`);
      // It verifies exactly when the text, the signature and the key are the ones signed.
      const genuine = same(publicKey, identity.publicKey) && signed.some((x) => x.signature === signature && x.text === text);
      if (ok && !genuine)
        throw new FuzzFinding(`verifyStatement verified a changed statement or signature: ${show({ statement, signature })}`);
      if (!ok && genuine) throw new FuzzFinding(`verifyStatement refused the genuine signature of ${show(statement)}`);
    },
  });
}

export async function identityTargets(): Promise<FuzzTarget[]> {
  return [inviteTarget(), recoveryTarget(), backupDocumentTarget(), await keyBackupTarget(), await statementTarget()];
}
