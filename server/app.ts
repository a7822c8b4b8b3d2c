// Composition: database + bus + feed + domain state → one Node request handler.
// main.ts (and the tests) open the database and listen; nothing here does I/O at import.
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Database } from "./db/client.js";
import { headSeq, readEventsAfter } from "./db/repos/events.js";
import type { Deps, Secrets } from "./domain/deps.js";
import { RateLimiter } from "./domain/rate-limit.js";
import { VoiceRooms } from "./domain/voice-rooms.js";
import { ephemeral } from "./domain/wire.js";
import { InProcessBus, type EventBus } from "./events/bus.js";
import { Feed } from "./events/feed.js";
import { PEER_HEADER } from "./http/context.js";
import { ShutdownError } from "./http/errors.js";
import { auth, errorsAndLogging } from "./http/interceptors.js";
import type { NodeHandler } from "./http/listener.js";
import { withHealth } from "./http/listener.js";
import { routes } from "./connect.js";
import type { Logger } from "./log.js";

export interface AppOptions {
  database: Database;
  secrets: Secrets;
  log: Logger;
  bus?: EventBus;
  turn?: Deps["turn"];
  heartbeatSeconds?: number;
  authRatePerIp?: number;
  authFailuresPerUser?: number;
  now?: () => Date;
}

export interface App {
  deps: Deps;
  handler: NodeHandler;
  /** Ends every open stream with `unavailable` (before the listener closes). */
  endStreams(): void;
}

export const MAX_REQUEST_BYTES = 1024 * 1024;

export async function createApp(o: AppOptions): Promise<App> {
  const bus = o.bus ?? new InProcessBus();
  const log = o.log;
  const feed = new Feed({
    bus,
    log,
    headSeq: await headSeq(o.database.db),
    readRange: (after, upTo) => readEventsAfter(o.database.db, after, 10_000, upTo),
  });
  const voice = new VoiceRooms(bus);
  const presence = (userId: string, online: boolean) =>
    bus.publishEphemeral({ audience: { kind: "all" }, event: ephemeral({ case: "presenceChanged", value: { userId, online } }) });
  feed.onStreamOpen((s, first) => first && presence(s.userId, true));
  feed.onStreamClose((s, last) => {
    voice.streamClosed(s.id);
    if (last) presence(s.userId, false);
  });
  const deps: Deps = {
    database: o.database,
    bus,
    feed,
    voice,
    log,
    secrets: o.secrets,
    limits: {
      perIp: new RateLimiter(o.authRatePerIp ?? 30, 60_000),
      perUser: new RateLimiter(o.authFailuresPerUser ?? 10, 60_000),
    },
    turn: o.turn ?? { urls: [], secret: undefined, ttlSeconds: 0 },
    heartbeatSeconds: o.heartbeatSeconds ?? 15,
    now: o.now ?? (() => new Date()),
  };
  const connect = connectNodeAdapter({
    routes: routes(deps),
    interceptors: [errorsAndLogging(deps), auth(deps)],
    readMaxBytes: MAX_REQUEST_BYTES,
  });
  const handler: NodeHandler = (req, res) => {
    // The client address for rate limiting, from the socket: a client cannot set it.
    req.headers[PEER_HEADER] = req.socket?.remoteAddress ?? "unknown";
    connect(req, res);
  };
  return { deps, handler: withHealth(handler), endStreams: () => feed.failAll(new ShutdownError()) };
}
