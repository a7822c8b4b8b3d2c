// What the pieces of a DialtoneClient share: one server, one session, one keystore, the key
// manager and the name books, and the client's event emitter. Built once by client.ts.
import type { Session } from "../keystore/index.js";
import type { Api } from "./api.js";
import type { ChannelBook } from "./channels.js";
import type { Emitter } from "./emitter.js";
import type { ClientEvents } from "./events.js";
import type { History } from "./history.js";
import type { KeyManager } from "./keys.js";
import type { MessageCache } from "./search/message-cache.js";
import type { Directory } from "./names.js";
import type { ReadState } from "./read-state.js";
import type { KeystoreStore } from "./store.js";
import type { TrustBook } from "./trust-book.js";

export interface ClientParts {
  readonly store: KeystoreStore;
  readonly api: Api;
  readonly session: Session;
  readonly keys: KeyManager;
  readonly trust: TrustBook;
  readonly directory: Directory;
  readonly channels: ChannelBook;
  readonly history: History;
  /** The local search cache: every message that opens here goes in (search/). */
  readonly search: MessageCache;
  readonly readState: ReadState;
  readonly events: Emitter<ClientEvents>;
}

/** Runs a task nobody awaits; its failure becomes an "error" event, never an unhandled rejection. */
export function background(parts: Pick<ClientParts, "events">, what: string, task: Promise<unknown>): void {
  task.catch((cause: unknown) => parts.events.emit("error", { message: `${what} failed`, cause }));
}
