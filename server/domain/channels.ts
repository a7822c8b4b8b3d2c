// Channels: anyone lists them, admins create, rename and delete them; any member moves one to
// its next key epoch.
import * as repo from "../db/repos/channels.js";
import type { Caller, Deps } from "./deps.js";
import { aborted, DomainError, denied, notFound } from "./errors.js";
import { epoch, LIMITS, sealed, uuid } from "./validate.js";
import { durable, toChannel } from "./wire.js";

function requireAdmin(caller: Caller) {
  if (!caller.isAdmin) throw denied("only admins manage channels");
}

export const listChannels = (deps: Deps) => repo.listChannels(deps.database.db);

export async function createChannel(deps: Deps, caller: Caller, req: { channelId: string; encryptedName: string }) {
  requireAdmin(caller);
  const id = uuid("channel_id", req.channelId);
  const name = sealed("encrypted_name", req.encryptedName, LIMITS.nameBytes);
  const now = deps.now();
  const res = await repo.createChannel(deps.database.db, { id, encryptedName: name, createdByUserId: caller.userId, now }, (c) =>
    durable({ case: "channelCreated", value: { channel: toChannel(c) } }, now),
  );
  if (!res.created && res.channel.encryptedName !== name) {
    throw new DomainError("already_exists", "channel_id: a channel with this id exists");
  }
  deps.bus.publishDurable(res.events);
  if (res.created) deps.log.info("channel created", { channel_id: id, by: caller.userId });
  return res.channel;
}

export async function renameChannel(deps: Deps, caller: Caller, req: { channelId: string; encryptedName: string }) {
  requireAdmin(caller);
  const id = uuid("channel_id", req.channelId);
  const name = sealed("encrypted_name", req.encryptedName, LIMITS.nameBytes);
  const now = deps.now();
  const res = await repo.renameChannel(deps.database.db, id, name, now, (c) =>
    durable({ case: "channelRenamed", value: { channel: toChannel(c) } }, now),
  );
  if (!res) throw notFound("channel", "channel_id");
  deps.bus.publishDurable(res.events);
  deps.log.info("channel renamed", { channel_id: id, by: caller.userId });
  return res.channel;
}

export async function deleteChannel(deps: Deps, caller: Caller, req: { channelId: string }) {
  requireAdmin(caller);
  const id = uuid("channel_id", req.channelId);
  const now = deps.now();
  const res = await repo.deleteChannel(deps.database.db, id, now, durable({ case: "channelDeleted", value: { channelId: id } }, now));
  if (!res) throw notFound("channel", "channel_id");
  deps.bus.publishDurable(res.events);
  deps.voice.closeRoom(id);
  deps.log.info("channel deleted", { channel_id: id, by: caller.userId });
}

/**
 * Starts the channel's next key epoch (after a member or device is removed): `key_epoch` must be
 * the current one + 1, compared and set with the new sealed name in one transaction with its
 * ChannelKeyRotated event. Of racing rotations the first wins; the others are aborted and adopt
 * the winner's key.
 */
export async function rotateChannelKey(deps: Deps, caller: Caller, req: { channelId: string; keyEpoch: number; encryptedName: string }) {
  const id = uuid("channel_id", req.channelId);
  const keyEpoch = epoch("key_epoch", req.keyEpoch);
  const name = sealed("encrypted_name", req.encryptedName, LIMITS.nameBytes, keyEpoch);
  const now = deps.now();
  const res = await repo.rotateChannelKey(deps.database.db, id, keyEpoch, name, now, (c) =>
    durable({ case: "channelKeyRotated", value: { channel: toChannel(c) } }, now),
  );
  if (res.kind === "not_found") throw notFound("channel", "channel_id");
  if (res.kind === "stale") {
    throw aborted("key_epoch", `the channel's key epoch is ${res.currentEpoch}; only ${res.currentEpoch + 1} can follow it`);
  }
  deps.bus.publishDurable(res.events);
  deps.log.info("channel key rotated", { channel_id: id, key_epoch: keyEpoch, by: caller.userId });
  return res.channel;
}
