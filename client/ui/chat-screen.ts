// The chat screen: header (who, channel, voice, connection), the message pane with the sidebar
// beside it, the input, and the footer. Keys edit the input, scroll, or queue work on ChatState;
// none of them waits for the network.
import type { ChannelView } from "../core/index.js";
import { channelLabel, runCommand } from "./chat-commands.js";
import type { ChatState } from "./chat-state.js";
import { parseInput, completeCommand } from "./commands.js";
import { fitRow, packItems, seg, splitRow, type Frame, type Row, type Segment, type Style } from "./frame.js";
import { LineEditor } from "./input.js";
import type { KeyPress } from "./keys.js";
import { Picker } from "./picker.js";
import type { Screen } from "./screen.js";
import type { LineStyle } from "./scrollback.js";
import { sidebarLines, type StyledSidebarLine } from "./sidebar.js";
import { wrap } from "./text.js";
import type { VoiceControl } from "./voice-control.js";

export const SIDEBAR_WIDTH = 26;
export const CHAT_HELP = [
  "enter: send (or open the selected channel)",
  "alt+enter: new line",
  "/help: commands",
  "ctrl+up/down: select channel",
  "pgup/pgdn: scroll",
  "ctrl+l: toggle sidebar",
  "ctrl+/ or f1: toggle help",
  "ctrl+q: quit",
];
const SHORT_HELP = ["ctrl+/ or f1: show help", "ctrl+q: quit"];
const WHEEL_LINES = 3;

const LINE_STYLES: Readonly<Record<LineStyle, Style>> = {
  own: "own",
  other: "other",
  system: "system",
  history: "history",
  highlight: "highlight",
  placeholder: "placeholder",
  marker: "marker",
};

