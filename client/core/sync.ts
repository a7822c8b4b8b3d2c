// The one event stream of a client: EventService.Subscribe, reconnected with capped exponential
// backoff and jitter, resumed after the last seq applied (so a restart of the server or of the
// network loses nothing), with durable events deduplicated by seq. Handlers run one at a time in
// feed order; the position advances only after a handler returned. A live-only engine (`live`)
// starts every stream at the server's head instead, for a consumer tied to one stream at a time.
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import type { SubscribeHello } from "../../gen/dialtone/v1/event_service_pb.js";
import type { Api } from "./api.js";
import { ApiError, toApiError } from "./errors.js";

export type ConnectionState = "offline" | "connecting" | "online";

/** Where the feed position is kept (the keystore, for a client that shows what it missed). */
export interface FeedCursor {
  /** The seq to resume after; undefined starts live at the server's head. */
  load(): bigint | undefined;
  save(seq: bigint): void;
}

export interface HelloInfo {
  /** The stream replays durable events after a position we had. */
  readonly resumed: boolean;
  /** The server did not know our position (its feed is behind it): state must be reloaded. */
  readonly resync: boolean;
}

export interface SyncHandlers {
  onHello?(hello: SubscribeHello, info: HelloInfo): void | Promise<void>;
  /** Every durable event once, in seq order, and every ephemeral event (seq 0) as it comes. */
  onEvent(event: Event, info: { readonly replayed: boolean }): void | Promise<void>;
  /** `stopped`: the server refused the session or device; the engine will not reconnect. */
  onState?(state: ConnectionState, info: { readonly error?: ApiError; readonly retryInMs?: number; readonly stopped?: boolean }): void;
  /** The session is gone (revoked, expired, device revoked): the engine stopped for good. */
  onFatal?(error: ApiError): void;
  /** A handler threw; the event is skipped so one bad event cannot wedge the stream. */
  onHandlerError?(error: unknown, event: Event): void;
}

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 10_000 };

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential up to the cap, half of it
 * random ("equal jitter"), so a server restart does not see every client at the same instant.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface SyncOptions {
  readonly api: Pick<Api, "event">;
  readonly handlers: SyncHandlers;
  readonly cursor?: FeedCursor;
  readonly backoff?: BackoffOptions;
  readonly random?: () => number;
  /**
   * Every stream starts at the server's head: what happened while away is not replayed (the voice
   * daemon re-joins with each new stream and learns the room from that answer). No cursor.
   */
  readonly live?: boolean;
  /** How long a stream may stay silent before it counts as dead (heartbeat interval from the hello, undefined before it). */
  readonly idleLimitMs?: (heartbeatSeconds: number | undefined) => number;
}

/** Heartbeats come at least every interval; twice that plus a margin without one means a dead connection. */
export const DEFAULT_IDLE_LIMIT = (heartbeatSeconds: number | undefined): number =>
  heartbeatSeconds === undefined ? 30_000 : Math.max(5, heartbeatSeconds || 15) * 2_000 + 5_000;

class IdleTimeout extends Error {
  override readonly name = "IdleTimeout";
}

const FATAL = new Set(["unauthenticated", "permission-denied"]);

export class SyncEngine {
  readonly #opts: SyncOptions;
  #state: ConnectionState = "offline";
  #lastSeq: bigint | undefined;
  #stopped = true;
  #loop: Promise<void> | undefined;
  #abort: AbortController | undefined;
  #wake: (() => void) | undefined;
  #resync = false;
  #helloSeen = false;
  readonly #stateWaiters = new Set<() => void>();
  /** Counters for tests and diagnostics. */
  readonly stats = { connects: 0, duplicatesDropped: 0, resyncs: 0 };

  constructor(opts: SyncOptions) {
    this.#opts = opts;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The seq of the last durable event handled (or the head we started from). */
  get lastSeq(): bigint | undefined {
    return this.#lastSeq;
  }

  get running(): boolean {
    return !this.#stopped;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#lastSeq = this.#opts.live ? undefined : this.#opts.cursor?.load();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    this.#wake?.();
    await this.#loop;
    this.#loop = undefined;
  }

  /** Resolves once the stream is online; rejects after `timeoutMs` or when the engine stops. */
  waitOnline(timeoutMs: number): Promise<void> {
    if (this.#state === "online") return Promise.resolve();
    if (this.#stopped) return Promise.reject(new ApiError("canceled", "the event stream is not running"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#stateWaiters.delete(check);
        reject(new ApiError("unavailable", "cannot reach the server's event stream"));
      }, timeoutMs);
      const check = () => {
        if (this.#state === "online" || this.#stopped) {
          clearTimeout(timer);
          this.#stateWaiters.delete(check);
          if (this.#state === "online") resolve();
          else reject(new ApiError("canceled", "the event stream was stopped"));
        }
      };
      this.#stateWaiters.add(check);
    });
  }

