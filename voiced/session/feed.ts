// The daemon's own EventService.Subscribe stream (live events only): its hello names the
// stream a voice membership is tied to. The client core's sync engine runs it (reconnects with
// backoff, watchdog, fatal refusals); what stays here are the daemon's rules: a stream silent
// for three heartbeat intervals is dead, and an unauthenticated or permission_denied refusal
// ends it for good.
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import { SyncEngine, type BackoffOptions } from "../../client/core/index.js";
import type { ServerApi } from "./server-api.js";

export interface FeedHandlers {
  /** A (new) stream is open: join with this id. */
  onHello(streamId: string): void;
  onEvent(e: Event): void;
  /** The stream ended; a reconnect follows after `retryInMs`. */
  onDown(reason: string, retryInMs: number): void;
  /** The session is no longer valid: no retry. */
  onFatal(reason: string): void;
}

const DAEMON_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/** Three heartbeat intervals (15 s assumed before the hello says), never under 10 s. */
export const daemonIdleLimit = (heartbeatSeconds: number | undefined): number => Math.max(10_000, 3_000 * (heartbeatSeconds || 15));

export class Feed {
  private readonly engine: SyncEngine;

  constructor(api: Pick<ServerApi, "event">, h: FeedHandlers, backoff: BackoffOptions = DAEMON_BACKOFF) {
    this.engine = new SyncEngine({
      api,
      live: true,
      backoff,
      idleLimitMs: daemonIdleLimit,
      handlers: {
        onHello: (hello) => h.onHello(hello.streamId),
        onEvent: (e) => h.onEvent(e),
        onState: (_state, info) => {
          // Only a drop with a reconnect ahead is "down"; a fatal refusal goes to onFatal.
          if (info.retryInMs !== undefined) h.onDown(info.error ? info.error.message || info.error.code : "stream ended", info.retryInMs);
        },
        onFatal: (error) => h.onFatal(error.message || error.code),
      },
    });
    this.engine.start();
  }

  async stop(): Promise<void> {
    await this.engine.stop();
  }
}
