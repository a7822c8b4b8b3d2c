// The client facade: one server, one session, one keystore. It builds the pieces (client-parts.ts)
// and speaks in decrypted terms to the UI, the CLI and the voice daemon through typed events
// (events.ts): the feed reduced by event-reducer.ts, messages by inbox.ts and outbox.ts, keys
// waited for by key-waiting.ts. Nothing here touches a terminal.
import { randomUUID } from "node:crypto";
import type { GetSessionResponse } from "../../gen/dialtone/v1/auth_service_pb.js";
import type { Message } from "../../gen/dialtone/v1/message_pb.js";
import type { EpochKey } from "../crypto/index.js";
import type { Session } from "../keystore/index.js";
import type { Api } from "./api.js";
import { ChannelActions } from "./channel-actions.js";
import type { ConversationEntry } from "./conversation.js";
import { ConversationActions } from "./conversation-actions.js";
import { ChannelBook } from "./channels.js";
import { background, type ClientParts } from "./client-parts.js";
import { listDevices, recordVerified, safetyNumberWith, whoami, type WhoAmI } from "./devices.js";
import { Emitter } from "./emitter.js";
import { ApiError, UsageError } from "./errors.js";
import { EventReducer } from "./event-reducer.js";
import type { ClientEvents, DeviceView } from "./events.js";
import { History } from "./history.js";
import { Inbox } from "./inbox.js";
import { mintInvite, type InviteOptions, type MintedInvite } from "./invites.js";
import { KeyWaiting } from "./key-waiting.js";
import { KeyManager } from "./keys.js";
import { TrustBook } from "./trust-book.js";
import { TrustDuties, type ApprovedDevice } from "./trust-duties.js";
import type { AdmissionRoleName } from "../crypto/index.js";
import type { TrustSnapshot } from "./trust.js";
import { sealMessage, type ChatMessage, type MessageDraft } from "./messages.js";
import { Directory, resolveByNameOrId, userLabel, type ChannelView, type UserView } from "./names.js";
import { Outbox } from "./outbox.js";
import { MessageCache } from "./search/message-cache.js";
import { fillFromHistory, searchMessages, type FillProgress, type SearchView } from "./search/client-search.js";
import { ReadState } from "./read-state.js";
import { sendTyping } from "./typing.js";
import { recoverLoggedIn } from "./recovery.js";
import { listPresence, listVoiceRooms, type PresenceView, type VoiceRoomView } from "./presence.js";
import { setProfileName } from "./profile.js";
import { requireSession, sessionApi, type ServerAccess } from "./session.js";
import { KeystoreStore } from "./store.js";
import { SyncEngine, type ConnectionState } from "./sync.js";
import type { SafetyNumberResult } from "./verify.js";

export interface StartOptions {
  /** Resume after the feed position saved in the keystore (replaying what was missed). Default: start live. */
  readonly resume?: boolean;
  /** Save the feed position in the keystore as events are handled. Default true. */
  readonly persistPosition?: boolean;
}

export interface OpenOptions {
  /** The caller reconciles right after opening: start that pass's reads now. */
  readonly reconcileNext?: boolean;
  /** The caller asks whoami() next: read the session now too. */
  readonly whoamiNext?: boolean;
}

export class DialtoneClient {
  readonly store: KeystoreStore;
  readonly api: Api;
  readonly session: Session;
  readonly keys: KeyManager;
  readonly trust: TrustBook;
  readonly directory: Directory;
  /** The one send pipeline: the UI queues here and draws its updates. */
  readonly outbox: Outbox;
  readonly #parts: ClientParts;
  readonly #events = new Emitter<ClientEvents>();
  readonly #inbox: Inbox;
  readonly #keyWaiting: KeyWaiting;
  readonly #reducer: EventReducer;
  readonly #channelActions: ChannelActions;
  readonly #conversation: ConversationActions;
  readonly #duties: TrustDuties;
  #backupTimer: NodeJS.Timeout | undefined;
  /** The admin flag as the server last said it (AdminChanged, or GetSession at connect). */
  #isAdmin: boolean | undefined;
  #sync: SyncEngine | undefined;
  /** The session read started at opening for the next whoami() (OpenOptions.whoamiNext). */
  #sessionRead: Promise<GetSessionResponse> | undefined;

