// The chat screen's state, fed by a DialtoneClient's events: one scrollback per channel (and one
// for lines with no channel), unread counts, presence, voice rooms, the connection, and the
// background tasks in flight. Every network or crypto call runs here as a task: a key handler
// only queues it, and the screen shows it as pending until it settles.
import {
  ApiError,
  KeyError,
  RESYNC_NOTICE,
  channelCreatedNotice,
  channelDeletedNotice,
  channelRenamedNotice,
  deviceAddedNotice,
  deviceRevokedNotice,
  isNewDeviceNews,
  keyChangeRefusedNotice,
  keyRejectedNotice,
  adminChangedNotice,
  userRemovedNotice,
  keysWithheldNotice,
  identityNotice,
  trustNotice,
  senderText,
  unopenedBody,
  userJoinedNotice,
  type Notice,
  type ChannelView,
  type ChatMessage,
  type ClientEvents,
  type ConnectionState,
  type DialtoneClient,
  type OutboxUpdate,
  mentionsMe,
  unreadCounts,
  firstLine,
  DEFAULT_UI_SETTINGS,
  type UiSettings,
  type ConversationEntry,
} from "../core/index.js";
import { dayRules } from "./day-rules.js";
import { entryView, actionText, type EntryViewContext } from "./entry-view.js";
import { textMarks } from "./marks.js";
import { UI_HINTS } from "./command-hints.js";
import { errorText } from "./errors.js";
import { Scrollback, type PaneEntry } from "./scrollback.js";

/** Panes keep this many entries as messages arrive (scrolling up pages older ones back in). */
const PANE_MAX = 5000;

/** How many pages back a jump to a replied-to message looks. */
const JUMP_PAGES = 20;
/** Messages fetched when a channel is first opened, and per page when scrolling past the top. */
export const FIRST_PAGE = 100;
export const OLDER_PAGE = 100;

export interface ConnectionView {
  readonly state: ConnectionState;
  /** The stream was online before: a drop now means "reconnecting". */
  readonly wasOnline: boolean;
  readonly error?: string;
  /** The server ended the session: no more reconnecting. */
  readonly ended?: boolean;
}

export interface ChatStateOptions {
  readonly width: number;
  readonly changed: () => void;
  /** The channel to open first (the one used last on this server), if it still exists. */
  readonly lastChannel?: string;
  /** A channel was opened: the app remembers it for the next start. */
  readonly opened?: (channelId: string) => void;
  /** A message mentions me where I am not looking (another channel, or the window unfocused): ring, notify. */
  readonly mentioned?: (m: { readonly channelId: string; readonly title: string; readonly body: string }) => void;
  /** The settings changed (/notify, /mute, /typing): the app writes them to disk. */
  readonly saveSettings?: (s: UiSettings) => void;
}

/** A message the input acts on, and how it is shown above the input ("replying to alice: lunch?"). */
export interface Compose {
  readonly kind: "reply" | "edit" | "react" | "delete";
  readonly channelId: string;
  readonly messageId: string;
  /** "alice: lunch?" */
  readonly label: string;
}

/** A typing notice is sent at most this often while the input holds text. */
export const TYPING_SEND_MS = 3_000;
/** "alice is typing…" shows this long after her last notice. */
export const TYPING_SHOW_MS = 6_000;

export interface VoiceRoomMember {
  readonly userId: string;
  readonly deviceId: string;
}

/**
 * The system view's id among the channels' (never a UUID): command output (/help, /list,
 * /devices, /admin users...) and notices that belong to no channel (voice) go there, not into
 * the open channel's messages, as in irssi's or weechat's status window.
 */
export const SYSTEM_VIEW = "system";

/** The pane id of the "new messages" line (one per pane). */
const NEW_RULE_ID = "rule-new";