const SIDEBAR_STYLES: Readonly<Record<StyledSidebarLine["style"], Style>> = {
  heading: "heading",
  cursor: "cursor",
  active: "active",
  normal: "normal",
  unread: "unread",
  online: "ok",
  offline: "dim",
  speaking: "speaking",
  dim: "dim",
};

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
  #sidebar = true;
  #help = true;
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
    if (this.#handle(k)) this.#o.redraw();
  }

  paste(text: string): void {
    if (this.#picker) return;
    this.editor.insert(text);
    this.#o.redraw();
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
        e.insert(k.char ?? "");
        return true;
      case "enter":
        if (e.text === "" && this.#sidebar && state.cursorId && state.cursorId !== state.activeId) {
          state.activate(state.cursorId);
          return true;
        }
        this.#submit();
        return true;
      case "alt+enter":
      case "ctrl+j":
        e.newline();
        return true;
      case "up":
        e.historyUp();
        return true;
      case "down":
        e.historyDown();
        return true;
      case "ctrl+up":
      case "alt+up":
      case "ctrl+down":
      case "alt+down":
        if (!this.#sidebar) this.#sidebar = true;
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
        const done = completeCommand(e.text);
        if (done) {
          e.clear();
          e.insert(done);
        }
        return true;
      }
      case "ctrl+l":
        this.#sidebar = !this.#sidebar;
        if (this.#sidebar) state.refreshPresence();
        return true;
      case "f1":
      case "ctrl+/":
        this.#help = !this.#help;
        return true;
      case "esc":
        return true;
      default:
        return false;
    }
  }

  #submit(): void {
    const line = this.editor.submit();
    const parsed = parseInput(line);
    switch (parsed.kind) {
      case "empty":
        return;
      case "message":
        this.#state.send(parsed.text);
        return;
      case "error":
        this.#error = parsed.message;
        this.editor.insert(line); // keep the line to fix it
        return;
      case "command":
        runCommand(parsed.command, {
          state: this.#state,
          voice: this.#o.voice,
          error: (message) => (this.#error = message),
          pick: (title, channels, then) => this.#pick(title, channels, then),
          quit: this.#o.quit,
          loggedOut: this.#o.loggedOut,
        });
        return;
    }
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
    const me = state.me;
    const myName = state.client.myDisplayName();
    const channel = state.active;
    const c = state.connection;
    const conn: Segment =
      c.state === "online"
        ? seg("● online ", "ok")
        : c.ended
          ? seg("○ offline · session ended ", "error")
          : c.wasOnline
          ? seg("○ offline · reconnecting ", "error")
          : c.state === "connecting"
            ? seg("◌ connecting ", "warn")
            : seg("○ offline ", "error");
    return splitRow(
      [
        seg(" › dialtone  ", "title"),
        seg(myName, "bold"),
        seg(me.isAdmin ? " (admin)" : "", "dim"),
        seg("  ·  ", "border"),
        seg(channel ? `#${channel.label}` : "no channel", channel ? "bold" : "dim"),
        seg("  ·  ", "border"),
        seg(this.#o.voice.label(), "dim"),
      ],
      [conn],
      width,
    );
  }

  /** The separator above the input, carrying what is in progress. */
  #status(width: number): Row {
    const tasks = [...new Set(this.#state.tasks.values())];
    const text = tasks.length > 0 ? `─ ${tasks.join(", ")}… ` : "";
    return fitRow([seg(text, "warn"), seg("─".repeat(width), "border")], width);
  }

  #footer(width: number): Row[] {
    if (this.#error) return [fitRow([seg(`  x ${this.#error}`, "error")], width)];
    const text = this.#help ? CHAT_HELP : SHORT_HELP;
    return packItems(text, Math.max(10, width - 2))
      .slice(0, 3)
      .map((l) => fitRow([seg(" "), seg(l, "dim")], width));
  }

  #sidebarRows(width: number, height: number): Row[] {
    const state = this.#state;
    const client = state.client;
    const me = state.me.userId;
    const label = (userId: string) => client.directory.labelOf(userId);
    const isAdmin = new Map(client.users().map((u) => [u.userId, u.isAdmin]));
    const online = (userId: string) => (userId === me ? state.connection.state === "online" : state.online.get(userId) === true);
    const users = new Map(client.users().map((u) => [u.userId, u.label]));
    if (!users.has(me)) users.set(me, client.myDisplayName());
    for (const id of state.online.keys()) if (!users.has(id)) users.set(id, label(id));
    const lines = sidebarLines(
      {
        channels: state.channels.map((c) => ({ id: c.id, label: c.label })),
        ...(state.activeId ? { activeId: state.activeId } : {}),
        ...(state.cursorId ? { cursorId: state.cursorId } : {}),
        unread: state.unread,
        voiceRooms: [...state.voiceRooms.entries()]
          .map(([channelId, members]) => ({
            channelId,
            joined: channelId === this.#o.voice.channelId,
            label: client.channel(channelId)?.label ?? channelId.slice(0, 8),
            members: [...members.values()].map((m) => ({
              label: label(m.userId),
              speaking: this.#o.voice.speaking(m.userId),
              admin: isAdmin.get(m.userId) === true,
              online: online(m.userId),
            })),
          })),
        users: [...users.entries()]
          .map(([userId, l]) => ({ label: l, online: online(userId), admin: isAdmin.get(userId) === true, me: userId === me })),
      },
      width,
    );
    const rows = lines.slice(0, height).map((l) => fitRow([seg(l.text, SIDEBAR_STYLES[l.style])], width));
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
    for (const l of view.lines) rows.push(fitRow([seg(" "), seg(l.text, LINE_STYLES[l.style])], width + 1));
    if (pane.size === 0) {
      const empty = !state.activeId
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
    const showSidebar = this.#sidebar && width >= 60;
    const sideWidth = showSidebar ? SIDEBAR_WIDTH - 1 : 0;
    const paneWidth = Math.max(10, width - (showSidebar ? SIDEBAR_WIDTH + 1 : 0) - 1);
    this.#state.setWidth(paneWidth);

    const input = this.editor.render(Math.max(4, width - 4), Math.max(1, Math.min(6, Math.floor(height / 4))));
    const footer = this.#footer(width);
    const paneHeight = Math.max(1, height - 3 - input.rows.length - footer.length);
    this.#paneHeight = paneHeight;

    const rows: Row[] = [this.#header(width), fitRow([seg("─".repeat(width), "border")], width)];
    const pane = this.#paneRows(paneWidth, paneHeight);
    const side = showSidebar ? this.#sidebarRows(sideWidth, paneHeight) : [];
    pane.forEach((row, i) => {
      rows.push(showSidebar ? fitRow([...row, seg("│ ", "border"), ...side[i]!], width) : fitRow(row, width));
    });
    rows.push(this.#status(width));
    const inputTop = rows.length;
    input.rows.forEach((text, i) => rows.push(fitRow([seg(i === 0 ? "  > " : "    ", "focus"), seg(text)], width)));
    if (this.editor.text === "" && input.rows.length === 1) rows[inputTop] = fitRow([seg("  > ", "focus"), seg("type a message…", "dim")], width);
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

