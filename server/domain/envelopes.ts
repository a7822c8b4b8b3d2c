// Key envelopes. The server fills in the sender from the session, so a client cannot
// write in another device's name. Each sender keeps one envelope per recipient and key; the
// recipient acknowledges what it accepted (or refused), which is what "missing" is based on,
// so junk written by one member cannot keep a key from a device. An account's identity and
// backup keys travel the same way, only between devices of that account.
import { KeyKind } from "../../gen/dialtone/v1/envelope_pb.js";
import { findChannelIds } from "../db/repos/channels.js";
import { findDevicesByIds } from "../db/repos/devices.js";
import * as repo from "../db/repos/envelopes.js";
import type { Caller, Deps } from "./deps.js";
import { invalid, notFound } from "./errors.js";
import { envelopeKeyScope, keyFilter } from "./key-scopes.js";
import { envelopeCiphertext, epoch, LIMITS, uuid } from "./validate.js";
import { ephemeral } from "./wire.js";

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
    const { kind, scopeId, channelId } = envelopeKeyScope(f, e.kind, e.scopeId, caller.userId);
    const recipientDeviceId = uuid(`${f}.recipient_device_id`, e.recipientDeviceId);
    const keyEpoch = epoch(`${f}.epoch`, e.epoch);
    if (ownKey(kind) && keyEpoch !== 1) throw invalid(`${f}.epoch`, "must be 1 for identity and backup keys");
    return {
      kind: kind as number,
      scopeId,
      channelId,
      epoch: keyEpoch,
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
  const foreign = rows.findIndex((r) => ownKey(r.kind) && devices.get(r.recipientDeviceId)!.userId !== caller.userId);
  if (foreign >= 0) {
    throw invalid(`envelopes[${foreign}].recipient_device_id`, "identity and backup keys go only to devices of your own account");
  }
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

/** An account's own key (identity, backup): only its devices exchange it. */
const ownKey = (kind: number) => kind === KeyKind.IDENTITY || kind === KeyKind.BACKUP;

export async function listEnvelopes(deps: Deps, caller: Caller, req: { kind: KeyKind; scopeId: string }) {
  const { kind, scopeId } = keyFilter(req);
  const rows = await repo.listEnvelopesFor(deps.database.db, caller.deviceId, kind, scopeId);
  const senders = new Map(
    (await findDevicesByIds(deps.database.db, [...new Set(rows.map((r) => r.senderDeviceId))])).map((d) => [d.id, d]),
  );
  return rows.map((r) => ({ ...r, sender: senders.get(r.senderDeviceId)! }));
}

export async function listMissingEnvelopes(deps: Deps, caller: Caller, req: { kind: KeyKind; scopeId: string }) {
  const { kind, scopeId } = keyFilter(req);
  return repo.listMissingEnvelopes(deps.database.db, caller.deviceId, kind, scopeId, 1000);
}

type Ref = { kind: KeyKind; scopeId: string; epoch: number; senderDeviceId: string };

function envelopeRefs(field: string, refs: Ref[], userId: string): repo.EnvelopeKey[] {
  return refs.map((r, i) => {
    const f = `${field}[${i}]`;
    const { kind, scopeId } = envelopeKeyScope(f, r.kind, r.scopeId, userId);
    return { kind, scopeId, epoch: epoch(`${f}.epoch`, r.epoch), senderDeviceId: uuid(`${f}.sender_device_id`, r.senderDeviceId) };
  });
}

/** The recipient's verdict on envelopes addressed to it: accepted ones are marked, rejected ones deleted. */
export async function acknowledgeEnvelopes(deps: Deps, caller: Caller, req: { accepted: Ref[]; rejected: Ref[] }) {
  if (!req.accepted.length && !req.rejected.length) throw invalid("accepted", "accepted or rejected is required");
  if (req.accepted.length + req.rejected.length > LIMITS.envelopesPerCall) {
    throw invalid("accepted", `at most ${LIMITS.envelopesPerCall} references in all`);
  }
  const accepted = envelopeRefs("accepted", req.accepted, caller.userId);
  const rejected = envelopeRefs("rejected", req.rejected, caller.userId);
  return repo.acknowledgeEnvelopes(deps.database.db, caller.deviceId, accepted, rejected, deps.now());
}