  private constructor(store: KeystoreStore, api: Api) {
    this.store = store;
    this.api = api;
    this.session = requireSession(store);
    const channels: ChannelBook = new ChannelBook(api, (id, epoch) => this.keys.channelKeyAt(id, epoch));
    const me = { userId: this.session.userId, deviceId: this.session.deviceId };
    this.trust = new TrustBook({
      api,
      store,
      me,
      emit: (event) =>
        this.#events.emit("trust", { event, user: this.directory.labelOf(event.type === "root-problem" ? me.userId : event.userId) }),
    });
    this.keys = new KeyManager({
      api,
      store,
      trust: () => this.trust.snapshot(),
      refreshTrust: () => this.trust.refresh(),
      keysAdded: () => {
        // A key shared with us is news the trust view may predate (we were admitted, a device
        // certified, after it was read): the next snapshot reads the lists again.
        this.trust.invalidate();
        this.#duties.keysAdded();
        this.#scheduleBackup();
      },
      me: { userId: this.session.userId, deviceId: this.session.deviceId },
      channel: (id) => channels.row(id),
      emit: (e) => this.#reducer.onKeyEvent(e),
    });
    // A name that opens (its key came after the messages) or changes shows on the messages held too.
    this.directory = new Directory(
      api,
      (epoch) => this.keys.directoryKeyAt(epoch),
      () => this.#inbox.relabel(),
    );
    this.#parts = {
      store,
      api,
      session: this.session,
      keys: this.keys,
      trust: this.trust,
      directory: this.directory,
      channels,
      history: new History(api, (m) => this.#inbox.open(m)),
      search: new MessageCache({
        configDir: store.configDir,
        server: store.server,
        serverOrigin: store.origin,
        userId: this.session.userId,
        key: () => store.searchCacheKey(),
        onError: (cause) => this.#events.emit("error", { message: "writing the search cache failed", cause }),
      }),
      readState: new ReadState(api, this.#events),
      events: this.#events,
    };
    this.#inbox = new Inbox(this.#parts);
    this.#duties = new TrustDuties(this.#parts);
    this.#keyWaiting = new KeyWaiting(
      this.#parts,
      () => {
        if (!this.#sync?.running) this.start({ persistPosition: false });
      },
      () => this.#duties.run(),
      () => this.#duties.backUp(),
    );
    this.#reducer = new EventReducer(this.#parts, this.#inbox, this.#keyWaiting, {
      identityArrived: () => this.#duties.identityArrived(),
      setMyAdmin: (isAdmin) => {
        this.#isAdmin = isAdmin;
      },
    });
    this.#channelActions = new ChannelActions(this.#parts, this.#keyWaiting);
    this.#conversation = new ConversationActions(
      this.#parts,
      (channelId, draft, waitMs) => this.outbox.send(channelId, draft, { waitMs }),
      () => this.me.isAdmin,
    );
    this.outbox = new Outbox({
      key: (channelId, waitMs) => this.#channelActions.requireKey(channelId, waitMs),
      seal: (key, channelId, messageId, draft) =>
        sealMessage(key, { channelId, messageId, senderUserId: this.session.userId }, draft, this.myDisplayName()),
      post: async (channelId, messageId, sealed) => {
        let message: Message | undefined;
        try {
          ({ message } = await this.api.message.sendMessage({ messageId, channelId, ...sealed }));
        } catch (err) {
          // The channel moved to a new key epoch (a member was removed): reload it and seal again.
          if (err instanceof ApiError && err.code === "failed-precondition" && /key epoch/.test(err.message)) {
            await this.#parts.channels.refresh();
            throw new ApiError("aborted", err.message, { cause: err });
          }
          throw err;
        }
        if (!message) throw new ApiError("internal", "the server answered without a message");
        return this.#inbox.accept(message);
      },
      pause: (ms, signal) => this.#untilOnline(ms, signal),
      newId: randomUUID,
    });
  }

  /**
   * Opens the keystore of `access.server` and requires a session in it. With `reconcileNext`,
   * the reads of the first reconcile start alongside the channel and profile lists (a one-shot
   * command that reconciles right after opening): one round trip instead of several.
   */
  static async open(access: ServerAccess, opts: OpenOptions = {}): Promise<DialtoneClient> {
    return DialtoneClient.fromStore(await KeystoreStore.open(access.configDir, access.server, access.passphrase), undefined, opts);
  }

  /** Wraps an open store (e.g. right after register/login) and loads channels and profiles. */
  static async fromStore(store: KeystoreStore, api: Api = sessionApi(store), opts: OpenOptions = {}): Promise<DialtoneClient> {
    const client = new DialtoneClient(store, api);
    // Our own device is pinned up front, so it is never announced as "new".
    const ks = store.keystore;
    if (ks.pinDevice(client.session.deviceId, client.session.userId, ks.devicePublicKey) === "pinned") store.markDirty();
    if (opts.reconcileNext) {
      // Reads only: the pass still checks everything it reads, and lists again after it wrote.
      client.#duties.prefetch();
      client.keys.prefetch();
    }
    if (opts.whoamiNext) {
      const session = api.auth.getSession({});
      session.catch(() => {}); // whoami() sees the error; an untaken read is dropped
      client.#sessionRead = session;
    }
    await Promise.all([client.#parts.channels.refresh(), client.directory.refresh()]);
    return client;
  }

  /** Who this client is; `isAdmin` follows AdminChanged events and the server's word at each connect. */
  get me(): { readonly userId: string; readonly deviceId: string; readonly isAdmin: boolean } {
    return { userId: this.session.userId, deviceId: this.session.deviceId, isAdmin: this.#isAdmin ?? this.session.isAdmin };
  }

  get origin(): string {
    return this.store.origin;
  }

  get connectionState(): ConnectionState {
    return this.#sync?.state ?? "offline";
  }

  on<K extends keyof ClientEvents>(name: K, listener: (value: ClientEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  // --- lifecycle -------------------------------------------------------------------------------

  /** Starts the event stream (reconnecting by itself); keys are reconciled at every connect. */
  start(options: StartOptions = {}): void {
    if (this.#sync?.running) return;
    const persist = options.persistPosition ?? true;
    const ks = this.store.keystore;
    this.#sync = new SyncEngine({
      api: this.api,
      cursor: {
        load: () => (options.resume && ks.lastEventSeq > 0n ? ks.lastEventSeq : undefined),
        save: (seq) => {
          if (!persist || seq === ks.lastEventSeq) return;
          ks.setLastEventSeq(seq);
          this.store.scheduleSave();
        },
      },
      handlers: {
        onHello: (_hello, info) => this.#reducer.onHello(info),
        onEvent: (event) => this.#reducer.onEvent(event),
        onState: (state, info) =>
          this.#events.emit("connection", {
            state,
            ...(info.error ? { error: info.error.message } : {}),
            ...(info.retryInMs !== undefined ? { retryInMs: info.retryInMs } : {}),
            ...(info.stopped ? { stopped: true } : {}),
          }),
        onFatal: (error) => this.#events.emit("error", { message: `event stream stopped: ${error.message}`, cause: error }),
        onHandlerError: (cause) => this.#events.emit("error", { message: "an event could not be handled", cause }),
      },
    });
    this.#sync.start();
  }

  /** Resolves once the event stream is online. */
  async waitOnline(timeoutMs = 10_000): Promise<void> {
    if (!this.#sync) throw new Error("waitOnline: start() first");
    await this.#sync.waitOnline(timeoutMs);
  }

  /** Stops the outbox's retries (what it holds stays in outbox.pending()) and the stream, and writes the keystore. */
  async close(): Promise<void> {
    this.outbox.close();
    await this.#sync?.stop();
    clearTimeout(this.#backupTimer);
    // Keys that arrived since the last backup go into it before this process ends.
    await this.#duties.backUp().catch((cause: unknown) => this.#events.emit("error", { message: "backing up keys failed", cause }));
    await this.#parts.search
      .flush()
      .catch((cause: unknown) => this.#events.emit("error", { message: "writing the search cache failed", cause }));
    await this.store.flush();
  }

  /** Backs up new keys a moment after they arrive (a burst of keys costs one write). */
  #scheduleBackup(): void {
    clearTimeout(this.#backupTimer);
    this.#backupTimer = setTimeout(() => background(this.#parts, "backing up keys", this.#duties.backUp()), 1000);
    this.#backupTimer.unref();
  }

  /** Fetches keys shared with us and shares the keys we hold with devices lacking them. */
  reconcile(): Promise<void> {
    return this.#keyWaiting.reconcile();
  }

  /** Waits `ms`, or less when the stream comes online (again) or `signal` aborts. */
  #untilOnline(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const off = this.#events.on("connection", (c) => c.state === "online" && done());
      signal.addEventListener("abort", done, { once: true });
    });
  }

  // --- channels --------------------------------------------------------------------------------

  async refreshChannels(): Promise<ChannelView[]> {
    return this.#parts.channels.refresh();
  }

  /** Every channel, oldest first. */
  channels(): ChannelView[] {
    return this.#parts.channels.list();
  }

  channel(channelId: string): ChannelView | undefined {
    return this.#parts.channels.get(channelId);
  }

  /**
   * A channel by name ("#general", case-insensitive) or id prefix. Names this device cannot
   * read yet are waited for (up to `waitMs`, keys being shared by other members' clients).
   */
  resolveChannel(arg: string, waitMs = 0): Promise<ChannelView> {
    return this.#channelActions.resolve(arg, waitMs);
  }

  /** The channel's current key, waiting up to `waitMs` for another member's client to share it. */
  requireChannelKey(channelId: string, waitMs = 0): Promise<EpochKey> {
    return this.#channelActions.requireKey(channelId, waitMs);
  }

  createChannel(name: string): Promise<ChannelView> {
    return this.#channelActions.create(name);
  }

  renameChannel(channelId: string, name: string): Promise<{ channel: ChannelView; previous: string | undefined }> {
    return this.#channelActions.rename(channelId, name);
  }

  deleteChannel(channelId: string): Promise<void> {
    return this.#channelActions.delete(channelId);
  }

  // --- messages --------------------------------------------------------------------------------

  /** My name as I seal it into messages: my directory name, else my account's short id. */
  myDisplayName(): string {
    return this.directory.nameOf(this.session.userId) ?? userLabel(this.session.userId, undefined);
  }

  /**
   * Sends one message now through the outbox (its rules: outbox.ts), retried with the same id.
   * A caller that retries later (after a reconnect) passes the same `messageId` again, so a send
   * that reached the server before the connection broke is not stored twice.
   */
  async send(channelId: string, text: string, waitMs = 0, messageId?: string): Promise<ChatMessage> {
    if (text.length === 0) throw new UsageError("invalid-input", "the message is empty");
    return this.outbox.send(channelId, this.draft(text), { waitMs, ...(messageId !== undefined ? { messageId } : {}) });
  }

  /** A draft of `text`: the people it mentions ("@name") resolved, and its relation if any. */
  draft(text: string, relation?: MessageDraft["relation"]): MessageDraft {
    return this.#conversation.draft(text, relation);
  }

  /** A message of the channel by id or id prefix (older history is paged in to find it). */
  findMessage(channelId: string, ref: string): Promise<ChatMessage> {
    return this.#conversation.find(channelId, ref);
  }

  reply(channelId: string, ref: string, text: string, waitMs = 0): Promise<ChatMessage> {
    return this.#conversation.reply(channelId, ref, text, waitMs);
  }

  edit(channelId: string, ref: string, text: string, waitMs = 0): Promise<ChatMessage> {
    return this.#conversation.edit(channelId, ref, text, waitMs);
  }

  react(channelId: string, ref: string, emoji: string, waitMs = 0): Promise<{ message: ChatMessage; added: boolean }> {
    return this.#conversation.react(channelId, ref, emoji, waitMs);
  }

  unreact(channelId: string, ref: string, emoji: string): Promise<boolean> {
    return this.#conversation.unreact(channelId, ref, emoji);
  }

  /** Deletes a message (mine, or anyone's as an admin) with its sender's edits. */
  deleteMessage(channelId: string, ref: string): Promise<ChatMessage> {
    return this.#conversation.delete(channelId, ref);
  }

  /** The newest `limit` entries of a channel as people read it (edits applied, reactions gathered). */
  conversation(channelId: string, limit = 50): Promise<readonly ConversationEntry[]> {
    return this.#conversation.conversation(channelId, limit);
  }

  /** Tells the channel's readers this device is typing (or stopped); the UI throttles. */
  setTyping(channelId: string, typing: boolean): Promise<void> {
    return sendTyping(this.#parts, channelId, typing);
  }

  /** Where this account has read the channel to (a seq; 0 when never). */
  readMarker(channelId: string): bigint {
    return this.#parts.readState.seqOf(channelId);
  }

  /** Records reading a channel up to `seq`, for every device of the account. */
  markRead(channelId: string, seq: bigint): Promise<void> {
    return this.#parts.readState.markRead(channelId, seq);
  }

  /** Loads the read markers now (the feed's hello does too, at each connect). */
  loadReadMarkers(): Promise<void> {
    return this.#parts.readState.load();
  }

  /** The conversation entries held for a channel now (no paging). */
  entries(channelId: string): readonly ConversationEntry[] {
    return this.#parts.history.timeline(channelId).entries(this.session.userId);
  }

  /** Up to `count` messages older than those held for the channel, oldest first (for scrolling up). */
  loadOlder(channelId: string, count: number): Promise<ChatMessage[]> {
    return this.#parts.history.loadOlder(channelId, count);
  }

  /** The newest `limit` messages of a channel, oldest first. */
  history(channelId: string, limit = 50): Promise<readonly ChatMessage[]> {
    return this.#parts.history.latest(channelId, limit);
  }

  // --- search (search/: a local cache, encrypted at rest) ------------------------------------------

  /** The local cache search runs over; the event handling calls its upsert/remove (edits, deletions). */
  get searchCache(): MessageCache {
    return this.#parts.search;
  }

  /** Messages holding every word of `query`, newest first, across channels or in one; loads the cache first. */
  search(query: string, options: { readonly channelId?: string; readonly limit?: number } = {}): Promise<SearchView> {
    return searchMessages(
      { cache: this.#parts.search, channels: () => this.channels(), senderLabel: (id) => this.directory.labelOf(id) },
      query,
      options,
    );
  }

  /**
   * Pages every readable channel's (or one channel's) whole history into the search cache, drops
   * cached messages the server no longer has (deleted meanwhile), then writes the cache.
   */
  async fillSearchCache(
    options: { readonly channelId?: string; readonly onProgress?: (p: FillProgress) => void } = {},
  ): Promise<{ channels: number; messages: number; pruned: number }> {
    const { history, search } = this.#parts;
    if (!search.loaded) await search.load();
    let pruned = 0;
    const report = await fillFromHistory(
      this.channels().filter((c) => options.channelId === undefined || c.id === options.channelId),
      (id, count) => history.loadOlder(id, count),
      (id) => history.timeline(id).hasMore,
      (p) => {
        if (p.done)
          pruned += search.prune(
            p.channel.id,
            new Set(
              history
                .timeline(p.channel.id)
                .messages()
                .map((m) => m.messageId),
            ),
          );
        options.onProgress?.(p);
      },
    );
    await search.flush();
    return { ...report, pruned };
  }

  // --- directory, devices, verification, presence, invites -------------------------------------

  users(): UserView[] {
    return this.directory.users();
  }

  /** A user by directory name (case-insensitive) or user id prefix. */
  resolveUser(arg: string): UserView {
    return resolveByNameOrId(this.users(), arg, (u) => ({ id: u.userId, name: u.name, label: u.label }), "user");
  }

  /** Seals my display name with the directory key (creating that key if nobody has one yet). */
  setProfileName(name: string, waitMs = 0): Promise<UserView> {
    return setProfileName(this.#parts, this.#keyWaiting, name, waitMs);
  }

  /** Who is online now, per account (the "presence" event reports changes after this). */
  presence(): Promise<PresenceView[]> {
    return listPresence(this.api);
  }

  /** The non-empty voice rooms (the "voice" joined/left events report changes after this). */
  voiceRooms(): Promise<VoiceRoomView[]> {
    return listVoiceRooms(this.api);
  }

  /** Every active device of every user, pinning the ones seen for the first time. */
  devices(): Promise<DeviceView[]> {
    return listDevices(this.#parts);
  }

  safetyNumber(userId: string): Promise<SafetyNumberResult> {
    return safetyNumberWith(this.#parts, userId);
  }

  markVerified(result: SafetyNumberResult): Promise<void> {
    return recordVerified(this.#parts, result);
  }

  whoami(): Promise<WhoAmI> {
    const session = this.#sessionRead ?? this.api.auth.getSession({});
    this.#sessionRead = undefined;
    return whoami(this.#parts, this.#duties.status?.state, session);
  }

  /** This device's identity status, once settled (after the first reconcile). */
  get identityStatus() {
    return this.#duties.status;
  }

  /** Who is admitted and which devices are certified, fetched fresh. */
  trustSnapshot(): Promise<TrustSnapshot> {
    return this.trust.refresh();
  }

  /** Approves a new device of this account by the fingerprint it shows, then shares keys with it. */
  async approveDevice(fingerprint: string): Promise<ApprovedDevice> {
    await this.#duties.run();
    const approved = await this.#duties.approveDevice(fingerprint);
    await this.reconcile();
    return approved;
  }

  /** Admits an account by hand (admins), after comparing its safety number; then shares keys. */
  async admit(userId: string, role: AdmissionRoleName = "member"): Promise<TrustSnapshot> {
    await this.#duties.run();
    const snapshot = await this.#duties.admit(userId, role);
    await this.reconcile();
    return snapshot;
  }

  /**
   * Restores this account's identity and keys on this (waiting) device from the server's backup
   * with the recovery code, then settles as an approved device would.
   */
  async recover(recoveryCode: string): Promise<{ channelKeys: number; directoryKeys: number }> {
    const restored = await recoverLoggedIn(this.store, recoveryCode);
    this.#duties.identityArrived();
    this.#keyWaiting.keyArrived();
    await this.reconcile();
    return restored;
  }

  /** Revokes another device of this account by its fingerprint (a device you do not recognise). */
  async rejectDevice(fingerprint: string): Promise<{ deviceId: string; fingerprint: string }> {
    await this.#duties.run();
    return this.#duties.rejectDevice(fingerprint);
  }

  /** Removes an account (admins), signed when possible, and rotates every channel's key. */
  async removeUser(userId: string): Promise<{ revokedDeviceIds: readonly string[]; rotated: number }> {
    await this.#duties.run();
    return this.#duties.removeUser(userId);
  }

  /** Mints an invite (admins). The token is secret: show it to the person invited only. */
  async createInvite(options: InviteOptions = {}): Promise<MintedInvite> {
    await this.#duties.run(); // the root is pinned and the identity held before a token names them
    return mintInvite(this.api, this.store, options);
  }
}
