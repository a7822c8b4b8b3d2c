// The chat screen: header (who, channel, voice, connection), the message pane with the sidebar
// beside it, the input, and the footer. Keys edit the input, scroll, or queue work on ChatState;
// none of them waits for the network.
import { standingOf, type ChannelView } from "../core/index.js";
import { channelLabel, runCommand } from "./chat-commands.js";
import { SYSTEM_VIEW, type ChatState, type Compose } from "./chat-state.js";
import { footerLines, footerRoom, headerRow } from "./chrome.js";
import { parseInput, completeCommand } from "./commands.js";
import { fitRow, seg, type Frame, type Row, type Segment, type Style } from "./frame.js";
import { INPUT_MAX_LENGTH, LineEditor } from "./input.js";
import type { KeyPress } from "./keys.js";
import { Picker } from "./picker.js";
import type { Screen } from "./screen.js";
import { nickStyle } from "./nick-colour.js";
import type { LineStyle, StyledLine } from "./scrollback.js";
import { sidebarLines, type StyledSidebarLine } from "./sidebar.js";
import { splitColumns, wrap } from "./text.js";
import { complete } from "./completion.js";
import { moveSelection } from "./selection.js";
import type { VoiceControl } from "./voice-control.js";

export const SIDEBAR_WIDTH = 26;
export const CHAT_HELP = [
  "enter: send (or open the selected channel)",
  "alt+enter: new line",
  "/help: commands",
  "ctrl+up/down: select channel",
  "alt+up: select a message (r e d + g)",
  "pgup/pgdn: scroll",
  "ctrl+l: toggle sidebar",
  "ctrl+/ or f1: toggle help",
  "ctrl+q: quit",
];
/** Ever shorter footers for small terminals; each keeps "ctrl+q: quit". */
const SHORT_HELP = [["ctrl+/ or f1: show help", "ctrl+q: quit"], ["f1: help", "ctrl+q: quit"], ["ctrl+q: quit"]];
/**
 * Below this many columns the sidebar does not fit beside the messages (they keep at least 48
 * columns beside it): ctrl+l shows it instead of them. At 60 it left 18 characters per line.
 */
export const NARROW_WIDTH = SIDEBAR_WIDTH + 2 + 48;
const WHEEL_LINES = 3;

const LINE_STYLES: Readonly<Record<LineStyle, Style>> = {
  own: "own",
  other: "other",
  system: "system",
  history: "history",
  highlight: "highlight",
  placeholder: "placeholder",
  marker: "marker",
  dim: "dim",
};

const SIDEBAR_STYLES: Readonly<Record<StyledSidebarLine["style"], Style>> = {
  heading: "heading",
  cursor: "cursor",
  active: "active",
  normal: "normal",
  unread: "unread",
  mention: "highlight",
  online: "ok",
  offline: "dim",
  speaking: "speaking",
  dim: "dim",
};

/** A pane line's segments: the sender's name in their colour, links and mentions of me apart. */
function lineSegments(l: StyledLine, selectedId: string | undefined): Segment[] {
  if (selectedId !== undefined && l.id === selectedId) return [seg(l.text, "selected")];
  const style = LINE_STYLES[l.style];
  // Cut points by string index: the name (its columns from the start are ASCII "[HH:MM] "), the marks.
  const cuts: { start: number; end: number; style: Style }[] = [];
  const n = l.nick;
  if (n) {
    const { head, rest } = splitColumns(l.text, n.start);
    const name = splitColumns(rest, n.width).head;
    cuts.push({ start: head.length, end: head.length + name.length, style: nickStyle(n.userId) });
  }
  for (const m of l.marks ?? [])
    if (!cuts.some((c) => m.start < c.end && c.start < m.end)) cuts.push({ ...m, style: m.style === "link" ? "link" : "highlight" });
  cuts.sort((a, b) => a.start - b.start);
  const out: Segment[] = [];
  let at = 0;
  for (const c of cuts) {
    if (c.start > at) out.push(seg(l.text.slice(at, c.start), style));
    out.push(seg(l.text.slice(c.start, c.end), c.style));
    at = c.end;
  }
  if (at < l.text.length || out.length === 0) out.push(seg(l.text.slice(at), style));
  return out;
}

