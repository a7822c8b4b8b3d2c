// Which of several STUN/TURN URLs werift gets. werift 0.25 gathers from one STUN and one TURN
// server only (utils.parseIceServers keeps the first of each), so a deployment's fallbacks
// (TURN over UDP, then TCP, then TLS) would be dead weight: the daemon probes every URL at once
// and hands werift the first one, in the given order, that answered.
import { chooseIce, type IceConfig, type ParsedIceUrl, type TurnServer } from "./ice-config.js";

export interface Probes {
  turn: (t: TurnServer) => Promise<void>;
  stun: (s: ParsedIceUrl) => Promise<void>;
}

export interface Failure<T> {
  item: T;
  reason: string;
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Probes all items at once and resolves with the first, in the given order, whose probe passed,
 * as soon as every item before it has failed (a slow later probe does not hold up an earlier
 * success), and the reasons of the ones before it.
 */
export async function firstWorking<T>(
  items: readonly T[],
  probe: (t: T) => Promise<void>,
): Promise<{ chosen: T | undefined; failed: Failure<T>[] }> {
  const outcomes = items.map((item) =>
    probe(item).then(
      () => undefined,
      (err: unknown) => reasonOf(err),
    ),
  );
  const failed: Failure<T>[] = [];
  for (let i = 0; i < items.length; i++) {
    const reason = await outcomes[i];
    if (reason === undefined) return { chosen: items[i], failed };
    failed.push({ item: items[i]!, reason });
  }
  return { chosen: undefined, failed };
}

export class NoUsableTurnError extends Error {}

/**
 * The config with the first working STUN and TURN server chosen; `notices` say what was skipped
 * and why. Under relay-only, no working TURN server is an error naming each one's reason.
 */
export async function selectIce(config: IceConfig, probes: Probes): Promise<{ ice: IceConfig; notices: string[] }> {
  const [turn, stun] = await Promise.all([firstWorking(config.turns, probes.turn), firstWorking(config.stuns, probes.stun)]);
  const notices: string[] = [];
  if (!turn.chosen && turn.failed.length) {
    const why = turn.failed.map((f) => f.reason).join("; ");
    if (config.relayOnly) throw new NoUsableTurnError(why);
    notices.push(`${why}; continuing without TURN`);
  } else if (turn.chosen && turn.failed.length) {
    notices.push(`${turn.failed.map((f) => f.reason).join("; ")}; using TURN server ${turn.chosen.url}`);
  }
  if (stun.failed.length) {
    const why = stun.failed.map((f) => f.reason).join("; ");
    notices.push(stun.chosen ? `${why}; using STUN server ${stun.chosen.url}` : `${why}; continuing without STUN`);
  }
  return { ice: chooseIce(config, stun.chosen, turn.chosen), notices };
}
