// Key statements: an account vouches for a channel or directory key by signing its hash with its
// identity key. The server checks each signature and stores one statement per signer and epoch;
// clients decide whose statements count (an admitted member's for channels, an admin's for the directory).
import { KeyKind } from "../../gen/dialtone/v1/envelope_pb.js";
import { findChannelIds } from "../db/repos/channels.js";
import * as repo from "../db/repos/key-statements.js";
import type { Caller, Deps } from "./deps.js";
import { invalid, notFound } from "./errors.js";
import { identityKeyOf } from "./identities.js";
import { keyFilter, sharedKeyScope } from "./key-scopes.js";
import { channelKey, directoryKey, verifierFor } from "./statements.js";
import { digest, epoch, LIMITS, signature } from "./validate.js";

type Input = { kind: KeyKind; scopeId: string; epoch: number; keyHash: string; signature: string };

/** Stores 1 to 1000 statements signed by the caller's identity key, all or none; returns how many were new. */
export async function putKeyStatements(deps: Deps, caller: Caller, inputs: Input[]): Promise<number> {
  if (!inputs.length) throw invalid("statements", "required");
  if (inputs.length > LIMITS.statementsPerCall) throw invalid("statements", `at most ${LIMITS.statementsPerCall} per call`);
  const now = deps.now();
  const parsed = inputs.map((s, i) => {
    const f = `statements[${i}]`;
    const scope = sharedKeyScope(f, s.kind, s.scopeId);
    return {
      field: f,
      channelId: scope.channelId,
      row: {
        kind: scope.kind as number,
        scopeId: scope.scopeId,
        epoch: epoch(`${f}.epoch`, s.epoch),
        signerUserId: caller.userId,
        keyHash: digest(`${f}.key_hash`, s.keyHash),
        signature: signature(`${f}.signature`, s.signature),
        createdAt: now,
      },
    };
  });
  const check = verifierFor(await identityKeyOf(deps, caller.userId), "your identity key");
  for (const { field, row } of parsed) {
    const data = row.kind === KeyKind.CHANNEL ? channelKey(row.scopeId, row.epoch, row.keyHash) : directoryKey(row.epoch, row.keyHash);
    check(`${field}.signature`, data, row.signature);
  }
  const db = deps.database.db;
  const known = await findChannelIds(db, [...new Set(parsed.flatMap((p) => (p.channelId ? [p.channelId] : [])))]);
  const unknown = parsed.find((p) => p.channelId !== null && !known.has(p.channelId));
  if (unknown) throw notFound("channel", `${unknown.field}.scope_id`);
  return repo.insertKeyStatements(
    db,
    parsed.map((p) => p.row),
  );
}

export async function listKeyStatements(deps: Deps, req: { kind: KeyKind; scopeId: string }) {
  const { kind, scopeId } = keyFilter(req);
  return repo.listKeyStatements(deps.database.db, kind, scopeId);
}
