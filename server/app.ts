// Composition: database + bus + feed + domain state → one Node request handler.
// main.ts (and the tests) open the database and listen; nothing here does I/O at import.
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Database } from "./db/client.js";
import { headSeq, readEventsAfter } from "./db/repos/events.js";
import type { Deps, Secrets } from "./domain/deps.js";
import { DEFAULT_LOGIN_BACKOFF, LoginBackoff, type LoginBackoffPolicy } from "./domain/login-backoff.js";
import { RateLimiter, TokenBuckets } from "./domain/rate-limit.js";
import { VoiceRooms } from "./domain/voice-rooms.js";
import { ephemeral } from "./domain/wire.js";
import { InProcessBus, type EventBus } from "./events/bus.js";
import { Cluster } from "./events/cluster.js";
import { Feed } from "./events/feed.js";
import { Presence } from "./events/presence.js";
import { COMPRESSIONS } from "./http/compression.js";
import { PEER_HEADER } from "./http/context.js";
import { clientAddress, TrustedProxies } from "./http/peer.js";
import { ShutdownError } from "./http/errors.js";
import { callInterceptor } from "./http/calls.js";
import { answerDecodeErrors } from "./http/decode-errors.js";
import { requestGate } from "./http/gate.js";
import type { NodeHandler } from "./http/listener.js";
import { withHealth } from "./http/listener.js";
import { createMetrics, withMetrics, type Metrics } from "./http/metrics.js";
import { SessionCache } from "./http/sessions.js";
import { unrouted, withContentTypeCheck } from "./http/unrouted.js";
import { withEventStream } from "./services/event/fast-path.js";
import { RPC_PATHS, routes } from "./connect.js";
import type { Logger } from "./log.js";

export interface AppOptions {
  database: Database;
  secrets: Secrets;
  log: Logger;
  bus?: EventBus;
  turn?: Deps["turn"];
  heartbeatSeconds?: number;
  authRatePerIp?: number;
  /** Login attempts per (account, client address) before waits start (login-backoff.ts). */
  authFailuresPerUser?: number;
  /** The rest of the login backoff policy (tests). */
  loginBackoff?: Partial<LoginBackoffPolicy>;
  /** SendMessage calls a session may make: per second sustained (default 20) and in a burst (default 100). */
  sendRatePerSession?: number;
  sendBurstPerSession?: number;
  /** Open event streams a session (default 16) and a device (default 32) may hold in this process. */
  streamsPerSession?: number;
  streamsPerDevice?: number;
  /** Reverse proxies whose X-Forwarded-For is believed for rate limits (addresses or CIDR ranges). */
  trustedProxies?: readonly string[];
  now?: () => Date;
  /** `GET /metrics`: a bearer token to require, and whether to add Node.js process metrics. */
  metrics?: { token?: string | undefined; processMetrics?: boolean };
}

export interface App {
  deps: Deps;
  /** The live side behind deps' ports: main.ts closes the bus, the bench feeds the feed. */
  bus: EventBus;
  /** The reverse proxies believed for client addresses (the listener exempts them from its per-address cap). */
  trustedProxies: TrustedProxies;
  feed: Feed;
  handler: NodeHandler;
  metrics: Metrics;
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
  // Presence and voice rooms are announced by each process to its own subscribers.
  const all = { kind: "all" } as const;
  const presence = new Presence((userId, online) =>
    feed.deliverLocal({ audience: all, event: ephemeral({ case: "presenceChanged", value: { userId, online } }) }),
  );
  const voice = new VoiceRooms(
    bus.processId,
    (kind, m) =>
      feed.deliverLocal({
        audience: all,
        event: ephemeral({ case: kind, value: { member: { channelId: m.channelId, userId: m.userId, deviceId: m.deviceId } } }),
      }),
    (msg) => bus.publishState(msg),
  );
  const shared = !(bus instanceof InProcessBus);
  const cluster = new Cluster({ bus, feed, presence, voice, log, ...(shared ? { headSeq: () => headSeq(o.database.db) } : {}) });
  if (shared) cluster.start();
  const deps: Deps = {
    database: o.database,
    bus,
    feed,
    presence,
    voice,
    log,
    secrets: o.secrets,
    limits: {
      perIp: new RateLimiter(o.authRatePerIp ?? 30, 60_000),
      logins: new LoginBackoff({
        ...DEFAULT_LOGIN_BACKOFF,
        freeFailures: o.authFailuresPerUser ?? DEFAULT_LOGIN_BACKOFF.freeFailures,
        ...o.loginBackoff,
      }),
      sends: new TokenBuckets(o.sendRatePerSession ?? 20, o.sendBurstPerSession ?? 100),
      streamsPerSession: o.streamsPerSession ?? 16,
      streamsPerDevice: o.streamsPerDevice ?? 32,
    },
    turn: o.turn ?? { urls: [], secret: undefined, ttlSeconds: 0 },
    heartbeatSeconds: o.heartbeatSeconds ?? 15,
    now: o.now ?? (() => new Date()),
  };
  const metrics = createMetrics(
    { streamCount: () => feed.streamCount, headSeq: () => feed.head, database: o.database },
    { processMetrics: o.metrics?.processMetrics ?? false },
  );
  const sessions = new SessionCache(deps, feed);
  const connect = withEventStream(
    deps,
    { sessions, metrics, readMaxBytes: MAX_REQUEST_BYTES },
    withContentTypeCheck(
      RPC_PATHS,
      connectNodeAdapter({
        routes: (router) => {
          routes(deps)(router);
          answerDecodeErrors(router);
        },
        requestGate: requestGate(deps, sessions, log, metrics),
        interceptors: [callInterceptor(log, metrics)],
        readMaxBytes: MAX_REQUEST_BYTES,
        acceptCompression: COMPRESSIONS,
        // Unknown fields of a request are skipped, not kept: nothing reads them, and keeping a
        // megabyte of them per request was a cheap way to fill the server's memory.
        binaryOptions: { readUnknownFields: false },
        fallback: unrouted,
      }),
    ),
  );
  const proxies = new TrustedProxies(o.trustedProxies ?? []);
  const handler: NodeHandler = (req, res) => {
    // The client address for rate limiting, from the socket (or a trusted proxy's X-Forwarded-For);
    // whatever the client sent under this header name is overwritten.
    req.headers[PEER_HEADER] = clientAddress(req.socket?.remoteAddress, req.headers["x-forwarded-for"], proxies);
    connect(req, res);
  };
  return {
    deps,
    bus,
    feed,
    trustedProxies: proxies,
    handler: withHealth(withMetrics(handler, metrics, o.metrics?.token)),
    metrics,
    endStreams: () => {
      if (shared) cluster.stop();
      feed.failAll(new ShutdownError());
    },
  };
}