export interface ChatScreenOptions {
  readonly state: ChatState;
  readonly voice: VoiceControl;
  readonly redraw: () => void;
  readonly quit: () => void;
  readonly loggedOut: () => void;
}

export class ChatScreen implements Screen {
  readonly editor = new LineEditor();
  readonly #o: ChatScreenOptions;
  /** The sidebar beside the messages (wide terminals). */
  #sidebar = true;
  /** The sidebar in place of the messages (narrow terminals), until a channel is opened or it is closed. */
  #overlay = false;
  /** The last frame was narrower than NARROW_WIDTH. */
  #narrow = false;
  /** Key help: undefined = full when it fits, true = full (f1), false = short. */
  #help: boolean | undefined;
  #helpShownFull = true;
  /** Columns of the input box in the last frame (for moving up and down in a multi-line message). */
  #inputWidth = 76;
  #error: string | undefined;
  #picker: Picker<ChannelView> | undefined;
  /** Rows of the message pane in the last frame (for paging). */
  #paneHeight = 10;

  constructor(options: ChatScreenOptions) {
    this.#o = options;
  }

  get #state(): ChatState {
    return this.#o.state;
  }

  // --- input --------------------------------------------------------------------------------

  key(k: KeyPress): void {
    if (this.#picker) {
      this.#picker.key(k);
      this.#o.redraw();
      return;
    }
    const before = this.editor.text;
    const handled = this.#state.confirmDelete
      ? this.#confirmKey(k)
      : this.#state.selectedId !== undefined
        ? this.#selectionKey(k)
        : this.#handle(k);
    if (this.editor.text !== before) this.#state.inputChanged(this.editor.text);
    if (handled) this.#o.redraw();
  }

  paste(text: string): void {
    if (this.#picker) return;
    this.#state.selectedId = undefined;
    this.#insert(text);
    this.#state.inputChanged(this.editor.text);
    this.#o.redraw();
  }

  /** y deletes the message asked about; any other key keeps it. */
  #confirmKey(k: KeyPress): boolean {
    const state = this.#state;
    const c = state.confirmDelete!;
    state.confirmDelete = undefined;
    state.selectedId = undefined;
    if (k.name === "char" && (k.char === "y" || k.char === "Y")) state.act(c, "");
    else this.#error = "not deleted";
    return true;
  }

  /**
   * Selection mode (alt+up): up/down move between messages, r replies, e edits (the text in the
   * input), d deletes (asks first), + reacts (the emoji typed in the input), g goes to the message
   * a reply answers, esc leaves. Another
   * key leaves it and does what it does.
   */
  #selectionKey(k: KeyPress): boolean {
    const state = this.#state;
    const id = state.activeId;
    const entries = id ? state.client.entries(id) : [];
    const entry = entries.find((e) => e.message.messageId === state.selectedId);
    if (!id || !entry) {
      state.selectedId = undefined;
      return this.#handle(k);
    }
    const select = (delta: -1 | 1) => {
      state.selectedId = moveSelection(entries, state.selectedId, delta);
      if (state.selectedId) state.pane().reveal(state.selectedId, this.#paneHeight);
      else state.pane().toBottom();
    };
    switch (k.name) {
      case "up":
      case "alt+up":
        select(-1);
        return true;
      case "down":
      case "alt+down":
        select(1);
        return true;
      case "esc":
        state.selectedId = undefined;
        return true;
      case "char": {
        const mine = entry.message.senderUserId === state.me.userId;
        switch (k.char) {
          case "r":
            this.#compose(state.composeFor("reply", entry));
            return true;
          case "e":
            if (!mine) this.#error = "message: only its sender can edit a message";
            else this.#compose(state.composeFor("edit", entry), entry.text ?? "");
            return true;
          case "d":
            if (!mine && !state.me.isAdmin) this.#error = "message: only its sender or an admin can delete a message";
            else state.confirmDelete = state.composeFor("delete", entry);
            return true;
          case "+":
            this.#compose(state.composeFor("react", entry));
            return true;
          case "g":
            if (!entry.replyTo) this.#error = "not a reply: g goes to the message a reply answers";
            else state.jumpTo(entry.replyTo.messageId, this.#paneHeight);
            return true;
        }
        state.selectedId = undefined;
        return this.#handle(k);
      }
      default:
        state.selectedId = undefined;
        return this.#handle(k);
    }
  }

  /** The input composes a reply, an edit or a reaction (the status row says which; esc cancels). */
  #compose(c: Compose, text?: string): void {
    const state = this.#state;
    state.compose = c;
    state.selectedId = undefined;
    state.pane().toBottom();
    if (text !== undefined) {
      this.editor.clear();
      this.editor.insert(text);
    }
  }

  /** Typed or pasted text; says so when the input's limit cut it (rather than dropping it silently). */
  #insert(text: string): void {
    if (!this.editor.insert(text)) this.#error = `a message holds at most ${INPUT_MAX_LENGTH} characters: the rest was not inserted`;
  }

  get #sidebarShown(): boolean {
    return this.#narrow ? this.#overlay : this.#sidebar;
  }

  wheel(delta: -1 | 1): void {
    this.#scroll(delta * WHEEL_LINES);
    this.#o.redraw();
  }

  #scroll(lines: number): void {
    const pane = this.#state.pane();
    pane.scroll(lines, this.#paneHeight);
    this.#maybeOlder();
  }

  /** Past the top of what is loaded: page older history in (in the background). */
  #maybeOlder(): void {
    if (this.#state.pane().atTop(this.#paneHeight)) this.#state.loadOlder();
  }

  #handle(k: KeyPress): boolean {
    const e = this.editor;
    const state = this.#state;
    const pane = state.pane();
    // The footer's error stays until the user types, sends, or dismisses it.
    if (k.name === "char" || k.name === "enter" || k.name === "esc") this.#error = undefined;
    switch (k.name) {
      case "char":
        this.#insert(k.char ?? "");
        return true;
      case "enter":
        if (e.text === "" && this.#sidebarShown && state.cursorId && state.cursorId !== state.activeId) {
          state.activate(state.cursorId);
          this.#overlay = false;
          return true;
        }
        if (e.text === "" && this.#narrow && this.#overlay) {
          this.#overlay = false;
          return true;
        }
        this.#submit();
        return true;
      case "alt+enter":
      case "ctrl+j":
        e.newline();
        return true;
      case "up":
        // In a message of several rows, up and down move between them; past the edge, history.
        if (!e.cursorUp(this.#inputWidth)) e.historyUp();
        return true;
      case "down":
        if (!e.cursorDown(this.#inputWidth)) e.historyDown();
        return true;
      case "alt+up":
        // With a channel open, alt+up selects its newest message (ctrl+up moves in the sidebar).
        if (state.activeId && !state.inSystem) {
          const id = moveSelection(state.client.entries(state.activeId), undefined, -1);
          if (id) {
            state.selectedId = id;
            pane.reveal(id, this.#paneHeight);
          } else this.#error = "no message to select here";
          return true;
        }
        if (this.#narrow) this.#overlay = true;
        else this.#sidebar = true;
        state.moveCursor(-1);
        return true;
      case "ctrl+up":
      case "ctrl+down":
      case "alt+down":
        if (this.#narrow) this.#overlay = true;
        else this.#sidebar = true;
        state.moveCursor(k.name.endsWith("up") ? -1 : 1);
        return true;
      case "pgup":
        pane.pageUp(this.#paneHeight);
        this.#maybeOlder();
        return true;
      case "pgdn":
        pane.pageDown(this.#paneHeight);
        return true;
      case "shift+up":
        this.#scroll(-1);
        return true;
      case "shift+down":
        this.#scroll(1);
        return true;
      case "ctrl+home":
        this.#scroll(-pane.totalLines);
        return true;
      case "ctrl+end":
        pane.toBottom();
        return true;
      case "home":
        // With nothing typed, Home goes to the top of the messages (as End goes to the bottom).
        if (e.text === "") this.#scroll(-pane.totalLines);
        else e.home();
        return true;
      case "ctrl+a":
        e.home();
        return true;
      case "end":
      case "ctrl+e":
        // The marker says "(End)": with nothing typed, End jumps to the newest messages.
        if (e.text === "") pane.toBottom();
        else e.end();
        return true;
      case "left":
      case "ctrl+b":
        e.left();
        return true;
      case "right":
      case "ctrl+f":
        e.right();
        return true;
      case "ctrl+left":
      case "alt+left":
      case "alt+b":
        e.wordLeft();
        return true;
      case "ctrl+right":
      case "alt+right":
      case "alt+f":
        e.wordRight();
        return true;
      case "backspace":
        e.backspace();
        return true;
      case "delete":
      case "ctrl+d":
        e.del();
        return true;
      case "ctrl+w":
      case "alt+backspace":
        e.deleteWordBack();
        return true;
      case "ctrl+u":
        e.clear();
        return true;
      case "ctrl+c":
        if (e.text !== "") e.clear();
        else this.#error = "ctrl+q quits";
        return true;
      case "tab": {
        const done = completeCommand(e.text) ?? this.#completeName(e.text);
        if (done !== undefined && done !== e.text) {
          e.clear();
          e.insert(done);
        }
        return true;
      }
      case "ctrl+l":
        if (this.#narrow) this.#overlay = !this.#overlay;
        else this.#sidebar = !this.#sidebar;
        if (this.#sidebarShown) state.refreshPresence();
        return true;
      case "f1":
      case "ctrl+/":
        this.#help = !this.#helpShownFull;
        return true;
      case "esc":
        if (this.#overlay) this.#overlay = false;
        else if (state.compose) {
          state.compose = undefined;
          if (e.text !== "") e.clear();
        } else state.back();
        return true;
      default:
        return false;
    }
  }

  #submit(): void {
    const line = this.editor.submit();
    const parsed = parseInput(line);
    // A mistake keeps the line in the input to fix it (it is in the history too). A refused
    // command is kept selected: a motion edits it, but whatever is typed next replaces it rather
    // than being glued to its end. A refused message is kept as it is (it may be long, to split).
    const keep = (message: string) => {
      this.#error = message;
      if (this.editor.text === "") {
        this.editor.insert(line);
        if (line.trimStart().startsWith("/") && !line.trimStart().startsWith("//")) this.editor.selectAll();
      }
    };
    switch (parsed.kind) {
      case "empty":
        return;
      case "message":
        if (this.#state.compose && this.#state.compose.channelId === this.#state.activeId) {
          const c = this.#state.compose;
          this.#state.act(c, c.kind === "react" ? parsed.text.trim() : parsed.text);
        } else if (this.#state.inSystem) keep("the system view takes no messages: esc goes back to the channel (or /join <channel>)");
        else if (!this.#state.activeId) keep("no channel selected: pick one in the sidebar (ctrl+up/down, enter) or /join <channel>");
        else this.#state.send(parsed.text);
        return;
      case "error":
        keep(parsed.message);
        return;
      case "command":
        runCommand(parsed.command, {
          state: this.#state,
          voice: this.#o.voice,
          error: (message, keepLine) => (keepLine ? keep(message) : (this.#error = message)),
          pick: (title, channels, then) => this.#pick(title, channels, then),
          quit: this.#o.quit,
          loggedOut: this.#o.loggedOut,
          compose: (c, text) => this.#compose(c, text),
          confirmDelete: (c) => (this.#state.confirmDelete = c),
        });
        return;
    }
  }

  /** @member, #channel and the user argument of /verify and the like; several matches are listed in the footer. */
  #completeName(text: string): string | undefined {
    const client = this.#state.client;
    const users = client.users().flatMap((u) => (u.removed ? [] : [u.label]));
    const done = complete(text, { users, channels: client.channels().flatMap((c) => (c.name === undefined ? [] : [c.label])) });
    if (!done) return undefined;
    if (done.choices.length > 0) this.#error = `one of: ${done.choices.join(", ")}`;
    return done.text;
  }

  #pick(title: string, channels: readonly ChannelView[], then: (c: ChannelView) => void): void {
    this.#picker = new Picker<ChannelView>({
      title,
      items: channels.map((c) => ({ label: channelLabel(c), value: c })),
      onPick: (c) => {
        this.#picker = undefined;
        then(c);
      },
      onCancel: () => {
        this.#picker = undefined;
        this.#state.system("channel selection canceled");
      },
    });
  }

  // --- drawing ------------------------------------------------------------------------------

  #header(width: number): Row {
    const state = this.#state;
    const c = state.connection;
    // A revoked session can keep its event stream: "session ended" wins over "online".
    const connection = c.ended
      ? { text: "○ session ended", style: "error" as const }
      : c.state === "online"
        ? { text: "● online", style: "ok" as const }
        : c.wasOnline
          ? { text: "○ offline · reconnecting", style: "error" as const }
          : c.state === "connecting"
            ? { text: "◌ connecting", style: "warn" as const }
            : { text: "○ offline", style: "error" as const };
    const channel = state.active;
    return headerRow(
      {
        name: state.client.myDisplayName(),
        admin: state.me.isAdmin,
        ...(channel ? { channel: channel.label } : state.inSystem ? { view: "system" } : {}),
        voice: this.#o.voice.label(),
        voiceActive: this.#o.voice.active,
        voiceShort: this.#o.voice.shortLabel(),
        connection: { ...connection, short: connection.text.slice(0, 1) },
      },
      width,
    );
  }

  /** The separator above the input, carrying what is in progress. */
  #status(width: number): Row {
    const state = this.#state;
    const act = state.confirmDelete ?? (state.compose?.channelId === state.activeId ? state.compose : undefined);
    if (act) {
      const what =
        act.kind === "delete"
          ? `delete ${act.label}? y deletes, any other key keeps it `
          : `${act.kind === "reply" ? "replying to" : act.kind === "edit" ? "editing" : "reacting to (type an emoji)"} ${act.label} (esc cancels) `;
      return fitRow([seg("─ "), seg(what, "highlight"), seg("─".repeat(width), "border")], width);
    }
    if (state.selectedId !== undefined) {
      // Which one, in words too: the highlight alone is lost on a terminal without colours.
      const entry = state.activeId ? state.client.entries(state.activeId).find((e) => e.message.messageId === state.selectedId) : undefined;
      const which = entry ? `${state.composeFor("reply", entry).label} · ` : "";
      return fitRow(
        [
          seg("─ "),
          seg(`message selected: ${which}r reply · e edit · d delete · + react · g go to replied · up/down · esc `, "highlight"),
          seg("─".repeat(width), "border"),
        ],
        width,
      );
    }
    const typing = state.typingIn();
    const typingText =
      typing.length === 0
        ? ""
        : typing.length === 1
          ? `${typing[0]} is typing… `
          : typing.length === 2
            ? `${typing[0]} and ${typing[1]} are typing… `
            : "several people are typing… ";
    const tasks = [...new Set(this.#state.tasks.values())];
    const out = this.#state.outbox;
    if (out.waiting) tasks.unshift(`${out.count} message${out.count === 1 ? "" : "s"} waiting for the connection (sent when it is back)`);
    const text = tasks.length > 0 ? `─ ${tasks.join(", ")}… ` : "";
    // The newest notice of the system view, until it is opened: seen at once, kept out of the channel.
    const news = this.#state.systemNews;
    const note = news !== undefined ? [seg("─ "), seg(`${news} `, "system"), seg("(/system) ", "dim")] : [];
    const typingSeg = typingText ? [seg("─ "), seg(typingText, "dim")] : [];
    return fitRow([seg(text, "warn"), ...typingSeg, ...note, seg("─".repeat(width), "border")], width);
  }

  #footer(width: number, height: number): Row[] {
    if (this.#error)
      return wrap(`x ${this.#error}`, Math.max(1, width - 3), 2)
        .slice(0, height >= 16 ? 2 : 1)
        .map((l) => fitRow([seg("  "), seg(l, "error")], width));
    // f1 on a small terminal: all of the help, even if it takes half of the rows.
    const { lines, full } = footerLines(CHAT_HELP, SHORT_HELP, width, footerRoom(height), this.#help, Math.max(3, Math.floor(height / 2)));
    this.#helpShownFull = full;
    return lines.map((l) => fitRow([seg(" "), seg(l, "dim")], width));
  }

  #sidebarRows(width: number, height: number): Row[] {
    const state = this.#state;
    const client = state.client;
    const me = state.me.userId;
    const label = (userId: string) => client.directory.labelOf(userId);
    const isAdmin = new Map(client.users().map((u) => [u.userId, u.isAdmin]));
    const online = (userId: string) => (userId === me ? state.connection.state === "online" : state.online.get(userId) === true);
    const users = new Map(client.users().flatMap((u) => (u.removed ? [] : [[u.userId, u.label] as const])));
    const trust = client.trust.current;
    if (!users.has(me)) users.set(me, client.myDisplayName());
    const removed = new Set(client.users().flatMap((u) => (u.removed ? [u.userId] : [])));
    for (const id of state.online.keys()) if (!users.has(id) && !removed.has(id)) users.set(id, label(id));
    const lines = sidebarLines(
      {
        system: { id: SYSTEM_VIEW, unread: state.unread.get(SYSTEM_VIEW) ?? 0 },
        channels: state.channels.map((c) => ({ id: c.id, label: c.label })),
        ...(state.activeId ? { activeId: state.activeId } : {}),
        ...(state.cursorId ? { cursorId: state.cursorId } : {}),
        unread: state.unread,
        mentions: state.mentions,
        muted: state.settings.muted,
        voiceRooms: [...state.voiceRooms.entries()].map(([channelId, members]) => ({
          channelId,
          joined: channelId === this.#o.voice.channelId,
          label: client.channel(channelId)?.label ?? channelId.slice(0, 8),
          members: [...members.values()].map((m) => ({
            label: label(m.userId),
            note: this.#o.voice.memberNote(m.userId),
            speaking: this.#o.voice.speaking(m.userId),
            admin: isAdmin.get(m.userId) === true,
            online: online(m.userId),
          })),
        })),
        users: [...users.entries()].map(([userId, l]) => ({
          label: l,
          online: online(userId),
          admin: isAdmin.get(userId) === true,
          me: userId === me,
          pending: trust !== undefined && standingOf(trust, userId) === "pending",
          verified: userId !== me && client.store.keystore.verifiedUser(userId) !== undefined,
        })),
      },
      width,
    );
    // More lines than rows: scroll so that the channel cursor stays in view (with one line below it).
    const at = lines.findIndex((l) => l.style === "cursor");
    const first = at < 0 ? 0 : Math.max(0, Math.min(at + 2 - height, lines.length - height));
    const rows = lines.slice(first, first + height).map((l) => fitRow([seg(l.text, SIDEBAR_STYLES[l.style])], width));
    while (rows.length < height) rows.push(fitRow([], width));
    return rows;
  }

  #paneRows(width: number, height: number): Row[] {
    const state = this.#state;
    const pane = state.pane();
    pane.setWidth(width);
    const rows: Row[] = [];
    const older = state.olderState();
    let banner: Segment | undefined;
    if (state.activeId && pane.size > 0 && pane.atTop(height)) {
      if (older === "loading") banner = seg("  loading older messages…", "warn");
      else if (older === "exhausted") banner = seg(`  ── the beginning of #${state.active?.label ?? ""} ──`, "dim");
    }
    if (banner) rows.push(fitRow([banner], width + 1));
    const view = pane.view(height - rows.length);
    // Drawn at the bottom of the open channel: that is reading it (the read marker moves).
    if (view.newBelow === 0 && pane.atBottom) state.markShownRead();
    for (const l of view.lines) rows.push(fitRow([seg(" "), ...lineSegments(l, state.selectedId)], width + 1));
    if (pane.size === 0) {
      const empty = state.inSystem
        ? "The system view: command output (/help, /devices, /admin users...) and voice notices show here. esc goes back."
        : !state.activeId
          ? "No channel selected. Use the sidebar (ctrl+up/down, enter) or /join <channel>; /help lists commands."
          : state.isLoading()
            ? "loading messages…"
            : "No messages yet. Send one to start chatting!";
      for (const l of wrap(empty, Math.max(10, width - 2))) rows.push(fitRow([seg("  "), seg(l, "dim")], width + 1));
    }
    while (rows.length < height) rows.push(fitRow([], width + 1));
    return rows.slice(0, height);
  }

  render(width: number, height: number): Frame {
    this.#narrow = width < NARROW_WIDTH;
    if (!this.#narrow) this.#overlay = false;
    const beside = !this.#narrow && this.#sidebar;
    const instead = this.#narrow && this.#overlay;
    const sideWidth = beside ? SIDEBAR_WIDTH - 1 : 0;
    const paneWidth = Math.max(10, width - (beside ? SIDEBAR_WIDTH + 1 : 0) - 1);
    this.#state.setWidth(paneWidth);

    this.#inputWidth = Math.max(4, width - 4);
    const input = this.editor.render(this.#inputWidth, Math.max(1, Math.min(6, Math.floor(height / 4))));
    const footer = this.#footer(width, height);
    const paneHeight = Math.max(1, height - 3 - input.rows.length - footer.length);
    this.#paneHeight = paneHeight;

    const rows: Row[] = [this.#header(width), fitRow([seg("─".repeat(width), "border")], width)];
    if (instead) {
      // A narrow terminal: the sidebar takes the messages' place (enter opens the selected channel).
      for (const row of this.#sidebarRows(Math.max(1, width - 2), paneHeight)) rows.push(fitRow([seg(" "), ...row], width));
    } else {
      const pane = this.#paneRows(paneWidth, paneHeight);
      const side = beside ? this.#sidebarRows(sideWidth, paneHeight) : [];
      pane.forEach((row, i) => {
        rows.push(beside ? fitRow([...row, seg("│ ", "border"), ...side[i]!], width) : fitRow(row, width));
      });
    }
    rows.push(this.#status(width));
    const inputTop = rows.length;
    input.rows.forEach((text, i) =>
      rows.push(fitRow([seg(i === 0 ? "  > " : "    ", "focus"), seg(text, input.selected ? "selected" : "normal")], width)),
    );
    if (this.editor.text === "" && input.rows.length === 1)
      rows[inputTop] = fitRow([seg("  > ", "focus"), seg("type a message…", "dim")], width);
    rows.push(...footer);
    let out = rows.slice(0, height);
    while (out.length < height) out.push(fitRow([], width));
    if (this.#picker) {
      out = this.#picker.overlay(out, width, height);
      return { rows: out };
    }
    return { rows: out, cursor: { x: Math.min(width - 1, 4 + input.cursorCol), y: inputTop + input.cursorRow } };
  }
}
