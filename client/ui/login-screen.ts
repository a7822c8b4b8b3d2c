// The login / register screen: the form (client/ui/login-form.ts) drawn centred, field editing,
// the saved-server picker (ctrl+s), inline errors, and the submit that runs in the background
// while the screen keeps answering keys ("connecting..." until it settles).
import { authenticate, hasKeystore, NeedCredentials, type AuthResult } from "./auth.js";
import { errorText } from "./errors.js";
import { fitRow, packItems, seg, type Frame, type Row } from "./frame.js";
import type { KeyPress } from "./keys.js";
import { FIELD_LABELS, FIELD_LIMITS, LoginForm, type FieldName } from "./login-form.js";
import { Picker } from "./picker.js";
import type { Screen } from "./screen.js";
import { displayWidth, graphemes, graphemeWidth } from "./text.js";

const PLACEHOLDERS: Partial<Record<FieldName, string>> = {
  server: "http://localhost:8080",
  username: "username (2-32 chars)",
  invite: "from an admin: /server invite",
};
const LABEL_WIDTH = Math.max(...Object.values(FIELD_LABELS).map((l) => l.length));
export const LOGIN_HELP = ["up/down or tab: switch field", "ctrl+r: register/login", "ctrl+s: servers", "enter: submit", "ctrl+q: quit"];

export interface LoginScreenOptions {
  readonly configDir: string;
  readonly server?: string;
  readonly recentServers: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A message to show at once (e.g. "logged out"). */
  readonly notice?: string;
  readonly redraw: () => void;
  readonly onDone: (result: AuthResult) => void;
}

/** The last graphemes of `s` that fit in `width` columns (long values scroll left as you type). */
function tail(s: string, width: number): string {
  let out = "";
  let used = 0;
  for (const g of graphemes(s).reverse()) {
    const w = graphemeWidth(g);
    if (used + w > width) break;
    out = g + out;
    used += w;
  }
  return out;
}

export class LoginScreen implements Screen {
  readonly #o: LoginScreenOptions;
  readonly form: LoginForm;
  #error: string | undefined;
  #info: string | undefined;
  #busy = false;
  #picker: Picker<string> | undefined;
  #resumable = false;

  constructor(options: LoginScreenOptions) {
    this.#o = options;
    const server = options.server ?? options.recentServers[0];
    this.form = new LoginForm({
      ...(server ? { server } : {}),
      recentServers: [...options.recentServers],
      // A config dir that never reached a server most likely belongs to someone with an invite.
      mode: options.recentServers.length === 0 ? "register" : "login",
    });
    const pw = options.env["DIALTONE_PASSWORD"];
    const pass = options.env["DIALTONE_PASSPHRASE"];
    if (pw) {
      this.form.set("password", pw);
      this.form.set("confirm", pw);
    }
    if (pass) this.form.set("passphrase", pass);
    this.#info = options.notice;
    this.#checkResumable();
  }

  get busy(): boolean {
    return this.#busy;
  }

