// The terminal, through terminal-kit: alternate screen, raw input with mouse wheel and bracketed
// paste, key names, resize, the escape codes of the palette, and a restore that runs however the
// process ends (quit, signal, crash), so the shell is never left in raw mode.
import { EventEmitter } from "node:events";
import { writeSync } from "node:fs";
import termkit from "terminal-kit";
import { Emitter } from "../core/index.js";
import type { Palette, Style } from "./frame.js";
import { InputFilter, PASTE_OFF, PASTE_ON } from "./input-filter.js";
import { normaliseKey, type KeyPress } from "./keys.js";
import { NICK_COLOURS, type NickStyle } from "./nick-colour.js";

type TermkitTerminal = ReturnType<typeof termkit.createTerminal>;

export interface TtyEvents {
  key: KeyPress;
  paste: string;
  /** Mouse wheel: -1 up, +1 down, at a 0-based cell. */
  wheel: { readonly delta: -1 | 1; readonly x: number; readonly y: number };
  /** The terminal window gained (true) or lost (false) focus: only from terminals that report it (CSI ?1004h). */
  focus: boolean;
  resize: { readonly width: number; readonly height: number };
  error: { readonly message: string; readonly cause: unknown };
}

/** The escape-code builders of terminal-kit's `term.str` that the palette uses (untyped upstream). */
interface StrFns {
  moveTo(x: number, y: number): string;
  color256(register: number): string;
  bold(): string;
  dim(): string;
  italic(): string;
  underline(): string;
  inverse(): string;
  styleReset(): string;
  eraseLineAfter(): string;
  hideCursor(hide?: boolean): string;
}

/** Colour registers (xterm 256), after the earlier client: green own, blue others, greys, orange highlights. */
const STYLES: Readonly<
  Record<Style, { fg?: number; bold?: boolean; dim?: boolean; italic?: boolean; underline?: boolean; inverse?: boolean }>
> = {
  normal: {},
  dim: { fg: 244 },
  bold: { bold: true },
  title: { fg: 212, bold: true },
  border: { fg: 238 },
  own: { fg: 114 },
  other: { fg: 69 },
  system: { fg: 243 },
  history: { fg: 247 },
  highlight: { fg: 214, bold: true },
  placeholder: { fg: 243, italic: true },
  marker: { fg: 214, inverse: true },
  error: { fg: 196 },
  ok: { fg: 114 },
  warn: { fg: 221 },
  heading: { fg: 250, bold: true },
  cursor: { fg: 212, bold: true },
  active: { bold: true },
  unread: { fg: 214, bold: true },
  speaking: { fg: 114, bold: true },
  focus: { fg: 212, bold: true },
  label: { fg: 250 },
  selected: { inverse: true },
  link: { fg: 75, underline: true },
  ...(Object.fromEntries(Object.entries(NICK_COLOURS).map(([k, fg]) => [k, { fg }])) as Record<NickStyle, { fg: number }>),
};

function palette(term: TermkitTerminal): Palette {
  const str = term.str as unknown as StrFns;
  const cache = new Map<Style, string>();
  return {
    sgr(style) {
      let code = cache.get(style);
      if (code === undefined) {
        const s = STYLES[style];
        code =
          (s.fg !== undefined ? str.color256(s.fg) : "") +
          (s.bold ? str.bold() : "") +
          (s.dim ? str.dim() : "") +
          (s.italic ? str.italic() : "") +
          (s.underline ? str.underline() : "") +
          (s.inverse ? str.inverse() : "");
        cache.set(style, code);
      }
      return code;
    },
    reset: str.styleReset(),
    moveTo: (x, y) => str.moveTo(x + 1, y + 1),
    eraseLineAfter: str.eraseLineAfter(),
    hideCursor: str.hideCursor(),
    showCursor: str.hideCursor(false),
  };
}

const CONTROL_NAMES = ["ctrl+\\", "ctrl+]", "ctrl+^", "ctrl+/"];

/** What terminal-kit reads keys from: our filtered copy of stdin (it only needs these methods). */
class FilteredInput extends EventEmitter {
  readonly isTTY = true;
  constructor(private readonly real: NodeJS.ReadStream) {
    super();
  }
  setRawMode(mode: boolean): void {
    if (this.real.isTTY) this.real.setRawMode(mode);
  }
  pause(): void {
    this.real.pause();
  }
  resume(): void {
    this.real.resume();
  }
}

