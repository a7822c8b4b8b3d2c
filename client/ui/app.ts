// The terminal UI: the terminal, one screen at a time (login, then chat), and one coalesced
// redraw. Screens change state and ask for a redraw; bursts (200 messages arriving) cost one
// frame per 16 ms, and each frame rewrites only the rows that changed.
import { parseArgs } from "node:util";
import {
  parseServerUrl,
  parseVoiceFlags,
  readServers,
  rememberLastChannel,
  readUiSettings,
  writeUiSettings,
  VOICE_FLAG_OPTIONS,
  type DialtoneClient,
  type VoiceFlags,
} from "../core/index.js";
import { resolveConfigDir } from "../keystore/index.js";
import { DbusNotifier } from "../notify/dbus-notifier.js";
import { silentNotifier, type Notifier } from "../notify/notifier.js";
import type { AuthResult } from "./auth.js";
import { ChatScreen } from "./chat-screen.js";
import { ChatState } from "./chat-state.js";
import { errorText } from "./errors.js";
import { FrameWriter } from "./frame.js";
import { LoginScreen } from "./login-screen.js";
import type { Screen } from "./screen.js";
import { Tty } from "./terminal.js";
import { VoiceControl } from "./voice-control.js";

const FRAME_MS = 16;

export interface AppOptions {
  readonly configDir: string;
  /** --server: pre-filled on the login form. */
  readonly server?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly voice: VoiceFlags;
  /** Where to write after the terminal is given back (messages that never reached the server). */
  readonly report?: (text: string) => void;
}