  #checkResumable(): void {
    const server = this.form.value("server");
    void hasKeystore(this.#o.configDir, server).then((has) => {
      if (this.form.value("server") !== server) return;
      this.#resumable = has;
      this.#o.redraw();
    });
  }

  key(k: KeyPress): void {
    if (this.#picker) {
      this.#picker.key(k);
      this.#o.redraw();
      return;
    }
    const f = this.form.focus;
    switch (k.name) {
      case "tab":
      case "down":
      case "ctrl+n":
        this.#leaveField(f);
        this.form.next();
        break;
      case "shift+tab":
      case "up":
      case "ctrl+p":
        this.#leaveField(f);
        this.form.prev();
        break;
      case "ctrl+r":
        this.form.toggleMode();
        this.#error = undefined;
        break;
      case "ctrl+s":
        this.#openPicker();
        break;
      case "enter":
        this.#submit();
        break;
      case "backspace":
        this.form.backspace();
        break;
      case "ctrl+u":
        this.form.clearField();
        break;
      case "ctrl+w":
      case "alt+backspace":
        this.form.deleteWordBack();
        break;
      case "esc":
        this.#error = undefined;
        break;
      case "char":
        this.#typeChar(k.char ?? "");
        break;
      default:
        return;
    }
    this.#o.redraw();
  }

  paste(text: string): void {
    if (this.#picker) return;
    this.form.type(text); // one line: a pasted token's trailing newline is not carried
    this.#o.redraw();
  }

  wheel(): void {}

  /** One typed character, spaces included (form.type() is for pastes: it drops blank lines). */
  #typeChar(ch: string): void {
    const f = this.form.focus;
    const next = this.form.value(f) + ch;
    if (next.length <= FIELD_LIMITS[f] && !/[\u0000-\u001f\u007f-\u009f]/.test(ch)) this.form.set(f, next);
  }

  #leaveField(f: FieldName): void {
    if (f === "server") this.#checkResumable();
  }

  #openPicker(): void {
    const servers = this.form.recentServers;
    this.#picker = new Picker<string>({
      title: "Saved servers",
      items: servers.map((s) => ({ label: s, value: s })),
      empty: "no saved servers yet",
      onPick: (s) => {
        this.form.useServer(s);
        this.#picker = undefined;
        this.#checkResumable();
      },
      onCancel: () => (this.#picker = undefined),
    });
  }

  #submit(): void {
    if (this.#busy) return;
    // A saved session needs only the passphrase; the credentials are asked for if it ended.
    const problem = this.form.validate({ skipCredentials: this.form.mode === "login" && this.#resumable });
    if (problem) {
      this.#error = problem;
      return;
    }
    this.#error = undefined;
    this.#info = undefined;
    this.#busy = true;
    const form = this.form;
    authenticate(this.#o.configDir, {
      mode: form.mode,
      server: form.value("server"),
      username: form.value("username"),
      password: form.value("password"),
      passphrase: form.value("passphrase"),
      invite: form.value("invite"),
    }).then(
      (result) => {
        this.#busy = false;
        this.#o.onDone(result);
      },
      (err: unknown) => {
        this.#busy = false;
        this.#error = err instanceof NeedCredentials ? err.message : errorText(err);
        if (err instanceof NeedCredentials) this.#resumable = false;
        this.#o.redraw();
      },
    );
  }

  render(width: number, height: number): Frame {
    const form = this.form;
    const valueWidth = Math.max(8, Math.min(56, width - LABEL_WIDTH - 8));
    const blockWidth = LABEL_WIDTH + 4 + valueWidth;
    const left = Math.max(0, Math.floor((width - blockWidth) / 2));
    const pad = " ".repeat(left);
    const body: Row[] = [];
    const line = (...segments: Parameters<typeof seg>[]) => body.push(fitRow([seg(pad), ...segments.map(([t, s]) => seg(t, s))], width));
    line(["›  dialtone", "title"]);
    line(["encrypted messaging", "dim"]);
    line([""]);
    line([form.mode === "login" ? "[ Login ]" : "[ Register ]", "bold"]);
    line([""]);
    let cursor: { x: number; y: number } | undefined;
    for (const f of form.fields) {
      const focused = f === form.focus;
      const shown = form.display(f);
      const placeholder = shown === "" ? PLACEHOLDERS[f] : undefined;
      const value = placeholder ?? tail(shown, valueWidth - 1);
      if (focused) cursor = { x: left + 2 + LABEL_WIDTH + 2 + (placeholder ? 0 : displayWidth(value)), y: body.length };
      line(
        [focused ? "> " : "  ", "focus"],
        [FIELD_LABELS[f].padEnd(LABEL_WIDTH + 2), focused ? "focus" : "label"],
        [value, placeholder ? "dim" : "normal"],
      );
    }
    line([""]);
    if (this.#busy) line(["  connecting...", "warn"]);
    else if (this.#error) line([`  x ${this.#error}`, "error"]);
    else if (this.#info) line([`  ${this.#info}`, "ok"]);
    else if (form.mode === "login" && this.#resumable) line(["  this install has a keystore for this server: the passphrase is enough to resume its session", "dim"]);
    else line([""]);

    const help = packItems(LOGIN_HELP, Math.max(10, width - 2)).map((l) => fitRow([seg(" "), seg(l, "dim")], width));
    const free = Math.max(0, height - help.length - body.length);
    const top = Math.floor(free / 2);
    const rows: Row[] = [];
    for (let i = 0; i < top; i++) rows.push(fitRow([], width));
    rows.push(...body);
    while (rows.length < height - help.length) rows.push(fitRow([], width));
    rows.push(...help);
    let out = rows.slice(0, height);
    if (this.#picker) {
      out = this.#picker.overlay(out, width, height);
      return { rows: out };
    }
    const at = cursor && cursor.y + top < height ? { x: Math.min(width - 1, cursor.x), y: cursor.y + top } : undefined;
    return at ? { rows: out, cursor: at } : { rows: out };
  }
}