export class Tty {
  readonly palette: Palette;
  readonly #term: TermkitTerminal;
  readonly #events = new Emitter<TtyEvents>();
  readonly #stdin: NodeJS.ReadStream;
  readonly #stdout: NodeJS.WriteStream;
  readonly #onData: (chunk: Buffer) => void;
  readonly #onExit = () => this.#restoreSync();
  #flushTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream) {
    this.#stdin = stdin;
    this.#stdout = stdout;
    const env = process.env;
    // tmux and screen report TERM=tmux-256color/screen-256color, which terminal-kit does not know:
    // they speak xterm's keys and colours.
    const colours256 = /256|truecolor|24bit/.test(`${env["TERM"] ?? ""} ${env["COLORTERM"] ?? ""}`);
    const input = new FilteredInput(stdin);
    this.#term = termkit.createTerminal({
      stdin: input as unknown as NodeJS.ReadStream,
      stdout,
      stderr: process.stderr,
      generic: colours256 ? "xterm-256color" : "xterm",
      appId: colours256 ? "xterm-256color" : "xterm",
      appName: "dialtone",
      isTTY: true,
      processSigwinch: true,
    });
    this.palette = palette(this.#term);

    const filter = new InputFilter();
    const deliver = (outs: ReturnType<InputFilter["push"]>) => {
      for (const o of outs) {
        if (o.kind === "paste") this.#events.emit("paste", o.text);
        else {
          // terminal-kit knows no name for 0x1c-0x1f (ctrl+\ ] ^ /) and drops the rest of the read on them.
          let from = 0;
          o.data.forEach((b, i) => {
            if (b < 0x1c || b > 0x1f) return;
            if (i > from) input.emit("data", o.data.subarray(from, i));
            this.#events.emit("key", { name: CONTROL_NAMES[b - 0x1c]! });
            from = i + 1;
          });
          if (from < o.data.length) input.emit("data", o.data.subarray(from));
        }
      }
    };
    this.#onData = (chunk: Buffer) => {
      clearTimeout(this.#flushTimer);
      deliver(filter.push(chunk));
      // Half an escape sequence or character with nothing after it: after a pause it is all there is.
      if (filter.holding) this.#flushTimer = setTimeout(() => deliver(filter.flush()), 40);
    };
    stdin.on("data", this.#onData);

    this.#term.on("key", (name: string, _matches: unknown, data: { isCharacter?: boolean }) => {
      this.#events.emit("key", normaliseKey(name, data?.isCharacter === true));
    });
    this.#term.on("mouse", (name: string, data: { x: number; y: number }) => {
      if (name === "MOUSE_WHEEL_UP" || name === "MOUSE_WHEEL_DOWN") {
        this.#events.emit("wheel", { delta: name === "MOUSE_WHEEL_UP" ? -1 : 1, x: data.x - 1, y: data.y - 1 });
      }
    });
    this.#term.on("resize", (width: number, height: number) => this.#events.emit("resize", { width, height }));
    this.#term.on("terminal", (name: string) => {
      if (name === "FOCUS_IN" || name === "FOCUS_OUT") this.#events.emit("focus", name === "FOCUS_IN");
    });

    this.#term.fullscreen(true);
    // focus: focus reporting (CSI ?1004h), so a mention rings while the window is in the background.
    // (terminal-kit takes `focus`; its type definitions lag behind.)
    this.#term.grabInput({ mouse: "button", focus: true } as Parameters<TermkitTerminal["grabInput"]>[0]);
    stdout.write(PASTE_ON + this.palette.hideCursor);
    process.once("exit", this.#onExit);
  }

  /** Takes over the terminal. Throws when stdin or stdout is not a terminal. */
  static open(stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WriteStream = process.stdout): Tty {
    if (!stdin.isTTY || !stdout.isTTY)
      throw new Error("the terminal UI needs a terminal (stdin and stdout); use the dialtone commands in scripts");
    return new Tty(stdin, stdout);
  }

  get width(): number {
    return this.#term.width || 80;
  }

  get height(): number {
    return this.#term.height || 24;
  }

  on<K extends keyof TtyEvents>(name: K, listener: (value: TtyEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  write(bytes: string): void {
    if (!this.#closed && bytes) this.#stdout.write(bytes);
  }

  /** Gives the terminal back as it was: main screen, cooked mode, cursor, no mouse or paste mode. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    process.removeListener("exit", this.#onExit);
    this.#stdin.removeListener("data", this.#onData);
    this.#stdout.write(PASTE_OFF + this.palette.reset + this.palette.showCursor);
    this.#term.grabInput(false);
    this.#term.fullscreen(false);
    this.#stdin.pause();
  }

  /** Resolves once everything written to the terminal so far has been handed to it. */
  drained(): Promise<void> {
    return new Promise((resolve) => this.#stdout.write("", () => resolve()));
  }

  /** The same, synchronously, for process exit (a crash or process.exit before close()). */
  #restoreSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      // Mouse off, SGR mouse off, paste off, style reset, cursor on, main screen.
      writeSync(
        (this.#stdout as unknown as { fd: number }).fd,
        `\x1b[?1000l\x1b[?1006l${PASTE_OFF}${this.palette.reset}${this.palette.showCursor}\x1b[?1049l`,
      );
      if (this.#stdin.isTTY) this.#stdin.setRawMode(false);
    } catch {
      // Nothing more can be done on the way out.
    }
  }
}
