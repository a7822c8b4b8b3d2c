// The client facade: one server, one session, one keystore. It ties the event stream, the key
// manager, the directory, the channel list and the history together and speaks in decrypted
// terms to the UI and the CLI through typed events (events.ts). Nothing here touches a terminal.
import { randomUUID } from "node:crypto";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import type { Message } from "../../gen/dialtone/v1/message_pb.js";
import { deviceFingerprint, publicKeyToBase64, sealText, type EpochKey } from "../crypto/index.js";
import type { Session } from "../keystore/index.js";
import type { Api } from "./api.js";
import { ChannelBook, checkName, sealChannelName } from "./channels.js";
import { Emitter } from "./emitter.js";
import { ApiError, KeyError, UsageError } from "./errors.js";
import type { ClientEvents, DeviceView } from "./events.js";
import { History } from "./history.js";
import { KeyManager, newChannelKey, type KeyEvent, type KeyScope } from "./keys.js";
import { openMessage, sealMessage, type ChatMessage } from "./messages.js";
import { Directory, resolveByNameOrId, shortId, userLabel, type ChannelView, type UserView } from "./names.js";
import { requireSession, sessionApi, type ServerAccess } from "./session.js";
import { KeystoreStore } from "./store.js";
import { SyncEngine, type ConnectionState, type HelloInfo } from "./sync.js";
import { computeSafetyNumber, markVerified, type SafetyNumberResult } from "./verify.js";

export interface StartOptions {
  /** Resume after the feed position saved in the keystore (replaying what was missed). Default: start live. */
  readonly resume?: boolean;
  /** Save the feed position in the keystore as events are handled. Default true. */
  readonly persistPosition?: boolean;
}

const RETRYABLE = new Set(["unavailable", "deadline-exceeded", "aborted"]);
const SEEN_MAX = 20_000;

export class DialtoneClient {
  readonly store: KeystoreStore;
  readonly api: Api;
  readonly session: Session;
  readonly keys: KeyManager;
  readonly directory: Directory;
  readonly #channels: ChannelBook;
  readonly #history: History;
  readonly #events = new Emitter<ClientEvents>();
  readonly #seenMessages = new Set<string>();
  /** Messages that arrived before their key, by id: opened again when a key for their channel arrives. */
  readonly #locked = new Map<string, Message>();
  readonly #keyWaiters = new Set<() => void>();
  #sync: SyncEngine | undefined;
  #lastFetchForMessage = 0;
  #keysArrived = false;

  private constructor(store: KeystoreStore, api: Api) {
    this.store = store;
    this.api = api;
    this.session = requireSession(store);
    this.keys = new KeyManager({
      api,
      store,
      me: { userId: this.session.userId, deviceId: this.session.deviceId },
      channel: (id) => this.#channels.row(id),
      emit: (e) => this.#onKeyEvent(e),
    });
    this.directory = new Directory(api, (epoch) => this.keys.directoryKeyAt(epoch));
    this.#channels = new ChannelBook(api, (id, epoch) => this.keys.channelKeyAt(id, epoch));
    this.#history = new History(api, (m) => this.#open(m));
  }

  /** Opens the keystore of `access.server` and requires a session in it. */
  static async open(access: ServerAccess): Promise<DialtoneClient> {
    return DialtoneClient.fromStore(await KeystoreStore.open(access.configDir, access.server, access.passphrase));
  }

