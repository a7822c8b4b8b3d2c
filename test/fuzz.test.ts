// A short, seeded run of every fuzz target (npm run fuzz runs them for as long as you like), and
// what the fuzzers have found, kept as cases.
import { describe, expect, test } from "@jest/globals";
import { fromBinary } from "@bufbuild/protobuf";
import { decodeBackupDocument, generateIdentityKeyPair, signStatement, verifyStatement } from "../client/crypto/index.js";
import { LoginRequestSchema } from "../gen/dialtone/v1/auth_service_pb.js";
import { parseSignal } from "../voiced/rtc/signal.js";
import { allTargets } from "./fuzz/all.js";
import { drive } from "./fuzz/drive.js";
import type { FuzzTarget } from "./fuzz/target.js";

const targets: FuzzTarget[] = await allTargets();
// Envelopes cost an X25519 and an HKDF each: fewer runs for the same time.
const RUNS: Record<string, number> = { envelope: 150 };

describe("fuzz smoke (seeded)", () => {
  test("every parser has a target", () => {
    expect(targets.map((t) => t.name).sort()).toEqual([
      "backup-document",
      "envelope",
      "field-rules",
      "ice-config",
      "invite-code",
      "key-backup",
      "keystore-document",
      "keystore-file",
      "recovery-code",
      "rpc-decode",
      "sealed-field",
      "statement",
      "subscribe-request",
      "voice-signal",
    ]);
  });

  test.each(targets.map((t) => [t.name, t] as const))("%s", async (_name, target) => {
    const r = await drive(target, { runs: RUNS[target.name] ?? 1500, seed: 20261202 });
    expect(r.failure).toBeUndefined();
    expect(r.executions).toBe(RUNS[target.name] ?? 1500);
  });
});

describe("findings", () => {
  test("voice-signal: JSON that is not an object is refused as a bad signal, not a TypeError", () => {
    for (const text of ["null", "[]", "5", '"x"']) expect(() => parseSignal(text)).toThrow(/^signal: not a JSON object$/);
  });

  test("statement: a lone surrogate in a field is refused; it was signed as U+FFFD, so one signature verified two statements", async () => {
    const id = await generateIdentityKeyPair();
    const signature = await signStatement(id.privateKey, { kind: "device-revoked", userId: "u\ufffd", deviceId: "d" });
    await expect(verifyStatement(id.publicKey, { kind: "device-revoked", userId: "u\ud800", deviceId: "d" }, signature)).rejects.toThrow(
      "verifyStatement: user id must not contain a lone surrogate",
    );
  });

  test("backup-document: version 0 is no version (invalid-input), not a newer client's (unsupported-version)", () => {
    const doc = new TextEncoder().encode('{"version":0,"userId":"u"}');
    expect(() => decodeBackupDocument(doc, "u")).toThrow(
      expect.objectContaining({ code: "invalid-input", message: "decodeBackupDocument: version must be an integer of at least 1, not 0" }),
    );
  });

  test("rpc-decode: a string field that is not UTF-8 fails to decode with a TypeError (connect-node then answers internal: issue 12)", () => {
    const bytes = Uint8Array.from([10, 2, 0xb9, 0x64]); // LoginRequest.username = b"\xb9d"
    expect(() => fromBinary(LoginRequestSchema, bytes)).toThrow(/not valid for encoding utf-8/);
  });
});