export class ChatState {
  readonly client: DialtoneClient;
  channels: ChannelView[] = [];
  activeId: string | undefined;
  cursorId: string | undefined;
  connection: ConnectionView = { state: "offline", wasOnline: false };
  readonly unread = new Map<string, number>();
  /** Per channel: unread messages that mention me or reply to me (a part of `unread`). */
  readonly mentions = new Map<string, number>();
  /**
   * Whether the terminal window has focus: true until a terminal that reports focus (CSI ?1004h)
   * says otherwise. Assumed focused when unknown, so a terminal that never reports does not mark
   * every open channel unread and ring at every mention in it.
   */
  focused = true;
  /** /notify, /mute, /typing: the app loads them from disk at start (applySettings). */
  settings: UiSettings = DEFAULT_UI_SETTINGS;
  /** channelId → userId → who is typing there and the timer that forgets it. */
  readonly #typing = new Map<string, Map<string, { user: string; timer: NodeJS.Timeout }>>();
  /** When this client last said it is typing, per channel (the notice is repeated every TYPING_SEND_MS). */
  readonly #typingSent = new Map<string, number>();
  /** The message selected in the open channel (alt+up), by id. */
  selectedId: string | undefined;
  /** What the input composes besides a plain message: a reply, an edit, a reaction to a message. */
  compose: Compose | undefined;
  /** A deletion waiting for y/n. */
  confirmDelete: Compose | undefined;
  /** The seq each channel's read marker was last asked to move to. */
  readonly #reading = new Map<string, bigint>();
  /** Online accounts, from ListPresence and then the feed's presence events. */
  readonly online = new Map<string, boolean>();
  /** channelId → deviceId → member. */
  readonly voiceRooms = new Map<string, Map<string, VoiceRoomMember>>();
  /** Labels of the background tasks in flight, by task id. */
  readonly tasks = new Map<number, string>();
  readonly #panes = new Map<string, Scrollback>();
  readonly #firstLoad = new Map<string, "loading" | "done">();
  readonly #older = new Map<string, "loading" | "exhausted">();
  readonly #changed: () => void;
  #width: number;
  #taskIds = 0;
  #lineIds = 0;
  #pendingIds = 0;
  /** The client's outbox entries typed here, by message id: the grey line drawn for each until it settles. */
  readonly #sends = new Map<string, { readonly pane: Scrollback; readonly lineId: string; readonly taskId: number }>();
  /** Device notices waiting for the check that they are newer than this install. */
  #deviceNotices: ClientEvents["device-added"][] = [];
  #deviceCheck = false;
  /** Channels this user is deleting (their command says so; the feed's event need not repeat it). */
  readonly #deleting = new Set<string>();
  #lastSystem = "";
  #unsubscribe: (() => void)[] = [];
  /** System lines held while their channel's history loads. */
  readonly #afterLoad = new Map<string, { lines: readonly string[]; kind: "system" | "highlight" }[]>();
  /** Channels created by others whose name this device could not read yet. */
  readonly #unnamed = new Set<string>();
  /** The label each user had when last shown, to announce a name change once. */
  readonly #labels = new Map<string, string>();
  /** A name to publish once the directory key reaches this device (after registering). */
  #namePending: string | undefined;
  /** A publishName attempt is running (it waits for the directory key). */
  #namePublishing = false;
  /** The channel open before the system view, for esc. */
  #beforeSystem: string | undefined;
  /** The newest system-view line not seen yet: the status row shows it until the view is opened. */
  systemNews: string | undefined;

  readonly #o: ChatStateOptions;

  constructor(client: DialtoneClient, options: ChatStateOptions) {
    this.client = client;
    this.#o = options;
    this.#width = options.width;
    this.#changed = options.changed;
    this.channels = client.channels();
  }

  get me(): { readonly userId: string; readonly deviceId: string; readonly isAdmin: boolean } {
    return this.client.me;
  }

  get active(): ChannelView | undefined {
    return this.activeId ? this.client.channel(this.activeId) : undefined;
  }

  /** The system view is open (not a channel). */
  get inSystem(): boolean {
    return this.activeId === SYSTEM_VIEW;
  }

