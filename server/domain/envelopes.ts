// Key envelopes. The server fills in the sender from the session, so a client cannot
// write in another device's name. Each sender keeps one envelope per recipient and key; the
// recipient acknowledges what it accepted (or refused), which is what "missing" is based on,
// so junk written by one member cannot keep a key from a device.
import { KeyKind } from "../../gen/dialtone/v1/envelope_pb.js";
import { findChannelIds } from "../db/repos/channels.js";
import { findDevicesByIds } from "../db/repos/devices.js";
import * as repo from "../db/repos/envelopes.js";
import type { Caller, Deps } from "./deps.js";
import { invalid, notFound } from "./errors.js";
import { envelopeCiphertext, epoch, LIMITS, uuid } from "./validate.js";
import { ephemeral } from "./wire.js";

export const DIRECTORY_SCOPE = "directory";

function kindAndScope(field: string, kind: KeyKind, scopeId: string): { kind: KeyKind; scopeId: string; channelId: string | null } {
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

export async function putEnvelopes(
  deps: Deps,
  caller: Caller,
  inputs: Array<{ kind: KeyKind; scopeId: string; epoch: number; recipientDeviceId: string; ciphertext: string }>,
) {
  if (!inputs.length) throw invalid("envelopes", "required");
  if (inputs.length > LIMITS.envelopesPerCall) throw invalid("envelopes", `at most ${LIMITS.envelopesPerCall} per call`);
  const now = deps.now();
  const rows = inputs.map((e, i) => {
    const f = `envelopes[${i}]`;
    const { kind, scopeId, channelId } = kindAndScope(f, e.kind, e.scopeId);
    const recipientDeviceId = uuid(`${f}.recipient_device_id`, e.recipientDeviceId);
    return {
      kind: kind as number,
      scopeId,
      channelId,
      epoch: epoch(`${f}.epoch`, e.epoch),
      recipientDeviceId,
      senderDeviceId: caller.deviceId,
      ciphertext: envelopeCiphertext(`${f}.ciphertext`, e.ciphertext),
      createdAt: now,
      // a device writing to itself already holds the key
      acceptedAt: recipientDeviceId === caller.deviceId ? now : null,
    };
  });
  const db = deps.database.db;
  const channelIds = [...new Set(rows.flatMap((r) => (r.channelId ? [r.channelId] : [])))];
  const known = await findChannelIds(db, channelIds);
  const missingChannel = rows.findIndex((r) => r.channelId !== null && !known.has(r.channelId));
  if (missingChannel >= 0) throw notFound("channel", `envelopes[${missingChannel}].scope_id`);
  const recipients = [...new Set(rows.map((r) => r.recipientDeviceId))];
  const devices = new Map((await findDevicesByIds(db, recipients)).map((d) => [d.id, d]));
  const bad = rows.findIndex((r) => !devices.get(r.recipientDeviceId) || devices.get(r.recipientDeviceId)!.revokedAt);
  if (bad >= 0) throw notFound("device", `envelopes[${bad}].recipient_device_id`);
  const stored = await repo.insertEnvelopes(db, rows);
  for (const r of stored) {
    deps.bus.publishEphemeral({
      audience: { kind: "device", deviceId: r.recipientDeviceId },
      event: ephemeral(
        { case: "keyShared", value: { kind: r.kind, scopeId: r.scopeId, epoch: r.epoch, senderDeviceId: r.senderDeviceId } },
        now,
      ),
    });
  }
  return { stored: stored.length, alreadyPresent: rows.length - stored.length };
}

/**
 * The kind and scope filter of the list calls: either may be unset; a set scope is a channel id
 * (UUID, stored lower-case) or "directory", and must fit a set kind.
 */
function listFilter(req: { kind: KeyKind; scopeId: string }): { kind: KeyKind | undefined; scopeId: string | undefined } {
  if (req.kind !== KeyKind.UNSPECIFIED && req.kind !== KeyKind.CHANNEL && req.kind !== KeyKind.DIRECTORY) {
    throw invalid("kind", "unknown key kind");
  }
  const kind = req.kind === KeyKind.UNSPECIFIED ? undefined : req.kind;
  if (!req.scopeId) return { kind, scopeId: undefined };
  if (req.scopeId === DIRECTORY_SCOPE) {
    if (kind === KeyKind.CHANNEL) throw invalid("scope_id", "must be a channel id (UUID) for channel keys");
    return { kind, scopeId: DIRECTORY_SCOPE };
  }
  if (kind === KeyKind.DIRECTORY) throw invalid("scope_id", `must be "${DIRECTORY_SCOPE}" for directory keys`);
  return { kind, scopeId: uuid("scope_id", req.scopeId) };
}

export async function listEnvelopes(deps: Deps, caller: Caller, req: { kind: KeyKind; scopeId: string }) {
  const { kind, scopeId } = listFilter(req);
  const rows = await repo.listEnvelopesFor(deps.database.db, caller.deviceId, kind, scopeId);
  const senders = new Map(
    (await findDevicesByIds(deps.database.db, [...new Set(rows.map((r) => r.senderDeviceId))])).map((d) => [d.id, d]),
  );
  return rows.map((r) => ({ ...r, sender: senders.get(r.senderDeviceId)! }));
}

export async function listMissingEnvelopes(deps: Deps, caller: Caller, req: { kind: KeyKind; scopeId: string }) {
  const { kind, scopeId } = listFilter(req);
  return repo.listMissingEnvelopes(deps.database.db, caller.deviceId, kind, scopeId, 1000);
}

type Ref = { kind: KeyKind; scopeId: string; epoch: number; senderDeviceId: string };

function envelopeRefs(field: string, refs: Ref[]): repo.EnvelopeKey[] {
  return refs.map((r, i) => {
    const f = `${field}[${i}]`;
    const { kind, scopeId } = kindAndScope(f, r.kind, r.scopeId);
    return { kind, scopeId, epoch: epoch(`${f}.epoch`, r.epoch), senderDeviceId: uuid(`${f}.sender_device_id`, r.senderDeviceId) };
  });
}

/** The recipient's verdict on envelopes addressed to it: accepted ones are marked, rejected ones deleted. */
export async function acknowledgeEnvelopes(deps: Deps, caller: Caller, req: { accepted: Ref[]; rejected: Ref[] }) {
  if (!req.accepted.length && !req.rejected.length) throw invalid("accepted", "accepted or rejected is required");
  if (req.accepted.length + req.rejected.length > LIMITS.envelopesPerCall) {
    throw invalid("accepted", `at most ${LIMITS.envelopesPerCall} references in all`);
  }
  const accepted = envelopeRefs("accepted", req.accepted);
  const rejected = envelopeRefs("rejected", req.rejected);
  return repo.acknowledgeEnvelopes(deps.database.db, caller.deviceId, accepted, rejected, deps.now());
}
