// The one send pipeline. Every message leaves through here, the CLI's one-shot `send` and the
// UI's queue alike, under one set of rules (SEND_RULES): one message id for every attempt (the
// server stores an id once, so a send cut off mid-way is neither lost nor doubled), waits between
// attempts that a reconnect cuts short, a re-seal when a newer key epoch arrived meanwhile, and
// one outcome per message. The UI only draws what it is told.
import type { EpochKey } from "../crypto/index.js";
import { ApiError, toApiError } from "./errors.js";
import type { ChatMessage, MessageDraft } from "./messages.js";

export interface SealedMessage {
  readonly encryptedBody: string;
  readonly encryptedSenderName: string;
  readonly keyEpoch: number;
}

export interface OutboxRules {
  /** Errors of a connection or of a busy server: wait, then try again with the same id. */
  readonly retryable: ReadonlySet<string>;
  /** Errors of a server that failed oddly (a connection cut mid-answer): retried, but not forever. */
  readonly odd: ReadonlySet<string>;
  /** Attempts in all after which an odd error is final. */
  readonly oddAttempts: number;
  /** Waits between attempts (the last one repeats); a reconnect ends a wait early. */
  readonly delaysMs: readonly number[];
}

export const SEND_RULES: OutboxRules = {
  retryable: new Set(["unavailable", "deadline-exceeded", "aborted", "resource-exhausted", "canceled"]),
  odd: new Set(["unknown", "internal"]),
  oddAttempts: 3,
  delaysMs: [300, 1_000, 2_000, 5_000, 10_000, 15_000],
};

/** Attempts of a one-shot send (a command that must answer): the queue keeps trying instead. */
export const ONE_SHOT_ATTEMPTS = 3;

export interface OutboxDeps {
  /** The channel's current key, waiting up to `waitMs` for one to be shared (else a KeyError). */
  key(channelId: string, waitMs: number): Promise<EpochKey>;
  seal(key: EpochKey, channelId: string, messageId: string, draft: MessageDraft): Promise<SealedMessage>;
  /** MessageService.Send; the stored message, opened. */
  post(channelId: string, messageId: string, sealed: SealedMessage): Promise<ChatMessage>;
  /** Waits `ms`, less when the connection comes back or `signal` aborts (the outbox closed). */
  pause(ms: number, signal: AbortSignal): Promise<void>;
  newId(): string;
  readonly rules?: OutboxRules;
}

/** A queued message: its draft (text, mentions, relation), its channel and its id. */
export interface OutboxEntry extends MessageDraft {
  /** The message id, the same for every attempt. */
  readonly id: string;
  readonly channelId: string;
}

export type OutboxUpdate =
  | { readonly type: "sending"; readonly entry: OutboxEntry; readonly attempt: number }
  | {
      readonly type: "waiting";
      readonly entry: OutboxEntry;
      readonly attempt: number;
      readonly error: ApiError;
      readonly retryInMs: number;
    }
  | { readonly type: "sent"; readonly entry: OutboxEntry; readonly message: ChatMessage }
  | { readonly type: "failed"; readonly entry: OutboxEntry; readonly error: unknown };

export interface SendOptions {
  /** How long the first attempt waits for the channel key to be shared. */
  readonly waitMs?: number;
  /** A caller retrying later passes the id of its earlier try, so the server stores it once. */
  readonly messageId?: string;
  /** Default ONE_SHOT_ATTEMPTS. */
  readonly maxAttempts?: number;
}

/** Raised (to a one-shot caller) when the outbox closed before the server confirmed. */
export class OutboxClosed extends ApiError {
  constructor() {
    super("canceled", "the client closed before the server confirmed the message");
  }
}

const asDraft = (d: string | MessageDraft): MessageDraft => (typeof d === "string" ? { text: d } : d);

export class Outbox {
  readonly #deps: OutboxDeps;
  readonly #rules: OutboxRules;
  readonly #queue: OutboxEntry[] = [];
  readonly #listeners = new Set<(u: OutboxUpdate) => void>();
  readonly #closing = new AbortController();
  #draining = false;
  #waiting = false;