  /** Subscribes to the client and starts its event stream (resuming after the saved position). */
  attach(): void {
    const on = <K extends keyof ClientEvents>(name: K, fn: (v: ClientEvents[K]) => void) =>
      this.#unsubscribe.push(
        this.client.on(name, (v) => {
          fn(v);
          this.#changed();
        }),
      );
    on("message", (m) => this.#onMessage(m));
    on("message-opened", (m) => {
      // An edit or a reaction shown as an unopened line until now: it folds into its message.
      const kind = m.relation?.kind;
      if (kind === "edit" || kind === "reaction") this.#panes.get(m.channelId)?.remove(m.messageId);
      else if (this.#panes.get(m.channelId)?.has(m.messageId)) {
        const pane = this.#panes.get(m.channelId)!;
        const entry = this.#entry(m, pane.get(m.messageId)?.kind === "history");
        if (entry) pane.replace(m.messageId, entry);
      }
      this.#refresh(m.channelId);
      this.#recount(m.channelId);
    });
    // The pane's lines are rebuilt from the client's entries, which hold the relabelled messages.
    on("senders-relabelled", ({ channelId }) => this.#refresh(channelId));
    on("message-deleted", ({ channelId }) => {
      this.#refresh(channelId);
      this.#recount(channelId);
    });
    on("read-marker", ({ channelId }) => this.#recount(channelId));
    on("typing", (t) => this.#onTyping(t));
    on("channel-created", (c) => {
      this.#refreshChannels();
      if (c.createdByUserId === this.me.userId) return;
      // Its key usually follows a moment later: announce it by name once it opens.
      if (c.name === undefined) this.#unnamed.add(c.id);
      else this.notice(channelCreatedNotice(c.name, c.id));
    });
    on("channel-renamed", (r) => {
      this.#refreshChannels();
      this.notice(channelRenamedNotice(r), r.channel.id);
    });
    on("channel-deleted", ({ channelId, name }) => this.#onChannelDeleted(channelId, name));
    on("channels-changed", () => {
      this.#refreshChannels();
      for (const id of this.#unnamed) {
        const name = this.client.channel(id)?.name;
        if (name === undefined) continue;
        this.#unnamed.delete(id);
        this.notice(channelCreatedNotice(name, id));
      }
    });
    on("device-added", (d) => {
      // A member's first device is pinned silently (trust on first use); a further one is news.
      if (isNewDeviceNews(d)) this.#checkNewDevice(d);
    });
    on("device-revoked", (d) => this.notice(deviceRevokedNotice(d)));
    on("key-change-refused", (k) => this.notice(keyChangeRefusedNotice(k)));
    on("key-rejected", (k) => this.notice(keyRejectedNotice(k)));
    on("keys-withheld", (k) => this.notice(keysWithheldNotice(k)));
    on("trust", (t) => {
      const n = trustNotice(t, UI_HINTS);
      if (n) this.notice(n);
    });
    on("identity", (s) => {
      const n = identityNotice(s, UI_HINTS);
      if (n) this.notice(n);
    });
    on("key-received", (k) => {
      if (k.scope.kind === "directory" && this.#namePending) this.publishName(this.#namePending);
    });
    on("profile-updated", (u) => {
      const before = this.#labels.get(u.userId);
      this.#labels.set(u.userId, u.label);
      if (before !== undefined && before !== u.label && u.userId !== this.me.userId) this.system(`${before} is now known as ${u.label}`);
    });
    on("admin-changed", (a) => this.notice(adminChangedNotice(a)));
    on("user-removed", (u) => {
      this.online.delete(u.userId);
      this.notice(userRemovedNotice(u));
    });
    on("user-joined", (u) => {
      this.online.set(u.userId, this.online.get(u.userId) ?? false);
      this.#labels.set(u.userId, u.user);
      this.notice(userJoinedNotice(u));
    });
    on("presence", (p) => this.online.set(p.userId, p.online));
    on("connection", (c) => this.#onConnection(c));
    this.#unsubscribe.push(
      this.client.outbox.on((u) => {
        this.#onOutbox(u);
        this.#changed();
      }),
    );
    on("resync", () => {
      this.#refreshChannels();
      this.notice(RESYNC_NOTICE);
    });
    on("voice", (v) => {
      if (v.type === "signal") return;
      const m = v.value.member;
      if (!m) return;
      let room = this.voiceRooms.get(m.channelId);
      if (v.type === "joined") {
        if (!room) this.voiceRooms.set(m.channelId, (room = new Map()));
        room.set(m.deviceId, { userId: m.userId, deviceId: m.deviceId });
      } else if (room) {
        room.delete(m.deviceId);
        if (room.size === 0) this.voiceRooms.delete(m.channelId);
      }
    });
    on("error", (e) => {
      if (e.message.startsWith("event stream stopped")) {
        // The session was revoked or expired: the stream will not come back by itself.
        this.#sessionEnded(e.cause instanceof ApiError ? e.cause.message : errorText(e.cause));
        return;
      }
      if (this.#sessionEnded(undefined, e.cause)) return;
      // While offline every background call fails the same way; the header already says so.
      if (this.connection.state === "online") this.system(`${e.message}: ${errorText(e.cause)}`);
    });
    for (const u of this.client.users()) this.#labels.set(u.userId, u.label);
    this.client.start({ resume: true });
    // The channel used last on this server (remembered by the app), else the first by name.
    const last = this.#o.lastChannel ? this.client.channel(this.#o.lastChannel) : undefined;
    const first = last ?? [...this.channels].sort(byLabel)[0];
    if (first) this.activate(first.id);
    else this.system(this.me.isAdmin ? "no channels yet: /channel create <name> makes one" : "no channels yet: an admin can create one");
  }

  detach(): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    for (const users of this.#typing.values()) for (const u of users.values()) clearTimeout(u.timer);
    this.#typing.clear();
  }

  // --- settings and typing ------------------------------------------------------------------

  applySettings(s: UiSettings): void {
    this.settings = s;
    this.#changed();
  }

  /** Changes settings and has them saved. */
  updateSettings(change: Partial<UiSettings>): void {
    this.settings = { ...this.settings, ...change };
    this.#o.saveSettings?.(this.settings);
    if (change.typing === false) {
      for (const users of this.#typing.values()) for (const u of users.values()) clearTimeout(u.timer);
      this.#typing.clear();
    }
    this.#changed();
  }

  #onTyping(t: ClientEvents["typing"]): void {
    if (!this.settings.typing || t.userId === this.me.userId) return;
    let users = this.#typing.get(t.channelId);
    const old = users?.get(t.userId);
    if (old) clearTimeout(old.timer);
    if (!t.typing) {
      users?.delete(t.userId);
      return;
    }
    if (!users) this.#typing.set(t.channelId, (users = new Map()));
    const timer = setTimeout(() => {
      users.delete(t.userId);
      this.#changed();
    }, TYPING_SHOW_MS);
    timer.unref();
    users.set(t.userId, { user: t.user, timer });
  }

  /** Who is typing in a channel now (labels, in the order they started). */
  typingIn(channelId: string | undefined = this.activeId): string[] {
    if (!channelId) return [];
    return [...(this.#typing.get(channelId)?.values() ?? [])].map((u) => u.user);
  }

  /**
   * The input changed: while it holds text for the open channel, tell the others at most every
   * TYPING_SEND_MS; once it is empty again (sent or cleared), say it stopped.
   */
  inputChanged(text: string, now = Date.now()): void {
    const id = this.activeId;
    if (!this.settings.typing || !id || id === SYSTEM_VIEW || text.startsWith("/") || text.trim() === "") {
      this.#stopTyping();
      return;
    }
    const last = this.#typingSent.get(id);
    if (last !== undefined && now - last < TYPING_SEND_MS) return;
    for (const other of this.#typingSent.keys()) if (other !== id) this.#sendTyping(other, false);
    this.#typingSent.set(id, now);
    this.#sendTyping(id, true);
  }

  #stopTyping(): void {
    for (const id of [...this.#typingSent.keys()]) this.#sendTyping(id, false);
  }

  #sendTyping(channelId: string, typing: boolean): void {
    if (!typing) this.#typingSent.delete(channelId);
    // A notice that does not get through (offline) is not worth a line: the next one says the same.
    this.client.setTyping(channelId, typing).catch(() => {});
  }

  /**
   * Marks the session as ended (once, with a line saying what to do) when `cause` says the server
   * no longer takes it: logged out elsewhere (`dialtone logout`), the device revoked, or expired.
   * The server ends the stream of a logged-out or revoked session at once; an expired session's
   * stream may stay open, so a refused call can be the first sign. Returns whether it was that.
   */
  #sessionEnded(why: string | undefined, cause?: unknown): boolean {
    const refused = cause instanceof ApiError && cause.code === "unauthenticated";
    if (why === undefined && !refused) return false;
    if (!this.connection.ended) {
      this.connection = { ...this.connection, ended: true };
      // The server's own words ("invalid or expired session", "the session was logged out"), once.
      const reason = refused ? cause.message : (why ?? errorText(cause));
      this.system(`the session ended (${reason}): /logout, then log in again`, undefined, "highlight");
    }
    return true;
  }

  /** Messages not yet stored by the server (say, at quit while offline), oldest first. */
  unsent(): { readonly channelId: string; readonly text: string }[] {
    return this.client.outbox.pending().map((e) => ({ channelId: e.channelId, text: e.text }));
  }

  /** How many messages wait to be sent, and whether they wait for the connection. */
  get outbox(): { readonly count: number; readonly waiting: boolean } {
    return this.client.outbox.status;
  }

  /**
   * Announces a new device, unless it is older than this install's own device: a fresh install
   * pins every existing device the first time it sees it, and the other devices of its own
   * account (or a member's second one) are not news then.
   */
  #checkNewDevice(d: ClientEvents["device-added"]): void {
    this.#deviceNotices.push(d);
    if (this.#deviceCheck) return;
    this.#deviceCheck = true;
    const announce = (n: ClientEvents["device-added"]) => this.notice(deviceAddedNotice(n, UI_HINTS));
    this.run("", async () => {
      try {
        while (this.#deviceNotices.length > 0) {
          const batch = this.#deviceNotices.splice(0);
          let devices: Awaited<ReturnType<DialtoneClient["devices"]>> | undefined;
          try {
            devices = await this.client.devices();
          } catch {
            // Cannot tell: a notice too many beats a missed one.
          }
          const mine = devices?.find((x) => x.current)?.createdAt;
          for (const n of batch) {
            const created = devices?.find((x) => x.deviceId === n.deviceId)?.createdAt;
            if (mine && created && created.getTime() < mine.getTime()) continue;
            announce(n);
          }
        }
      } finally {
        this.#deviceCheck = false;
      }
    });
  }

  // --- panes --------------------------------------------------------------------------------

  pane(channelId: string | undefined = this.activeId): Scrollback {
    const key = channelId ?? SYSTEM_VIEW;
    let pane = this.#panes.get(key);
    if (!pane) this.#panes.set(key, (pane = new Scrollback(this.#width, { maxEntries: PANE_MAX })));
    return pane;
  }

  /** The pane width changed (resize, sidebar toggled). Panes re-wrap when next shown. */
  setWidth(width: number): void {
    this.#width = width;
    this.pane().setWidth(width);
  }

  /** A line not from anyone: notices, command output, errors. Goes to `channelId`'s pane, else the active one. */
  /** Adds a notice to a pane; returns its entry id (undefined when held back or a repeat). */
  system(text: string | readonly string[], channelId?: string, kind: "system" | "highlight" = "system"): string | undefined {
    const lines = typeof text === "string" ? [text] : text;
    const target = channelId ?? this.activeId;
    if (target !== undefined && this.isLoading(target)) {
      // Shown after the history that is loading, not above it.
      this.#afterLoad.set(target, [...(this.#afterLoad.get(target) ?? []), { lines, kind }]);
      return undefined;
    }
    const pane = this.pane(target);
    const joined = lines.join("\n");
    // The same notice twice in a row (a flapping background task) is shown once.
    if (joined === this.#lastSystem && pane.newest?.body === joined) return undefined;
    this.#lastSystem = joined;
    const id = `sys-${++this.#lineIds}`;
    pane.add({ id, order: pane.newest?.order ?? 0n, time: new Date(), kind, body: joined });
    this.#changed();
    return id;
  }

  /**
   * Command output the user asked for (/help, /list, /devices...): into the system view, which
   * opens (esc goes back to the channel).
   */
  report(text: string | readonly string[], kind: "system" | "highlight" = "system"): void {
    const id = this.system(text, SYSTEM_VIEW, kind);
    if (!this.inSystem) this.activate(SYSTEM_VIEW);
    // Read from its top: output longer than the pane (/help) would otherwise open on its end.
    if (id !== undefined) this.pane(SYSTEM_VIEW).showFromStart(id);
  }

  /** A notice that belongs to no channel (voice): into the system view, counted and shown in the status row until seen. */
  global(text: string | readonly string[], kind: "system" | "highlight" = "system"): void {
    this.system(text, SYSTEM_VIEW, kind);
    if (this.inSystem) return;
    const lines = typeof text === "string" ? [text] : text;
    this.systemNews = lines.join(" ");
    this.unread.set(SYSTEM_VIEW, (this.unread.get(SYSTEM_VIEW) ?? 0) + 1);
    this.#changed();
  }

  /** Leaves the system view for the channel open before it (esc); false when not in it. */
  back(): boolean {
    if (!this.inSystem) return false;
    const to = this.#beforeSystem && this.client.channel(this.#beforeSystem) ? this.#beforeSystem : [...this.channels].sort(byLabel)[0]?.id;
    if (!to) return false;
    // Output read from its top (/help) was read: the view comes back at its newest notices.
    this.pane(SYSTEM_VIEW).toBottom();
    this.activate(to);
    return true;
  }

  /** A shared notice (client/core/views): anything above "info" stands out. */
  notice(n: Notice, channelId?: string): void {
    this.system(n.text, channelId, n.level === "info" ? "system" : "highlight");
  }

  isLoading(channelId: string | undefined = this.activeId): boolean {
    return channelId !== undefined && this.#firstLoad.get(channelId) === "loading";
  }

  olderState(channelId: string | undefined = this.activeId): "loading" | "exhausted" | undefined {
    return channelId === undefined ? undefined : this.#older.get(channelId);
  }

  /** The pane entry of a message as the conversation reads it; undefined for an edit or a reaction (they change another entry). */
  #entry(m: ChatMessage, history: boolean): PaneEntry | undefined {
    const kind = m.relation?.kind;
    if (kind === "edit" || kind === "reaction") return undefined;
    const e = this.client.entries(m.channelId).find((x) => x.message.messageId === m.messageId);
    if (e) return entryView(e, { ...this.#viewContext(), history });
    const mine = m.senderUserId === this.me.userId;
    const name = senderText(m);
    if (m.body === undefined) return { id: m.messageId, order: m.seq, time: m.sentAt, kind: "placeholder", name, body: unopenedBody(m) };
    return { id: m.messageId, order: m.seq, time: m.sentAt, kind: history ? "history" : mine ? "own" : "other", name, body: m.body };
  }

  #viewContext(): Omit<EntryViewContext, "history"> {
    const users = this.client.users();
    return {
      myUserId: this.me.userId,
      labelOf: (id: string) => this.client.directory.labelOf(id),
      marks: (text: string) => textMarks(text, users, this.me.userId),
    };
  }

  /** History's pane entries (edits and reactions fold into theirs). */
  #entries(messages: readonly ChatMessage[]): PaneEntry[] {
    return messages.flatMap((m) => this.#entry(m, true) ?? []);
  }

  /**
   * The "── new messages ──" line above the first entry past the read marker, as the channel
   * opens (it stays where it was put while the channel stays open, so what was new stays marked).
   */
  #markNew(channelId: string): void {
    const pane = this.#panes.get(channelId);
    if (!pane) return;
    pane.remove(NEW_RULE_ID);
    const { firstUnreadSeq } = unreadCounts(this.client.entries(channelId), this.client.readMarker(channelId), this.me.userId);
    if (firstUnreadSeq === undefined) return;
    pane.add({ id: NEW_RULE_ID, order: firstUnreadSeq - 1n, time: new Date(), kind: "highlight", body: "new messages", rule: true });
  }

  /** The date lines ("── Tuesday 1 December ──") before the first entry of each day. */
  #dayRules(channelId: string): void {
    const pane = this.#panes.get(channelId);
    if (!pane) return;
    const entries = this.client.entries(channelId);
    const rules = dayRules(entries.map((e) => ({ seq: e.message.seq, time: e.message.sentAt })));
    for (const r of rules) {
      const id = `day-${r.key}`;
      const before = pane.get(id);
      if (before?.order === r.order) continue;
      pane.replace(id, { id, order: r.order, time: r.time, kind: "system", body: r.label, rule: true });
    }
  }

  /**
   * Redraws the entries of a channel's pane that changed: an edit, a reaction (or one taken back),
   * a deletion, a reply's target opening.
   */
  #refresh(channelId: string): void {
    const pane = this.#panes.get(channelId);
    if (!pane) return;
    const ctx = this.#viewContext();
    for (const e of this.client.entries(channelId)) {
      const id = e.message.messageId;
      const before = pane.get(id);
      if (!before) continue;
      const after = entryView(e, { ...ctx, history: before.kind === "history" });
      if (!samePaneEntry(before, after)) pane.replace(id, after);
    }
    this.#dayRules(channelId);
  }

  #onMessage(m: ChatMessage): void {
    // They sent: no longer typing.
    const typing = this.#typing.get(m.channelId)?.get(m.senderUserId);
    if (typing) {
      clearTimeout(typing.timer);
      this.#typing.get(m.channelId)?.delete(m.senderUserId);
    }
    const pane = this.pane(m.channelId);
    const entry = this.#entry(m, false);
    if (entry) pane.add(entry);
    this.#refresh(m.channelId);
    this.#recount(m.channelId);
    this.#maybeMentioned(m);
  }

  /** Rings (and notifies) for a live message that calls for me where I am not looking. */
  #maybeMentioned(m: ChatMessage): void {
    if (m.senderUserId === this.me.userId || m.seq <= this.client.readMarker(m.channelId)) return;
    const e = this.client.entries(m.channelId).find((x) => x.message.messageId === m.messageId);
    if (!e || !mentionsMe(e, this.me.userId)) return;
    if (m.channelId === this.activeId && this.focused) return;
    if (this.settings.muted.has(m.channelId)) return;
    const channel = this.client.channel(m.channelId)?.label ?? "a channel";
    const text = e.text ?? "";
    this.#o.mentioned?.({
      channelId: m.channelId,
      title: `${senderText(m)} in #${channel}`,
      body: firstLine(actionText(text) ?? text, 120),
    });
  }

  /**
   * Unread and mention counts of a channel past the account's read marker (loaded messages only).
   * The channel open, scrolled to the bottom and focused is read instead: its marker moves.
   */
  #recount(channelId: string): void {
    if (!this.client.channel(channelId)) return;
    const c = unreadCounts(this.client.entries(channelId), this.client.readMarker(channelId), this.me.userId);
    const set = (map: Map<string, number>, n: number) => (n > 0 ? map.set(channelId, n) : map.delete(channelId));
    set(this.unread, c.unread);
    set(this.mentions, c.mentions);
    if (channelId === this.activeId) this.markShownRead();
  }

  /**
   * Reading: the open channel, scrolled to the bottom, the window focused, its history loaded.
   * Moves the account's read marker to the newest message shown (every device of the account
   * hears of it). Called after each change and each frame; a marker already there sends nothing.
   */
  markShownRead(): void {
    const id = this.activeId;
    if (!id || id === SYSTEM_VIEW || !this.focused || this.#firstLoad.get(id) !== "done") return;
    const pane = this.#panes.get(id);
    if (!pane?.atBottom) return;
    const entries = this.client.entries(id);
    const newest = entries[entries.length - 1]?.message.seq;
    if (newest === undefined || newest <= this.client.readMarker(id) || newest <= (this.#reading.get(id) ?? 0n)) return;
    this.#reading.set(id, newest); // asked once: frames drawn before the server answers ask nothing more
    this.unread.delete(id);
    this.mentions.delete(id);
    this.run("", () => this.client.markRead(id, newest));
  }

  /** Counts every channel from what is loaded (at start, after the first pages came in). */
  recountAll(): void {
    for (const c of this.channels) this.#recount(c.id);
  }

  /**
   * Loads the newest page of each channel not loaded yet, so that the sidebar's unread and mention
   * counts are true from the start (they count past the account's read marker).
   */
  preloadCounts(): void {
    for (const c of this.channels) {
      if (this.#firstLoad.has(c.id) || c.name === undefined) continue;
      // Counting is a nicety: a channel whose page does not come (no key yet) counts what arrives live.
      this.client.history(c.id, FIRST_PAGE).then(
        () => {
          this.#recount(c.id);
          this.#changed();
        },
        () => {},
      );
    }
  }

  // --- channels -----------------------------------------------------------------------------

  #refreshChannels(): void {
    this.channels = this.client.channels();
    const gone = (id: string | undefined) => id !== undefined && id !== SYSTEM_VIEW && !this.client.channel(id);
    if (gone(this.activeId)) this.activeId = undefined;
    if (gone(this.cursorId)) this.cursorId = this.activeId;
  }

  #onChannelDeleted(channelId: string, name: string | undefined): void {
    this.#refreshChannels();
    this.unread.delete(channelId);
    this.#panes.delete(channelId);
    this.#firstLoad.delete(channelId);
    this.#older.delete(channelId);
    // Said wherever the user is: a channel vanishing from the sidebar without a word is confusing.
    if (!this.#deleting.delete(channelId)) this.notice(channelDeletedNotice({ channelId, name }));
  }

  /** Runs the deletion of a channel by this user (its own line says so, not the feed's echo). */
  async deleteChannel(channelId: string): Promise<void> {
    this.#deleting.add(channelId);
    try {
      await this.client.deleteChannel(channelId);
    } catch (err) {
      this.#deleting.delete(channelId);
      throw err;
    }
  }

  /** Opens a channel: clears its unread count and, the first time, loads its recent history. */
  activate(channelId: string): void {
    if (channelId === SYSTEM_VIEW && !this.inSystem) this.#beforeSystem = this.activeId;
    this.activeId = channelId;
    this.cursorId = channelId;
    this.unread.delete(channelId);
    const pane = this.pane(channelId);
    pane.setWidth(this.#width);
    if (channelId === SYSTEM_VIEW) {
      this.systemNews = undefined;
      this.#changed();
      return;
    }
    this.#o.opened?.(channelId);
    this.selectedId = undefined;
    if (this.#firstLoad.get(channelId) === "done") {
      this.#markNew(channelId);
      this.#recount(channelId);
    }
    if (!this.#firstLoad.has(channelId)) {
      this.#firstLoad.set(channelId, "loading");
      this.run("loading messages", async () => {
        try {
          const messages = await this.client.history(channelId, FIRST_PAGE);
          pane.prependOlder(this.#entries(messages.filter((m) => !pane.has(m.messageId))));
          if (messages.length < FIRST_PAGE) this.#older.set(channelId, "exhausted");
          this.#firstLoad.set(channelId, "done");
          this.#refresh(channelId);
          this.#markNew(channelId);
          this.#recount(channelId);
        } catch (err) {
          this.#firstLoad.delete(channelId); // try again when the channel is next opened
          throw err;
        } finally {
          const waiting = this.#afterLoad.get(channelId) ?? [];
          this.#afterLoad.delete(channelId);
          for (const w of waiting) this.system(w.lines, channelId, w.kind);
        }
      });
    }
    this.#changed();
  }

  /** Pages older history into the active pane (when the user scrolled to its top). */
  loadOlder(): void {
    const id = this.activeId;
    if (!id || this.#older.has(id) || this.#firstLoad.get(id) !== "done") return;
    this.#older.set(id, "loading");
    const pane = this.pane(id);
    this.run("loading older messages", async () => {
      try {
        const older = await this.client.loadOlder(id, OLDER_PAGE);
        pane.prependOlder(this.#entries(older.filter((m) => !pane.has(m.messageId))));
        this.#refresh(id);
        if (older.length === 0) this.#older.set(id, "exhausted");
        else this.#older.delete(id);
      } catch (err) {
        this.#older.delete(id);
        throw err;
      }
    });
  }

  /**
   * Selects the message a reply points at (g on a selected reply), paging older history into
   * the pane until it is there (at most JUMP_PAGES pages back).
   */
  jumpTo(messageId: string, height: number): void {
    const id = this.activeId;
    // Not while a page is loading; an exhausted history (its beginning in view) just looks in the pane.
    if (!id || this.#older.get(id) === "loading" || this.#firstLoad.get(id) !== "done") return;
    const pane = this.pane(id);
    let exhausted = this.#older.get(id) === "exhausted";
    this.#older.set(id, "loading");
    this.run("finding the message replied to", async () => {
      try {
        for (let page = 0; !pane.has(messageId) && !exhausted && page < JUMP_PAGES; page++) {
          const older = await this.client.loadOlder(id, OLDER_PAGE);
          pane.prependOlder(this.#entries(older.filter((m) => !pane.has(m.messageId))));
          this.#refresh(id);
          exhausted = older.length === 0;
        }
      } finally {
        if (exhausted) this.#older.set(id, "exhausted");
        else this.#older.delete(id);
      }
      if (this.activeId !== id) return;
      if (!pane.has(messageId) || this.client.entries(id).every((e) => e.message.messageId !== messageId)) {
        this.system("the message replied to is not in this channel's history any more (deleted, or further back)");
        return;
      }
      this.selectedId = messageId;
      pane.reveal(messageId, height);
      this.#changed();
    });
  }

  /** Moves the sidebar's cursor over the system view (first) and the channels, in the sidebar's order. */
  moveCursor(delta: -1 | 1): void {
    const ids = [SYSTEM_VIEW, ...[...this.channels].sort(byLabel).map((c) => c.id)];
    const at = ids.indexOf(this.cursorId ?? this.activeId ?? "");
    const next = at < 0 ? (delta > 0 ? 1 : 0) : Math.min(ids.length - 1, Math.max(0, at + delta));
    this.cursorId = ids[Math.min(next, ids.length - 1)]!;
    this.#changed();
  }

  // --- connection ---------------------------------------------------------------------------

  #onConnection(c: ClientEvents["connection"]): void {
    const before = this.connection;
    this.connection = {
      state: c.state,
      wasOnline: before.wasOnline || c.state === "online",
      ...(c.error ? { error: c.error } : {}),
      ...(before.ended && c.state !== "online" ? { ended: true } : {}),
    };
    if (c.state === "online" && before.state !== "online") {
      if (before.wasOnline) this.system("back online");
      else this.preloadCounts();
      this.refreshPresence();
    } else if (before.state === "online" && c.state !== "online") {
      // Offline, we no longer know who is online: nobody is shown so until the server says again.
      for (const id of this.online.keys()) this.online.set(id, false);
      // A stream the server ended for the session (logout, revocation) does not come back.
      if (c.stopped && this.#sessionEnded(c.error ?? "refused by the server")) return;
      this.system("connection lost: reconnecting (typing and reading still work)");
    }
  }

  /** Presence and voice rooms from the server (then kept current by the feed). */
  refreshPresence(): void {
    this.run("", async () => {
      const [presence, rooms] = await Promise.all([this.client.presence(), this.client.voiceRooms()]);
      this.online.clear();
      for (const p of presence) this.online.set(p.userId, p.online);
      this.voiceRooms.clear();
      for (const r of rooms) this.voiceRooms.set(r.channelId, new Map(r.members.map((m) => [m.deviceId, m])));
    });
  }

  // --- tasks --------------------------------------------------------------------------------

  /**
   * Runs `fn` in the background with `label` shown as pending ("" = silently); a failure becomes
   * a system line. Never awaited by a key handler.
   */
  run(label: string, fn: () => Promise<void>, channelId?: string): void {
    const id = ++this.#taskIds;
    if (label) this.tasks.set(id, label);
    this.#changed();
    fn().then(
      () => {
        this.tasks.delete(id);
        this.#changed();
      },
      (err: unknown) => {
        this.tasks.delete(id);
        this.#sessionEnded(undefined, err);
        this.system(`${label ? `${label} failed: ` : ""}${errorText(err)}`, channelId);
      },
    );
  }

  /**
   * Queues a message in the client's outbox (core: it sends in order, retries with the same
   * message id while the server cannot be reached, re-seals under a newer key) and shows the
   * text at once, grey, until the outbox says it was stored or refused.
   */
  send(text: string): void {
    const channelId = this.activeId;
    if (!channelId || channelId === SYSTEM_VIEW) {
      this.system("no channel selected: pick one in the sidebar (ctrl+up/down, enter) or /join <channel>");
      return;
    }
    const pane = this.pane(channelId);
    const lineId = `pending-${++this.#pendingIds}`;
    pane.add({
      id: lineId,
      order: pane.newest?.order ?? 0n,
      time: new Date(),
      kind: "placeholder",
      name: this.client.myDisplayName(),
      body: text,
    });
    pane.toBottom();
    // A draft: the "@name"s it holds are resolved to user ids, sealed inside (mentions ring).
    const entry = this.client.outbox.enqueue(channelId, this.client.draft(text));
    this.#sends.set(entry.id, { pane, lineId, taskId: ++this.#taskIds });
    this.#changed();
  }

  /** Draws the outbox's progress: "sending" while a try is out, the message or why it was refused at the end. */
  #onOutbox(u: OutboxUpdate): void {
    const line = this.#sends.get(u.entry.id);
    if (!line) return;
    const { pane, lineId, taskId } = line;
    switch (u.type) {
      case "sending":
        this.tasks.set(taskId, "sending");
        return;
      case "waiting":
        this.tasks.delete(taskId); // the status line says "waiting for the connection" instead
        return;
      case "sent": {
        const entry = this.#entry(u.message, false);
        if (entry) pane.replace(lineId, entry);
        else pane.remove(lineId);
        break;
      }
      case "failed": {
        this.#sessionEnded(undefined, u.error);
        const why = u.error instanceof KeyError ? u.error.message : errorText(u.error);
        pane.replace(lineId, {
          id: lineId,
          order: pane.get(lineId)?.order ?? 0n,
          time: new Date(),
          kind: "system",
          body: `not sent (${why}); up arrow recalls it: ${u.entry.text}`,
        });
        break;
      }
    }
    this.#sends.delete(u.entry.id);
    this.tasks.delete(taskId);
  }

  // --- acting on messages ---------------------------------------------------------------------

  /** The compose state for acting on `e` in the open channel. */
  composeFor(kind: Compose["kind"], e: ConversationEntry): Compose {
    const text = e.text ?? "";
    return {
      kind,
      channelId: e.message.channelId,
      messageId: e.message.messageId,
      label: `${senderText(e.message)}: ${firstLine(actionText(text) ?? text, 40)}`,
    };
  }

  /** Sends what the input composed (a reply, an edit, a reaction); plain messages go through send(). */
  act(c: Compose, text: string): void {
    const { channelId, messageId } = c;
    this.compose = undefined;
    this.selectedId = undefined;
    const client = this.client;
    switch (c.kind) {
      case "reply":
        this.run("replying", async () => this.#shown(await client.reply(channelId, messageId, text)), channelId);
        return;
      case "edit":
        this.run("editing", async () => this.#shown(await client.edit(channelId, messageId, text)), channelId);
        return;
      case "react":
        this.run(
          "reacting",
          async () => {
            const r = await client.react(channelId, messageId, text);
            if (!r.added) this.system(`you reacted ${text} already (/unreact ${text} takes it back)`, channelId);
            this.#shown(r.message);
          },
          channelId,
        );
        return;
      case "delete":
        this.run(
          "deleting the message",
          async () => {
            await client.deleteMessage(channelId, messageId);
            this.#refresh(channelId);
            this.#recount(channelId);
          },
          channelId,
        );
        return;
    }
  }

  /** A message this client sent itself (the feed does not repeat it here): shown like one that arrived. */
  #shown(m: ChatMessage): void {
    this.#onMessage(m);
    this.pane(m.channelId).toBottom();
    this.#changed();
  }

  unreact(c: Compose, emoji: string): void {
    this.run(
      "taking the reaction back",
      async () => {
        if (!(await this.client.unreact(c.channelId, c.messageId, emoji)))
          this.system(`you had not reacted ${emoji} to that message`, c.channelId);
      },
      c.channelId,
    );
  }

  /** Publishes the display name (after registering); waits for the directory key if others hold it. */
  publishName(name: string): void {
    this.#namePending = name;
    // An attempt under way waits for the directory key itself: a second one would publish twice.
    if (this.#namePublishing) return;
    this.#namePublishing = true;
    this.run("publishing your name", async () => {
      try {
        await this.client.reconcile();
        await this.client.setProfileName(name, 30_000);
        if (this.#namePending === name) this.#namePending = undefined;
      } catch (err) {
        if (!(err instanceof KeyError)) throw err;
        this.system(
          "your name is not published yet: no member's client has shared the directory key with this device; it is retried when the key arrives",
        );
      } finally {
        this.#namePublishing = false;
      }
      // Changed while this attempt ran: publish the newer name.
      const newer = this.#namePending;
      if (newer !== undefined && newer !== name) this.publishName(newer);
    });
  }
}

/** Whether two pane entries draw the same (a refresh replaces only those that changed). */
function samePaneEntry(a: PaneEntry, b: PaneEntry): boolean {
  return (
    a.kind === b.kind &&
    a.body === b.body &&
    a.name === b.name &&
    a.quote === b.quote &&
    a.reactions === b.reactions &&
    a.note === b.note &&
    a.action === b.action &&
    JSON.stringify(a.marks) === JSON.stringify(b.marks) &&
    a.order === b.order
  );
}

export const byLabel = (a: ChannelView, b: ChannelView): number =>
  a.label.localeCompare(b.label) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
