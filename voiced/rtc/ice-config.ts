// ICE server configuration: from flags (--stun/--turn/--turn-user/--turn-pass, as the earlier
// daemon), from Join, or from VoiceService.GetIceServers; checked here because werift quietly
// uses host candidates when the TURN entry is unusable, even under a relay-only policy.

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface ParsedIceUrl {
  kind: "stun" | "turn";
  secure: boolean;
  host: string;
  port: number;
  transport: "udp" | "tcp" | undefined;
  url: string;
}

export type TurnServer = ParsedIceUrl & { username: string; credential: string };

export interface IceConfig {
  /** Every usable STUN URL, in the order given (the order is the priority). */
  stuns: ParsedIceUrl[];
  /** Every usable TURN URL with its credentials, in the order given (the order is the priority). */
  turns: TurnServer[];
  /** The STUN server werift gets (it takes one): the first, until a probe picks another. */
  stun: ParsedIceUrl | undefined;
  /** The TURN server werift gets (it takes one): the first, until a probe picks another. */
  turn: TurnServer | undefined;
  /** What werift gets: the chosen STUN and TURN server (werift ignores any further ones). */
  servers: IceServer[];
  relayOnly: boolean;
  /** Notices for the log and WatchState (ignored entries). */
  warnings: string[];
}

const URL_RE = /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[^:?/\s]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/i;

export function parseIceUrl(url: string): ParsedIceUrl | undefined {
  const m = URL_RE.exec(url.trim());
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const secure = scheme.endsWith("s");
  const port = m[3] ? Number(m[3]) : secure ? 5349 : 3478;
  if (!(port > 0 && port < 65536)) return undefined;
  return {
    kind: scheme.startsWith("stun") ? "stun" : "turn",
    secure,
    host: m[2]!.replace(/^\[|\]$/g, ""),
    port,
    transport: m[4] ? (m[4].toLowerCase() as "udp" | "tcp") : undefined,
    url: url.trim(),
  };
}

/** "a,b" → URLs; an entry without a scheme gets `scheme:` (the earlier daemon's rule). */
function withScheme(list: string, scheme: "stun" | "turn"): string[] {
  return list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (/^(stuns?|turns?):/i.test(s) ? s : `${scheme}:${s}`));
}

export function iceServersFromFlags(f: { stun: string; turn: string; turnUser: string; turnPass: string }): IceServer[] {
  const out: IceServer[] = [];
  const stun = withScheme(f.stun, "stun");
  const turn = withScheme(f.turn, "turn");
  if (stun.length) out.push({ urls: stun });
  if (turn.length) out.push({ urls: turn, username: f.turnUser, credential: f.turnPass });
  return out;
}

export class IceConfigError extends Error {}

/**
 * Every usable STUN and TURN URL in the order given, the first of each chosen for werift;
 * refuses a relay-only config without a usable TURN server.
 */
export function resolveIceConfig(servers: readonly IceServer[], relayOnly: boolean): IceConfig {
  const warnings: string[] = [];
  const stuns: ParsedIceUrl[] = [];
  const turns: TurnServer[] = [];
  for (const s of servers) {
    for (const url of s.urls) {
      const p = parseIceUrl(url);
      if (!p) {
        warnings.push(`ignoring ICE server URL "${url}": not stun:/stuns:/turn:/turns: HOST[:PORT][?transport=udp|tcp]`);
        continue;
      }
      if (p.kind === "stun") {
        if (!relayOnly && !stuns.some((x) => x.url === p.url)) stuns.push(p);
        continue;
      }
      if (!s.username || !s.credential) {
        warnings.push(`ignoring TURN server ${p.url}: no username/credential`);
        continue;
      }
      if (!turns.some((x) => x.url === p.url)) turns.push({ ...p, username: s.username, credential: s.credential });
    }
  }
  if (relayOnly && !turns.length) {
    throw new IceConfigError("relay-only needs a TURN server with credentials (none usable in the ICE configuration)");
  }
  return chooseIce({ stuns, turns, stun: undefined, turn: undefined, servers: [], relayOnly, warnings }, stuns[0], turns[0]);
}

/** The config with werift's STUN and TURN server set to these (members of stuns/turns, or none). */
export function chooseIce(c: IceConfig, stun: ParsedIceUrl | undefined, turn: TurnServer | undefined): IceConfig {
  const servers: IceServer[] = [];
  if (stun && !c.relayOnly) servers.push({ urls: [stun.url] });
  if (turn) servers.push({ urls: [turn.url], username: turn.username, credential: turn.credential });
  return { ...c, stun: c.relayOnly ? undefined : stun, turn, servers };
}

/** The ICE URLs for logs (never credentials). */
export const describeIce = (c: IceConfig): string => c.servers.flatMap((s) => s.urls).join(",") || "(none: host candidates only)";

/** Every usable URL in priority order, for logs (never credentials). */
export const describeIceList = (c: IceConfig): string => [...c.stuns, ...c.turns].map((u) => u.url).join(",") || "(none)";
