// What the domain functions need, injected once at start-up (and by tests).
import type { Database } from "../db/client.js";
import type { EventBus } from "../events/bus.js";
import type { Feed } from "../events/feed.js";
import type { Presence } from "../events/presence.js";
import type { Logger } from "../log.js";
import type { LoginBackoff } from "./login-backoff.js";
import type { RateLimiter } from "./rate-limit.js";
import type { VoiceRooms } from "./voice-rooms.js";

export interface Secrets {
  usernamePepper: string;
  adminToken: string;
}

export interface Deps {
  database: Database;
  bus: EventBus;
  feed: Feed;
  presence: Presence;
  voice: VoiceRooms;
  log: Logger;
  secrets: Secrets;
  limits: { perIp: RateLimiter; logins: LoginBackoff };
  turn: { urls: readonly string[]; secret: string | undefined; ttlSeconds: number };
  heartbeatSeconds: number;
  now: () => Date;
}

/** The authenticated caller of an RPC, resolved once by the auth interceptor. */
export interface Caller {
  userId: string;
  deviceId: string;
  isAdmin: boolean;
  tokenHash: string;
  expiresAt: Date;
}

export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
