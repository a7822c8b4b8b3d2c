// What the domain functions need, injected once at start-up (and by tests).
import type { Database } from "../db/client.js";
import type { Logger } from "../log.js";
import type { LoginBackoff } from "./login-backoff.js";
import type { PresenceView, Publisher, Streams } from "./ports.js";
import type { RateLimiter, TokenBuckets } from "./rate-limit.js";
import type { VoiceRooms } from "./voice-rooms.js";

export interface Secrets {
  usernamePepper: string;
  adminToken: string;
}

export interface Deps {
  database: Database;
  bus: Publisher;
  feed: Streams;
  presence: PresenceView;
  voice: VoiceRooms;
  log: Logger;
  secrets: Secrets;
  limits: { perIp: RateLimiter; logins: LoginBackoff; sends: TokenBuckets; streamsPerSession: number; streamsPerDevice: number };
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
