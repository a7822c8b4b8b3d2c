// Which key a (kind, scope, epoch) names, shared by envelopes and key statements: a channel key
// (scope: the channel id), the directory key (scope "directory"), and an account's own identity
// and backup keys (scope: its user id, epoch 1), which only that account's devices hand around.
import { KeyKind } from "../../gen/dialtone/v1/envelope_pb.js";
import { invalid } from "./errors.js";
import { uuid } from "./validate.js";

export const DIRECTORY_SCOPE = "directory";

export type KeyScope =
  | { kind: KeyKind.CHANNEL; scopeId: string; channelId: string }
  | { kind: KeyKind.DIRECTORY; scopeId: typeof DIRECTORY_SCOPE; channelId: null }
  | { kind: KeyKind.IDENTITY | KeyKind.BACKUP; scopeId: string; channelId: null };

/** The shared keys: those of channels and the directory. */
export type SharedKind = KeyKind.CHANNEL | KeyKind.DIRECTORY;

/** A channel or directory key's kind and scope; `field` is the request field holding both (`envelopes[3]`). */
export function sharedKeyScope(field: string, kind: KeyKind, scopeId: string): KeyScope & { kind: SharedKind } {
  if (kind === KeyKind.CHANNEL) {
    const id = uuid(`${field}.scope_id`, scopeId);
    return { kind, scopeId: id, channelId: id };
  }
  if (kind === KeyKind.DIRECTORY) {
    if (scopeId !== DIRECTORY_SCOPE) throw invalid(`${field}.scope_id`, `must be "${DIRECTORY_SCOPE}" for directory keys`);
    return { kind, scopeId, channelId: null };
  }
  throw invalid(`${field}.kind`, "must be KEY_KIND_CHANNEL or KEY_KIND_DIRECTORY");
}

/** Any key's kind and scope, for envelopes written by an account (`userId`): its own identity and backup keys too. */
export function envelopeKeyScope(field: string, kind: KeyKind, scopeId: string, userId: string): KeyScope {
  if (kind !== KeyKind.IDENTITY && kind !== KeyKind.BACKUP) {
    if (kind === KeyKind.CHANNEL || kind === KeyKind.DIRECTORY) return sharedKeyScope(field, kind, scopeId);
    throw invalid(`${field}.kind`, "must be KEY_KIND_CHANNEL, KEY_KIND_DIRECTORY, KEY_KIND_IDENTITY or KEY_KIND_BACKUP");
  }
  if (uuid(`${field}.scope_id`, scopeId) !== userId) {
    throw invalid(`${field}.scope_id`, "must be your own user id for identity and backup keys");
  }
  return { kind, scopeId: userId, channelId: null };
}

/**
 * The kind and scope filter of the list calls: either may be unset; a set scope is a UUID (a
 * channel or, for identity and backup keys, an account; stored lower-case) or "directory", and
 * must fit a set kind.
 */
export function keyFilter(req: { kind: KeyKind; scopeId: string }): { kind: KeyKind | undefined; scopeId: string | undefined } {
  if (!Object.values(KeyKind).includes(req.kind)) throw invalid("kind", "unknown key kind");
  const kind = req.kind === KeyKind.UNSPECIFIED ? undefined : req.kind;
  if (!req.scopeId) return { kind, scopeId: undefined };
  if (req.scopeId === DIRECTORY_SCOPE) {
    if (kind !== undefined && kind !== KeyKind.DIRECTORY) throw invalid("scope_id", "must be a UUID (a channel or user id) for this kind");
    return { kind, scopeId: DIRECTORY_SCOPE };
  }
  if (kind === KeyKind.DIRECTORY) throw invalid("scope_id", `must be "${DIRECTORY_SCOPE}" for directory keys`);
  return { kind, scopeId: uuid("scope_id", req.scopeId) };
}