  #setState(state: ConnectionState, info: { error?: ApiError; retryInMs?: number; stopped?: boolean } = {}): void {
    if (this.#state === state && info.retryInMs === undefined && info.error === undefined) return;
    this.#state = state;
    this.#opts.handlers.onState?.(state, info);
    for (const w of [...this.#stateWaiters]) w();
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#stopped) {
      let retryNow = false;
      let error: ApiError | undefined;
      try {
        await this.#connectOnce();
      } catch (err) {
        if (this.#stopped) break;
        const e = toApiError(err);
        error = e instanceof ApiError ? e : new ApiError("unknown", e instanceof Error ? e.message : String(e), { cause: e });
        if (FATAL.has(error.code)) {
          this.#stopped = true;
          this.#setState("offline", { error, stopped: true });
          this.#opts.handlers.onFatal?.(error);
          break;
        }
        if (error.code === "failed-precondition") {
          // Our position is ahead of the server's feed (its database was reset or restored):
          // start again from its head and let the client reload its state.
          this.#lastSeq = undefined;
          this.#resync = true;
          this.stats.resyncs++;
          retryNow = true;
        } else if (error.code === "resource-exhausted") {
          retryNow = true; // we were too slow; our position is exact, so resume at once
        }
      }
      if (this.#stopped) break;
      if (this.#helloSeen) attempt = 0; // the last stream worked: start the backoff over
      const delay = retryNow ? 0 : backoffDelay(attempt++, this.#opts.backoff, this.#opts.random);
      this.#setState("offline", { ...(error ? { error } : {}), retryInMs: delay });
      if (delay > 0) await this.#sleep(delay);
    }
    this.#setState("offline");
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  /** One stream, until it ends or fails. */
  async #connectOnce(): Promise<void> {
    const ac = new AbortController();
    this.#abort = ac;
    this.#setState("connecting");
    this.stats.connects++;
    // Silence for much longer than the heartbeat interval means a dead connection TCP has not noticed.
    const idleLimit = this.#opts.idleLimitMs ?? DEFAULT_IDLE_LIMIT;
    let idleLimitMs = idleLimit(undefined);
    let watchdog: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => ac.abort(new IdleTimeout("no heartbeat")), idleLimitMs);
    };
    const disarm = () => clearTimeout(watchdog);
    const { handlers } = this.#opts;
    const after = this.#opts.live ? undefined : this.#lastSeq;
    this.#helloSeen = false;
    let head = 0n;
    arm();
    try {
      const stream = this.#opts.api.event.subscribe(after === undefined ? {} : { afterSeq: after }, { signal: ac.signal, timeoutMs: 0 });
      for await (const res of stream) {
        disarm();
        if (this.#stopped) break;
        const item = res.item;
        if (item.case === "hello") {
          this.#helloSeen = true;
          head = item.value.headSeq;
          idleLimitMs = idleLimit(item.value.heartbeatIntervalSeconds);
          const resync = this.#resync;
          this.#resync = false;
          if (this.#lastSeq === undefined || this.#opts.live) {
            this.#lastSeq = head;
            this.#opts.cursor?.save(head);
          }
          this.#setState("online");
          await handlers.onHello?.(item.value, { resumed: after !== undefined, resync });
        } else if (item.case === "event") {
          const event = item.value;
          if (event.seq > 0n) {
            if (this.#lastSeq !== undefined && event.seq <= this.#lastSeq) {
              this.stats.duplicatesDropped++;
            } else {
              await this.#handle(event, event.seq <= head);
              this.#lastSeq = event.seq;
              this.#opts.cursor?.save(event.seq);
            }
          } else {
            await this.#handle(event, false);
          }
        }
        arm();
      }
    } catch (err) {
      if (ac.signal.reason instanceof IdleTimeout) throw new ApiError("unavailable", "the event stream went silent");
      throw err;
    } finally {
      disarm();
      ac.abort();
    }
  }

  async #handle(event: Event, replayed: boolean): Promise<void> {
    try {
      await this.#opts.handlers.onEvent(event, { replayed });
    } catch (err) {
      this.#opts.handlers.onHandlerError?.(err, event);
    }
  }
}
