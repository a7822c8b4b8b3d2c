// What every RPC does with a request before it touches the database: protobuf decoding (binary
// and JSON, as connect-node does it) of each request message of the public API, and the field
// rules of server/domain/validate.ts, usernames and passwords that the handlers apply.
import { create, fromBinary, fromJsonString, toBinary, type DescMessage } from "@bufbuild/protobuf";
import fc from "fast-check";
import { SERVICES } from "../../../server/connect.js";
import { diagnoseDecode } from "../../../server/http/decode-diagnosis.js";
import { DomainError } from "../../../server/domain/errors.js";
import { checkPasswordRules } from "../../../server/domain/passwords.js";
import { normaliseUsername } from "../../../server/domain/usernames.js";
import * as v from "../../../server/domain/validate.js";
import { b64, mutatedBytes, mutatedText } from "../mutate.js";
import { defineTarget, FuzzFinding, type FuzzTarget } from "../target.js";

/** Every request message of the public API. */
export const REQUESTS: DescMessage[] = [...new Set(SERVICES.flatMap((s) => s.methods.map((m) => m.input)))];

/** A plausible encoded request per schema, to mutate: every scalar field set. */
function sample(schema: DescMessage): Uint8Array {
  const init: Record<string, unknown> = {};
  for (const f of schema.fields) {
    if (f.fieldKind !== "scalar") continue;
    const t = f.scalar;
    init[f.localName] =
      t === 9
        ? "9d3b3e62-6a5b-4b8e-9a51-7b2f0c1d2e3f"
        : t === 8
          ? true
          : t === 12
            ? new Uint8Array([1, 2, 3])
            : [3, 4, 6, 16, 18].includes(t)
              ? 7n
              : 7;
  }
  return toBinary(schema, create(schema, init));
}

/** A diagnosis names a path ("envelopes[2].ciphertext", "rejected[0].field 9") or the request. */
const SEGMENT = String.raw`(?:[a-z_][a-z0-9_]*(?:\[\d+\])?|field \d+)`;
const DIAGNOSIS = new RegExp(String.raw`^(?:request|${SEGMENT}(?:\.${SEGMENT})*): \S`);

// connect-node's reading (server/app.ts): binary skips unknown fields, JSON refuses them.
const BINARY_READ = { readUnknownFields: false } as const;
const JSON_READ = { ignoreUnknownFields: false } as const;

/**
 * protobuf-es refuses bad input with Error, SyntaxError (JSON), RangeError ("premature EOF",
 * "invalid wire type") or, for a string field that is not UTF-8, TextDecoder's TypeError. Any
 * other TypeError or a ReferenceError would be a decoder bug.
 *
 * Found by this target: connect-node answers every binary decoding failure as `internal`
 * ("parse binary: …", HTTP 500), not `invalid_argument` naming the field; the parse runs before
 * any interceptor. Fixed by server/http/decode-errors.ts, whose diagnosis is checked here too:
 * it names a field for every message that fails to decode, and nothing for one that decodes.
 */
function decodingError(err: unknown): boolean {
  // By name: under jest, errors from Node's internals come from another realm than the test's.
  if (!(err instanceof Error) && !(typeof err === "object" && err !== null && "name" in err)) return false;
  const { name, message } = err as Error;
  if (name === "TypeError") return /not valid for encoding utf-8/.test(message);
  return name !== "ReferenceError";
}

/** Refused with invalid_argument naming `field` (or an indexed/nested form of it). */
function refusedNaming(err: unknown, field: string): boolean {
  return err instanceof DomainError && err.code === "invalid_argument" && err.message.startsWith(`${field}: `);
}

type Rule = { field: string; run: (s: string) => unknown; accepts: (s: string) => boolean };
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const canonical = (s: string) => B64.test(s) && Buffer.from(s, "base64").toString("base64") === s;
const RULES: Rule[] = [
  {
    field: "channel_id",
    run: (s) => v.uuid("channel_id", s),
    accepts: (s) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s),
  },
  {
    field: "encrypted_body",
    run: (s) => v.sealed("encrypted_body", s, 4096, 3),
    accepts: (s) =>
      s.length <= 4096 &&
      canonical(s) &&
      Buffer.from(s, "base64")[0] === 1 &&
      Buffer.from(s, "base64").length >= 33 &&
      Buffer.from(s, "base64").readUInt32BE(1) === 3,
  },
  {
    field: "ciphertext",
    run: (s) => v.envelopeCiphertext("ciphertext", s),
    accepts: (s) => canonical(s) && Buffer.from(s, "base64").length === 93 && Buffer.from(s, "base64")[0] === 1,
  },
  {
    field: "device_public_key",
    run: (s) => v.publicKey("device_public_key", s),
    accepts: (s) => canonical(s) && Buffer.from(s, "base64").length === 32 && !Buffer.from(s, "base64").every((b) => b === 0),
  },
  {
    field: "public_key",
    run: (s) => v.identityKey("public_key", s),
    accepts: (s) => canonical(s) && Buffer.from(s, "base64").length === 32 && !Buffer.from(s, "base64").every((b) => b === 0),
  },
  {
    field: "signature",
    run: (s) => v.signature("signature", s),
    accepts: (s) => canonical(s) && Buffer.from(s, "base64").length === 64,
  },
  { field: "key_hash", run: (s) => v.digest("key_hash", s), accepts: (s) => canonical(s) && Buffer.from(s, "base64").length === 32 },
  { field: "username", run: (s) => normaliseUsername(s), accepts: (s) => [...s.normalize("NFKC").trim()].length >= 2 },
  { field: "password", run: (s) => checkPasswordRules(s), accepts: (s) => [...s].length >= 8 },
  { field: "name", run: (s) => v.required("name", s, 64), accepts: (s) => s.length >= 1 && s.length <= 64 },
];

