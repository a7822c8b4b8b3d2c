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

export interface IceConfig {
  /** What werift gets: at most one STUN and one TURN server (it ignores the rest). */
  servers: IceServer[];
  turn: (ParsedIceUrl & { username: string; credential: string }) | undefined;
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

/** Picks what werift will use and refuses a relay-only config without a usable TURN server. */
export function resolveIceConfig(servers: readonly IceServer[], relayOnly: boolean): IceConfig {
  const warnings: string[] = [];
  let stun: ParsedIceUrl | undefined;
  let turn: IceConfig["turn"];
  for (const s of servers) {
    for (const url of s.urls) {
      const p = parseIceUrl(url);
      if (!p) {
        warnings.push(`ignoring ICE server URL "${url}": not stun:/stuns:/turn:/turns: HOST[:PORT][?transport=udp|tcp]`);
        continue;
      }
      if (p.kind === "stun") {
        if (stun) warnings.push(`ignoring extra STUN server ${p.url}: only the first is used`);
        else stun = p;
        continue;
      }
      if (!s.username || !s.credential) {
        warnings.push(`ignoring TURN server ${p.url}: no username/credential`);
        continue;
      }
      if (turn) warnings.push(`ignoring extra TURN server ${p.url}: only the first is used`);
      else turn = { ...p, username: s.username, credential: s.credential };
    }
  }
  if (relayOnly && !turn) {
    throw new IceConfigError("relay-only needs a TURN server with credentials (none usable in the ICE configuration)");
  }
  const out: IceServer[] = [];
  if (stun && !relayOnly) out.push({ urls: [stun.url] });
  if (turn) out.push({ urls: [turn.url], username: turn.username, credential: turn.credential });
  return { servers: out, turn, relayOnly, warnings };
}

/** The ICE URLs for logs (never credentials). */
export const describeIce = (c: IceConfig): string => c.servers.flatMap((s) => s.urls).join(",") || "(none: host candidates only)";