  constructor(deps: OutboxDeps) {
    this.#deps = deps;
    this.#rules = deps.rules ?? SEND_RULES;
  }

  /** Progress of queued messages (one-shot sends are answered by their promise instead). */
  on(listener: (u: OutboxUpdate) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Queued messages not confirmed by the server yet, oldest first (kept after close: unsent). */
  pending(): readonly OutboxEntry[] {
    return [...this.#queue];
  }

  /** How many messages are queued, and whether the first one waits for the connection. */
  get status(): { readonly count: number; readonly waiting: boolean } {
    return { count: this.#queue.length, waiting: this.#waiting };
  }

  /** Queues a message; sent in order, one at a time, retried until sent, refused or closed. */
  enqueue(channelId: string, draft: string | MessageDraft): OutboxEntry {
    if (this.#closing.signal.aborted) throw new OutboxClosed();
    const entry: OutboxEntry = { ...asDraft(draft), id: this.#deps.newId(), channelId };
    this.#queue.push(entry);
    if (!this.#draining) void this.#drain();
    return entry;
  }

  /** Sends one message now and answers with it (or the error that ended it). */
  send(channelId: string, draft: string | MessageDraft, options: SendOptions = {}): Promise<ChatMessage> {
    if (this.#closing.signal.aborted) return Promise.reject(new OutboxClosed());
    const entry: OutboxEntry = { ...asDraft(draft), id: options.messageId ?? this.#deps.newId(), channelId };
    return this.#deliver(entry, options.maxAttempts ?? ONE_SHOT_ATTEMPTS, options.waitMs ?? 0, () => {});
  }

  /** Stops retrying: waits end, queued messages stay listed in pending() and are not reported failed. */
  close(): void {
    this.#closing.abort();
  }

  #emit(u: OutboxUpdate): void {
    for (const l of [...this.#listeners]) l(u);
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0 && !this.#closing.signal.aborted) {
        const entry = this.#queue[0]!;
        const update = (u: OutboxUpdate) => {
          this.#waiting = u.type === "waiting";
          this.#emit(u);
        };
        let outcome: OutboxUpdate;
        try {
          outcome = { type: "sent", entry, message: await this.#deliver(entry, Infinity, 0, update) };
        } catch (error) {
          if (error instanceof OutboxClosed) break;
          outcome = { type: "failed", entry, error };
        }
        this.#queue.shift();
        this.#waiting = false;
        this.#emit(outcome);
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Attempts until the server stores the message, a refusal, `maxAttempts`, or close. */
  async #deliver(entry: OutboxEntry, maxAttempts: number, waitMs: number, update: (u: OutboxUpdate) => void): Promise<ChatMessage> {
    let sealed: SealedMessage | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const key = await this.#deps.key(entry.channelId, attempt === 1 ? waitMs : 0);
        // A newer epoch arrived while we waited: members who joined since can read only that one.
        if (!sealed || key.epoch > sealed.keyEpoch) sealed = await this.#deps.seal(key, entry.channelId, entry.id, entry);
        update({ type: "sending", entry, attempt });
        return await this.#deps.post(entry.channelId, entry.id, sealed);
      } catch (err) {
        if (this.#closing.signal.aborted) throw new OutboxClosed();
        const error = toApiError(err);
        if (!(error instanceof ApiError) || !this.#retries(error, attempt, maxAttempts)) throw error;
        const { delaysMs } = this.#rules;
        const retryInMs = delaysMs[Math.min(attempt - 1, delaysMs.length - 1)] ?? 0;
        update({ type: "waiting", entry, attempt, error, retryInMs });
        await this.#deps.pause(retryInMs, this.#closing.signal);
        if (this.#closing.signal.aborted) throw new OutboxClosed();
      }
    }
  }

  #retries(error: ApiError, attempt: number, maxAttempts: number): boolean {
    if (attempt >= maxAttempts) return false;
    if (this.#rules.retryable.has(error.code)) return true;
    return this.#rules.odd.has(error.code) && attempt < this.#rules.oddAttempts;
  }
}
