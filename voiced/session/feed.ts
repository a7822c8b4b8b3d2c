// The daemon's own EventService.Subscribe stream (live events only): its hello names the
// stream a voice membership is tied to. Reconnects with backoff; a silent stream (no item for
// three heartbeat intervals) is treated as dead.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
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

const FATAL = new Set([Code.Unauthenticated, Code.PermissionDenied]);

export class Feed {
  private ac: AbortController | undefined;
  private stopped = false;
  private attempt = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly done: Promise<void>;

  constructor(
    private readonly api: ServerApi,
    private readonly h: FeedHandlers,
    private readonly backoff = (n: number) => Math.min(30_000, 500 * 2 ** n),
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const ac = (this.ac = new AbortController());
      let silenceMs = 45_000;
      const pet = () => {
        clearTimeout(this.watchdog);
        this.watchdog = setTimeout(() => ac.abort(new Error("no heartbeat")), silenceMs);
      };
      let reason = "stream ended";
      try {
        pet();
        for await (const item of this.api.event.subscribe({}, { signal: ac.signal, timeoutMs: 0 })) {
          if (item.item.case === "hello") {
            this.attempt = 0;
            silenceMs = Math.max(10_000, 3 * 1000 * (item.item.value.heartbeatIntervalSeconds || 15));
            pet();
            this.h.onHello(item.item.value.streamId);
          } else {
            pet();
            if (item.item.case === "event") this.h.onEvent(item.item.value);
          }
        }
      } catch (err) {
        const ce = ConnectError.from(err);
        if (this.stopped) break;
        if (FATAL.has(ce.code)) {
          this.h.onFatal(ce.rawMessage || Code[ce.code]);
          this.stopped = true;
          break;
        }
        reason = ac.signal.aborted && ac.signal.reason instanceof Error ? ac.signal.reason.message : ce.rawMessage || Code[ce.code];
      } finally {
        clearTimeout(this.watchdog);
      }
      if (this.stopped) break;
      const wait = this.backoff(this.attempt++);
      this.h.onDown(reason, wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ac?.abort();
    clearTimeout(this.watchdog);
    await this.done;
  }
}