export async function requestTargets(): Promise<FuzzTarget[]> {
  const samples = REQUESTS.map((schema) => ({ schema, bytes: sample(schema) }));
  // 46 and 47 bytes: base64 with "==" and "=" padding, where non-canonical text can hide.
  const sealedSeed = Buffer.concat([Buffer.from([1, 0, 0, 0, 3]), Buffer.alloc(41, 0x41)]);
  const sealedSeed2 = Buffer.concat([Buffer.from([1, 0, 0, 0, 3]), Buffer.alloc(42, 0x41)]);
  return [
    defineTarget({
      name: "rpc-decode",
      about: `binary and JSON decoding of the ${REQUESTS.length} request messages, as connect-node reads them`,
      input: fc.oneof(
        ...samples.map(({ schema, bytes }) =>
          fc.record({ schema: fc.constant(schema), binary: mutatedBytes(bytes), json: fc.constant(undefined) }),
        ),
        ...samples.map(({ schema }) =>
          fc.record({
            schema: fc.constant(schema),
            binary: fc.constant(undefined),
            json: fc.oneof(fc.json({ maxDepth: 4 }), mutatedText(`{"channelId":"x","keyEpoch":1,"afterSeq":"5"}`)),
          }),
        ),
      ),
      check({ schema, binary, json }) {
        let decoded = false;
        try {
          const msg = binary ? fromBinary(schema, binary, BINARY_READ) : fromJsonString(schema, json!, JSON_READ);
          decoded = true;
          // Whatever decodes must encode again (no half-built message reaches a handler).
          toBinary(schema, msg);
        } catch (err) {
          if (!decodingError(err))
            throw new FuzzFinding(`${schema.typeName}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
        }
        if (!binary) return;
        const why = diagnoseDecode(schema, binary);
        if (decoded !== (why === undefined) || (why !== undefined && !DIAGNOSIS.test(why))) {
          throw new FuzzFinding(`${schema.typeName}: decoded ${decoded}, diagnosis ${JSON.stringify(why)}`);
        }
      },
    }),
    defineTarget({
      name: "field-rules",
      about:
        "the field rules every handler applies (ids, sealed values, envelopes, public keys, signatures, hashes, usernames, passwords, limits, epochs, seqs)",
      input: fc.oneof(
        fc.record({
          rule: fc.constantFrom(...RULES),
          text: fc.oneof(
            fc.string({ maxLength: 80 }),
            fc.string({ unit: "binary", maxLength: 40 }),
            mutatedBytes(sealedSeed).map(b64),
            mutatedText(b64(sealedSeed)),
            mutatedText(b64(sealedSeed2)),
            // 32 and 64 bytes: keys, hashes and signatures ("=" and "==" padding).
            mutatedText(b64(Buffer.alloc(32, 0x41))),
            mutatedText(b64(Buffer.alloc(64, 0x41))),
            mutatedText("9d3b3e62-6a5b-4b8e-9a51-7b2f0c1d2e3f"),
          ),
        }),
        fc.record({
          rule: fc.constant(undefined),
          text: fc.constant(""),
          epoch: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1)),
          seq: fc.bigInt({ min: -(2n ** 65n), max: 2n ** 65n }),
        }),
      ),
      check(input) {
        if (input.rule === undefined) {
          const { epoch, seq } = input as { epoch: number; seq: bigint };
          const epochOk = Number.isInteger(epoch) && epoch >= 1 && epoch <= 2 ** 31 - 1;
          try {
            v.epoch("key_epoch", epoch);
            if (!epochOk) throw new FuzzFinding(`epoch ${epoch} accepted`);
          } catch (err) {
            if (err instanceof FuzzFinding || !refusedNaming(err, "key_epoch") || epochOk) throw err;
          }
          const seqOk = seq >= 0n && seq <= 2n ** 63n - 1n;
          try {
            v.seq("before_seq", seq);
            if (!seqOk) throw new FuzzFinding(`seq ${seq} accepted`);
          } catch (err) {
            if (err instanceof FuzzFinding || !refusedNaming(err, "before_seq") || seqOk) throw err;
          }
          return;
        }
        const { rule, text } = input;
        try {
          rule.run(text);
        } catch (err) {
          if (refusedNaming(err, rule.field)) return;
          throw new FuzzFinding(
            `${rule.field}: ${JSON.stringify(text)} failed with ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
          );
        }
        if (!rule.accepts(text)) throw new FuzzFinding(`${rule.field}: accepted ${JSON.stringify(text)}`);
      },
    }),
  ];
}