  /** Wraps an open store (e.g. right after register/login) and loads channels and profiles. */
  static async fromStore(store: KeystoreStore, api: Api = sessionApi(store)): Promise<DialtoneClient> {
    const client = new DialtoneClient(store, api);
    // Our own device is pinned up front, so it is never announced as "new".
    const ks = store.keystore;
    if (ks.pinDevice(client.session.deviceId, client.session.userId, ks.devicePublicKey) === "pinned") store.markDirty();
    await Promise.all([client.#channels.refresh(), client.directory.refresh()]);
    return client;
  }

  get me(): { readonly userId: string; readonly deviceId: string; readonly isAdmin: boolean } {
    return { userId: this.session.userId, deviceId: this.session.deviceId, isAdmin: this.session.isAdmin };
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
        onHello: (_hello, info) => this.#onHello(info),
        onEvent: (event) => this.#onEvent(event),
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

  /** Stops the stream and writes the keystore. */
  async close(): Promise<void> {
    await this.#sync?.stop();
    await this.store.flush();
  }

  /** Fetches keys shared with us and shares the keys we hold with devices lacking them. */
  async reconcile(): Promise<void> {
    await this.keys.reconcile();
    await this.store.flush();
    await this.#reopenNamesIfKeysArrived();
  }

  #background(what: string, task: Promise<unknown>): void {
    task.catch((cause: unknown) => this.#events.emit("error", { message: `${what} failed`, cause }));
  }

  async #onHello(info: HelloInfo): Promise<void> {
    if (info.resync) {
      await Promise.all([this.#channels.refresh(), this.directory.refresh()]);
      this.#events.emit("resync", {});
    }
    // Devices may have appeared while we were away: share in the background, never blocking the feed.
    this.#background("key reconciliation", this.reconcile());
  }

  // --- events ----------------------------------------------------------------------------------

  async #onEvent(event: Event): Promise<void> {
    const p = event.payload;
    switch (p.case) {
      case "messageCreated":
        if (p.value.message) await this.#onMessage(p.value.message);
        return;
      case "channelCreated":
        if (!p.value.channel) return;
        if (!this.keys.channelKey(p.value.channel.channelId)) await this.keys.fetchKeys(); // the creator shares at once
        this.#events.emit("channel-created", await this.#channels.set(p.value.channel));
        return;
      case "channelRenamed": {
        if (!p.value.channel) return;
        const previous = this.#channels.get(p.value.channel.channelId)?.name;
        this.#events.emit("channel-renamed", { channel: await this.#channels.set(p.value.channel), previous });
        return;
      }
      case "channelDeleted": {
        const id = p.value.channelId;
        const gone = this.#channels.remove(id);
        this.#history.drop(id);
        this.store.forgetChannel(id);
        this.#events.emit("channel-deleted", { channelId: id, name: gone?.name });
        return;
      }
      case "deviceAdded": {
        const d = p.value.device;
        if (!d) return;
        await this.keys.checkDevice(d.deviceId, d.userId, d.publicKey); // pins it and announces it
        this.#background("sharing keys with a new device", this.reconcile());
        return;
      }
      case "deviceRevoked":
        this.#events.emit("device-revoked", { deviceId: p.value.deviceId, userId: p.value.userId, user: this.directory.labelOf(p.value.userId) });
        return;
      case "profileUpdated": {
        const profile = p.value.profile;
        if (!profile) return;
        if (profile.encryptedName && !this.keys.directoryKeyAt(profile.keyEpoch)) await this.keys.fetchKeys();
        this.#events.emit("profile-updated", await this.directory.apply(profile));
        return;
      }
      case "userJoined":
        this.#events.emit("user-joined", { userId: p.value.userId, isAdmin: p.value.isAdmin });
        return;
      case "presenceChanged":
        this.#events.emit("presence", { userId: p.value.userId, user: this.directory.labelOf(p.value.userId), online: p.value.online });
        return;
      case "keyShared":
        await this.keys.fetchKeys();
        await this.#reopenNamesIfKeysArrived();
        return;
      case "voiceJoined":
        this.#events.emit("voice", { type: "joined", value: p.value });
        return;
      case "voiceLeft":
        this.#events.emit("voice", { type: "left", value: p.value });
        return;
      case "voiceSignal":
        this.#events.emit("voice", { type: "signal", value: p.value });
        return;
      default:
        return;
    }
  }

  async #onMessage(msg: Message): Promise<void> {
    if (this.#seenMessages.has(msg.messageId)) return;
    if (!this.keys.channelKeyAt(msg.channelId, msg.keyEpoch) && Date.now() - this.#lastFetchForMessage > 1000) {
      // The key may have been shared a moment ago (a new device, a new channel).
      this.#lastFetchForMessage = Date.now();
      await this.keys.fetchKeys();
    }
    const opened = await this.#open(msg);
    this.#remember(opened);
    this.#history.timeline(msg.channelId).merge([opened]);
    this.#events.emit("message", opened);
  }

  async #open(msg: Message): Promise<ChatMessage> {
    const opened = await openMessage(msg, this.keys.channelKeyAt(msg.channelId, msg.keyEpoch), this.directory.nameOf(msg.senderUserId));
    if (opened.error === "missing-key") {
      this.#locked.set(msg.messageId, msg);
      if (this.#locked.size > SEEN_MAX) this.#locked.delete(this.#locked.keys().next().value!);
    } else this.#locked.delete(msg.messageId);
    return opened;
  }

  /** Opens the held messages of a channel whose key arrived; each one opened is emitted as "message-opened". */
  async #reopenLocked(channelId: string): Promise<void> {
    for (const msg of [...this.#locked.values()]) {
      if (msg.channelId !== channelId || !this.keys.channelKeyAt(channelId, msg.keyEpoch)) continue;
      const opened = await this.#open(msg);
      if (opened.error === "missing-key") continue;
      this.#history.timeline(channelId).replace(opened);
      this.#events.emit("message-opened", opened);
    }
  }

  #remember(m: ChatMessage): void {
    this.#seenMessages.add(m.messageId);
    // Bounded: the feed never repeats an old seq, so only recent ids matter for deduplication.
    if (this.#seenMessages.size > SEEN_MAX) {
      const oldest = this.#seenMessages.values().next().value;
      if (oldest !== undefined) this.#seenMessages.delete(oldest);
    }
  }

  #onKeyEvent(e: KeyEvent): void {
    switch (e.type) {
      case "device-pinned":
        this.#events.emit("device-added", {
          deviceId: e.deviceId,
          userId: e.userId,
          user: this.directory.labelOf(e.userId),
          fingerprint: e.fingerprint,
          own: e.own,
          knownUser: e.knownUser,
        });
        return;
      case "device-key-changed":
        this.#events.emit("key-change-refused", {
          deviceId: e.deviceId,
          userId: e.userId,
          user: this.directory.labelOf(e.userId),
          pinnedFingerprint: e.pinnedFingerprint,
          offeredFingerprint: e.offeredFingerprint,
        });
        return;
      case "key-rejected":
        this.#events.emit("key-rejected", {
          scope: e.scope,
          epoch: e.epoch,
          senderUserId: e.senderUserId,
          sender: this.directory.labelOf(e.senderUserId),
          senderDeviceId: e.senderDeviceId,
          reason: e.reason,
        });
        this.#wakeKeyWaiters();
        return;
      case "key-received":
        this.#keysArrived = true;
        this.#events.emit("key-received", { scope: e.scope, epoch: e.epoch, senderDeviceId: e.senderDeviceId });
        if (e.scope.kind === "channel") this.#background("opening messages", this.#reopenLocked(e.scope.channelId));
        this.#wakeKeyWaiters();
        return;
      case "keys-shared":
        return;
    }
  }

  #wakeKeyWaiters(): void {
    for (const w of [...this.#keyWaiters]) w();
  }

  /** Re-opens channel and profile names if keys arrived since the last time. */
  async #reopenNamesIfKeysArrived(): Promise<void> {
    if (!this.#keysArrived) return;
    this.#keysArrived = false;
    await this.#channels.reopen();
    // Names sealed with a key that just arrived open now; the rows may be stale without a stream.
    await this.directory.refresh();
    this.#events.emit("channels-changed", this.channels());
  }

  /**
   * Reconciles keys every second (and at once on KeyShared, via a live stream started for the
   * purpose) until `found` returns a value or `waitMs` passed.
   */
  async #waitForKeys<T>(found: () => T | undefined, waitMs: number): Promise<T | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      await this.reconcile();
      const value = found();
      if (value !== undefined || Date.now() >= deadline) return value;
      if (!this.#sync?.running) this.start({ persistPosition: false });
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#keyWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(1000, Math.max(0, deadline - Date.now())));
        this.#keyWaiters.add(done);
      });
    }
  }

  #rejectionHint(scopes: readonly KeyScope[]): string {
    for (const s of scopes) {
      const r = this.keys.lastRejection(s);
      if (r) return `; an envelope offered was rejected: ${r}`;
    }
    return "";
  }

  // --- channels --------------------------------------------------------------------------------

  async refreshChannels(): Promise<ChannelView[]> {
    return this.#channels.refresh();
  }

  /** Every channel, oldest first. */
  channels(): ChannelView[] {
    return this.#channels.list();
  }

  channel(channelId: string): ChannelView | undefined {
    return this.#channels.get(channelId);
  }

  /**
   * A channel by name ("#general", case-insensitive) or id prefix. Names this device cannot
   * read yet are waited for (up to `waitMs`, keys being shared by other members' clients).
   */
  async resolveChannel(arg: string, waitMs = 0): Promise<ChannelView> {
    try {
      return this.#channels.resolve(arg);
    } catch (err) {
      if (!(err instanceof UsageError && err.code === "unknown-channel") || this.#channels.unreadable().length === 0) throw err;
      const found = await this.#waitForKeys(() => {
        try {
          return this.#channels.resolve(arg);
        } catch {
          return undefined;
        }
      }, waitMs);
      if (found) return found;
      const locked = this.#channels.unreadable();
      throw new KeyError(
        "missing-key",
        `no readable channel named ${JSON.stringify(arg)}: ${locked.length} channel name(s) are still encrypted for this device` +
          ` (no member's client has shared their keys with it yet${this.#rejectionHint(locked.map((c) => ({ kind: "channel", channelId: c.id })))});` +
          ` keep "dialtone tail" running somewhere, or retry`,
      );
    }
  }

  /** The channel's current key, waiting up to `waitMs` for another member's client to share it. */
  async requireChannelKey(channelId: string, waitMs = 0): Promise<EpochKey> {
    const key = this.keys.channelKey(channelId) ?? (await this.#waitForKeys(() => this.keys.channelKey(channelId), waitMs));
    if (key) return key;
    const label = this.#channels.get(channelId)?.name ?? shortId(channelId);
    throw new KeyError(
      "missing-key",
      `this device holds no key for #${label} yet: no member's client has shared it` +
        this.#rejectionHint([{ kind: "channel", channelId }]) +
        (waitMs > 0 ? ` (waited ${Math.round(waitMs / 1000)} s)` : "") +
        `; keep "dialtone tail" running on a device that has it, or retry`,
    );
  }

  async createChannel(name: string): Promise<ChannelView> {
    const clean = checkName("channel name", name);
    const taken = this.#channels.named(clean);
    if (taken) throw new UsageError("invalid-input", `a channel named ${clean} exists (${shortId(taken.id)})`);
    const channelId = randomUUID();
    const key = newChannelKey();
    const encryptedName = await sealChannelName(key, channelId, clean);
    // Keep the key on disk before the channel exists, so a crash cannot leave a channel nobody can read.
    this.store.keystore.setChannelKey(channelId, key.epoch, key.key);
    await this.store.save();
    const { channel } = await this.api.channel.createChannel({ channelId, encryptedName });
    if (!channel) throw new ApiError("internal", "the server answered without a channel");
    const view = await this.#channels.set(channel);
    await this.keys.adoptNewChannelKey(channelId, key);
    await this.store.flush();
    return view;
  }

  async renameChannel(channelId: string, name: string): Promise<{ channel: ChannelView; previous: string | undefined }> {
    const clean = checkName("channel name", name);
    const previous = this.#channels.get(channelId)?.name;
    const key = await this.requireChannelKey(channelId);
    const { channel } = await this.api.channel.renameChannel({ channelId, encryptedName: await sealChannelName(key, channelId, clean) });
    if (!channel) throw new ApiError("internal", "the server answered without a channel");
    return { channel: await this.#channels.set(channel), previous };
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.api.channel.deleteChannel({ channelId });
    this.#channels.remove(channelId);
    this.#history.drop(channelId);
    this.store.forgetChannel(channelId);
    await this.store.flush();
  }

  // --- messages --------------------------------------------------------------------------------

  /** My name as I seal it into messages: my directory name, else my account's short id. */
  myDisplayName(): string {
    return this.directory.nameOf(this.session.userId) ?? userLabel(this.session.userId, undefined);
  }

  /**
   * Sends a message; retried with the same id (idempotent on the server) when the network fails.
   * A caller that retries later (after a reconnect) passes the same `messageId` again, so a send
   * that reached the server before the connection broke is not stored twice.
   */
  async send(channelId: string, text: string, waitMs = 0, messageId: string = randomUUID()): Promise<ChatMessage> {
    if (text.length === 0) throw new UsageError("invalid-input", "the message is empty");
    const key = await this.requireChannelKey(channelId, waitMs);
    const sealed = await sealMessage(key, { channelId, messageId, senderUserId: this.session.userId }, text, this.myDisplayName());
    for (let attempt = 1; ; attempt++) {
      try {
        const { message } = await this.api.message.sendMessage({ messageId, channelId, ...sealed });
        if (!message) throw new ApiError("internal", "the server answered without a message");
        const opened = await this.#open(message);
        this.#remember(opened);
        this.#history.timeline(channelId).merge([opened]);
        return opened;
      } catch (err) {
        if (!(err instanceof ApiError && RETRYABLE.has(err.code)) || attempt >= 3) throw err;
        await new Promise((r) => setTimeout(r, 300 * attempt));
      }
    }
  }

  /** Up to `count` messages older than those held for the channel, oldest first (for scrolling up). */
  loadOlder(channelId: string, count: number): Promise<ChatMessage[]> {
    return this.#history.loadOlder(channelId, count);
  }

  /** The newest `limit` messages of a channel, oldest first. */
  history(channelId: string, limit = 50): Promise<readonly ChatMessage[]> {
    return this.#history.latest(channelId, limit);
  }

  // --- directory, devices, verification ---------------------------------------------------------

  users(): UserView[] {
    return this.directory.users();
  }

  /** A user by directory name (case-insensitive) or user id prefix. */
  resolveUser(arg: string): UserView {
    return resolveByNameOrId(this.users(), arg, (u) => ({ id: u.userId, name: u.name, label: u.label }), "user");
  }

  /** Seals my display name with the directory key (creating that key if nobody has one yet). */
  async setProfileName(name: string, waitMs = 0): Promise<UserView> {
    const clean = checkName("profile name", name);
    let key = await this.keys.ensureDirectoryKey(true);
    if (!key) key = await this.#waitForKeys(() => this.keys.directoryKey(), waitMs);
    await this.#reopenNamesIfKeysArrived();
    if (!key) {
      throw new KeyError(
        "missing-key",
        "this device holds no directory key yet: other members have profiles, so one of their clients must share it" +
          this.#rejectionHint([{ kind: "directory" }]),
      );
    }
    const encryptedName = await sealText(key, { purpose: "profile-name", userId: this.session.userId }, clean);
    const { profile } = await this.api.directory.setProfile({ encryptedName, keyEpoch: key.epoch });
    await this.store.flush();
    if (!profile) throw new ApiError("internal", "the server answered without a profile");
    return this.directory.apply(profile);
  }

  /** Who is online now, per account (the "presence" event reports changes after this). */
  async presence(): Promise<{ userId: string; online: boolean; isAdmin: boolean }[]> {
    const { presences } = await this.api.presence.listPresence({});
    return presences.map((p) => ({ userId: p.userId, online: p.online, isAdmin: p.isAdmin }));
  }

  /** The non-empty voice rooms (the "voice" joined/left events report changes after this). */
  async voiceRooms(): Promise<{ channelId: string; members: { userId: string; deviceId: string }[] }[]> {
    const { rooms } = await this.api.voice.listVoiceRooms({});
    return rooms.map((r) => ({ channelId: r.channelId, members: r.members.map((m) => ({ userId: m.userId, deviceId: m.deviceId })) }));
  }

  /** Every active device of every user, pinning the ones seen for the first time. */
  async devices(): Promise<DeviceView[]> {
    const { devices } = await this.api.device.listDevices({});
    const out: DeviceView[] = [];
    for (const d of devices) {
      const status = await this.keys.checkDevice(d.deviceId, d.userId, d.publicKey);
      const pinned = this.store.keystore.pinnedDevice(d.deviceId);
      const raw = Buffer.from(d.publicKey, "base64");
      out.push({
        deviceId: d.deviceId,
        userId: d.userId,
        user: this.directory.labelOf(d.userId),
        fingerprint: raw.length === 32 ? await deviceFingerprint(raw) : "(invalid key)",
        current: d.deviceId === this.session.deviceId,
        status,
        verified: pinned?.verified === true && status !== "changed",
        createdAt: d.createdAt ? timestampDate(d.createdAt) : undefined,
        lastSeenAt: d.lastSeenAt ? timestampDate(d.lastSeenAt) : undefined,
      });
    }
    await this.store.flush();
    return out;
  }

  async safetyNumber(userId: string): Promise<SafetyNumberResult> {
    const result = await computeSafetyNumber({ api: this.api, keys: this.keys, store: this.store, me: this.session }, userId);
    await this.store.flush();
    return result;
  }

  async markVerified(result: SafetyNumberResult): Promise<void> {
    markVerified(this.store, result);
    await this.store.flush();
  }

  async whoami(): Promise<{
    userId: string;
    deviceId: string;
    isAdmin: boolean;
    expiresAt: Date | undefined;
    name: string | undefined;
    fingerprint: string;
    publicKey: string;
  }> {
    const s = await this.api.auth.getSession({});
    const pk = this.store.keystore.devicePublicKey;
    return {
      userId: s.userId,
      deviceId: s.deviceId,
      isAdmin: s.isAdmin,
      expiresAt: s.expiresAt ? timestampDate(s.expiresAt) : undefined,
      name: this.directory.nameOf(s.userId),
      fingerprint: await deviceFingerprint(pk),
      publicKey: publicKeyToBase64(pk),
    };
  }

  /** Mints an invite (admins). The token is secret: show it to the person invited only. */
  async createInvite(
    options: { maxUses?: number; lifetimeSeconds?: number } = {},
  ): Promise<{ token: string; inviteId: string; expiresAt: Date | undefined; maxUses: number }> {
    const res = await this.api.invite.createInvite({
      ...(options.maxUses !== undefined ? { maxUses: options.maxUses } : {}),
      ...(options.lifetimeSeconds !== undefined ? { lifetimeSeconds: options.lifetimeSeconds } : {}),
    });
    return {
      token: res.token,
      inviteId: res.invite?.inviteId ?? "",
      expiresAt: res.invite?.expiresAt ? timestampDate(res.invite.expiresAt) : undefined,
      maxUses: res.invite?.maxUses ?? 0,
    };
  }
}
