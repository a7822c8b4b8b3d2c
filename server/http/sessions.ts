// Bearer token → caller, remembered for a few seconds. Every RPC and every stream opening
// resolves its session, and that lookup (a three-table join) was a third of the queries of a
// Send and about a fifth of its server CPU.
//
// An entry goes as soon as the session could have changed: on DeviceRevoked, UserRemoved
// and AdminChanged (durable events every process sees through its feed), on a Logout (in this
// process or, through the bus, in another), at the session's expiry, and before the sliding
// expiry is due to be written (so the database sees the same writes as without the cache).
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import { resolveSession } from "../domain/accounts.js";
import type { Caller, Deps } from "../domain/deps.js";
import { SESSION_TTL_MS } from "../domain/deps.js";
import { hashToken } from "../domain/tokens.js";

const TTL_MS = 10_000;
const MAX_ENTRIES = 100_000;
/** resolveSession writes last_used_at / expires_at when they are this old (domain/accounts.ts). */
const TOUCH_EVERY_MS = 60_000;

/** What the cache hears from the feed: the events that end sessions, and Logouts. */
export interface SessionEvents {
  onEvent(h: (ev: Event) => void): void;
  onSessionEnd(h: (sessionKey: string) => void): void;
}

/**
 * The caller of an `Authorization: Bearer <token>` header, or undefined (no header, another
 * scheme, or no live session). Every call resolves its session here: the auth interceptor's
 * and the Subscribe fast path's.
 */
export async function authenticate(sessions: SessionCache, authorization: string | null | undefined): Promise<Caller | undefined> {
  const m = /^bearer\s+(\S+)$/i.exec(authorization?.trim() ?? "");
  return m ? sessions.resolve(m[1]!) : undefined;
}

export class SessionCache {
  private readonly entries = new Map<string, { caller: Caller; until: number }>();
  /** Bumped by every invalidation, so a lookup that raced one is not remembered. */
  private generation = 0;

  constructor(
    private readonly deps: Deps,
    feed: SessionEvents,
  ) {
    feed.onEvent((ev) => this.onEvent(ev));
    feed.onSessionEnd((key) => this.forget(key));
  }

  async resolve(token: string): Promise<Caller | undefined> {
    const key = hashToken(token);
    const now = this.deps.now().getTime();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.caller;
    if (hit) this.entries.delete(key);
    const generation = this.generation;
    const caller = await resolveSession(this.deps, token);
    if (!caller || generation !== this.generation) return caller;
    // Sessions slide: expires_at = last write + SESSION_TTL_MS; the next write is due TOUCH_EVERY_MS after it.
    const touchDue = caller.expiresAt.getTime() - SESSION_TTL_MS + TOUCH_EVERY_MS;
    const until = Math.min(now + TTL_MS, caller.expiresAt.getTime(), touchDue);
    if (until > now) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { caller, until });
    }
    return caller;
  }

  /** The session ended (Logout). */
  forget(tokenHash: string): void {
    this.generation++;
    this.entries.delete(tokenHash);
  }

  private dropWhere(pred: (c: Caller) => boolean) {
    this.generation++;
    for (const [k, e] of this.entries) if (pred(e.caller)) this.entries.delete(k);
  }

  private onEvent(ev: Event) {
    const p = ev.payload;
    if (p.case === "deviceRevoked") this.dropWhere((c) => c.deviceId === p.value.deviceId);
    else if (p.case === "userRemoved" || p.case === "adminChanged") this.dropWhere((c) => c.userId === p.value.userId);
  }
}