class App {
  readonly #tty: Tty;
  readonly #o: AppOptions;
  readonly #writer: FrameWriter;
  #screen: Screen | undefined;
  #client: DialtoneClient | undefined;
  #voice: VoiceControl | undefined;
  #state: ChatState | undefined;
  #notifier: Notifier | undefined;
  #offFocus: (() => void) | undefined;
  #drawPending = false;
  /** The last channel opened, on its way to the disk (awaited at quit). */
  #remembering: Promise<void> = Promise.resolve();
  #lastDraw = 0;
  #quitting: Promise<void> | undefined;
  #done!: (code: number) => void;
  readonly finished = new Promise<number>((resolve) => (this.#done = resolve));

  constructor(tty: Tty, options: AppOptions) {
    this.#tty = tty;
    this.#o = options;
    this.#writer = new FrameWriter(tty.palette);
    tty.on("key", (k) => {
      if (k.name === "ctrl+q") this.quit();
      else this.#screen?.key(k);
    });
    tty.on("paste", (text) => this.#screen?.paste(text));
    tty.on("wheel", (w) => this.#screen?.wheel(w.delta, w.x, w.y));
    tty.on("resize", () => {
      this.#writer.invalidate();
      this.redraw();
    });
  }

  /** Asks for a frame: at most one per FRAME_MS, however many changes came in between. */
  redraw = (): void => {
    if (this.#drawPending || this.#quitting) return;
    this.#drawPending = true;
    const wait = Math.max(0, FRAME_MS - (Date.now() - this.#lastDraw));
    setTimeout(() => {
      this.#drawPending = false;
      this.#lastDraw = Date.now();
      this.#draw();
    }, wait);
  };

  #draw(): void {
    if (!this.#screen || this.#quitting) return;
    const width = this.#tty.width;
    const height = this.#tty.height;
    this.#tty.write(this.#writer.diff(this.#screen.render(width, height), width));
  }

  async showLogin(notice?: string, sessionEnded = false): Promise<void> {
    const recent = await readServers(this.#o.configDir);
    this.#screen = new LoginScreen({
      configDir: this.#o.configDir,
      ...(this.#o.server ? { server: this.#o.server } : {}),
      recentServers: recent,
      env: this.#o.env,
      ...(notice ? { notice } : {}),
      sessionEnded,
      redraw: this.redraw,
      onDone: (result) => this.#showChat(result),
    });
    this.redraw();
  }

  #showChat(result: AuthResult): void {
    const client = result.client;
    this.#client = client;
    // The pane width is set at the first frame.
    // Remembered in order (one write at a time); a failed write only loses the hint for next time.
    const opened = (channelId: string) => {
      this.#remembering = this.#remembering
        .then(() => rememberLastChannel(client.store.configDir, client.store.server, channelId))
        .catch(() => {});
    };
    const { configDir, server } = client.store;
    // Desktop notices only where there is a session bus to send them on.
    const notifier: Notifier = this.#o.env.DBUS_SESSION_BUS_ADDRESS ? new DbusNotifier() : silentNotifier;
    this.#notifier = notifier;
    const state: ChatState = new ChatState(client, {
      width: Math.max(10, this.#tty.width - 30),
      changed: this.redraw,
      opened,
      ...(result.lastChannel ? { lastChannel: result.lastChannel } : {}),
      mentioned: (m) => {
        // BEL: the terminal (or tmux, or the window manager) marks the window; the text stays out of it.
        if (state.settings.bell) this.#tty.write("\x07");
        if (state.settings.desktop) void notifier.notify({ title: m.title, body: m.body });
      },
      saveSettings: (s) => {
        this.#remembering = this.#remembering.then(() => writeUiSettings(configDir, server, s)).catch(() => {});
      },
    });
    readUiSettings(configDir, server).then(
      (s) => state.applySettings(s),
      () => {},
    );
    this.#offFocus?.();
    this.#offFocus = this.#tty.on("focus", (focused) => {
      state.focused = focused;
      this.redraw();
    });
    const voice = new VoiceControl(client, this.#o.voice, {
      // Voice belongs to no channel: its notices go to the system view, not the open channel.
      notice: (text) => state.global(text),
      changed: this.redraw,
      channelLabel: (id) => client.channel(id)?.label ?? id.slice(0, 8),
    });
    this.#voice = voice;
    this.#state = state;
    this.#screen = new ChatScreen({
      state,
      voice,
      redraw: this.redraw,
      quit: () => this.quit(),
      loggedOut: () => {
        state.detach();
        this.#client = undefined;
        this.#voice = undefined;
        this.#state = undefined;
        void this.showLogin("logged out: the keys stay in this install's keystore", true);
      },
    });
    state.attach();
    for (const note of result.notes) state.system(note);
    if (result.publishName) state.publishName(result.publishName);
    this.redraw();
  }

  /** Leaves voice, stops the stream, saves the keystore, gives the terminal back. */
  quit(code = 0): void {
    this.#quitting ??= (async () => {
      const stop = async () => {
        await this.#voice?.close();
        await this.#client?.close();
        this.#notifier?.close();
        await this.#remembering;
      };
      // A server that does not answer must not keep the user from their shell.
      await Promise.race([stop().catch(() => {}), new Promise((r) => setTimeout(r, 3000).unref())]);
      this.#tty.close();
      // Typed but never stored by the server (it could not be reached): not lost without a word.
      // Written once the terminal has left the alternate screen (stdout drained), or it would vanish with it.
      const unsent = this.#state?.unsent() ?? [];
      if (unsent.length > 0 && this.#o.report) {
        await this.#tty.drained();
        const label = (id: string) => this.#client?.channel(id)?.label ?? id.slice(0, 8);
        const n = unsent.length === 1 ? "1 message" : `${unsent.length} messages`;
        this.#o.report(
          `dialtone: the server never confirmed ${n} (it could not be reached):\n${unsent.map((m) => `  #${label(m.channelId)}: ${m.text}`).join("\n")}\n`,
        );
      }
      this.#done(code);
    })();
  }
}

export const UI_USAGE = "Usage: dialtone [--server URL] [--voice-* flags]  (the terminal UI; dialtone --help lists the commands)";

/** `dialtone` with no command: parses the UI's flags, runs the UI until it quits; the exit code. */
export async function runUi(argv: readonly string[], env: NodeJS.ProcessEnv, err: (text: string) => void): Promise<number> {
  let options: AppOptions;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        server: { type: "string" },
        ...Object.fromEntries(Object.entries(VOICE_FLAG_OPTIONS).map(([k, o]) => [k, { type: o.type }])),
      },
      allowPositionals: false,
      strict: true,
    });
    const server = typeof values["server"] === "string" ? parseServerUrl(values["server"]).url : undefined;
    options = { configDir: resolveConfigDir(env), env, voice: parseVoiceFlags(values), report: err, ...(server ? { server } : {}) };
  } catch (e) {
    err(`dialtone: ${errorText(e)}\n${UI_USAGE}\n`);
    return 1;
  }
  let tty: Tty;
  try {
    tty = Tty.open();
  } catch (e) {
    err(`dialtone: ${errorText(e)}\n`);
    return 1;
  }
  const app = new App(tty, options);
  const crash = (e: unknown) => {
    tty.close();
    err(`dialtone: the terminal UI stopped on an unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(70);
  };
  process.on("uncaughtException", crash);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => app.quit(signal === "SIGINT" ? 130 : 143));
  await app.showLogin();
  return app.finished;
}
