// Read markers: where an account has read each channel to, shared by its devices.
import * as repo from "../db/repos/read-markers.js";
import type { Caller, Deps } from "./deps.js";
import { invalid, notFound } from "./errors.js";
import { seq, uuid } from "./validate.js";
import { ephemeral } from "./wire.js";

export async function markRead(deps: Deps, caller: Caller, req: { channelId: string; seq: bigint }) {
  const channelId = uuid("channel_id", req.channelId);
  const at = seq("seq", req.seq);
  if (at < 1n) throw invalid("seq", "must be at least 1");
  const marker = await repo.advanceReadMarker(deps.database.db, caller.userId, channelId, at, deps.now());
  if (!marker) throw notFound("channel", "channel_id");
  // Every device of the account, this one included (its other streams, e.g. a second window).
  deps.bus.publishEphemeral({
    audience: { kind: "user", userId: caller.userId },
    event: ephemeral({ case: "readMarkerMoved", value: { marker } }),
  });
  return marker;
}

export async function listReadMarkers(deps: Deps, caller: Caller) {
  return repo.listReadMarkers(deps.database.db, caller.userId);
}
