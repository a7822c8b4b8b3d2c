// The login / register screen: the form (client/ui/login-form.ts) drawn centred, field editing,
// the saved-server picker (ctrl+s), inline errors, and the submit that runs in the background
// while the screen keeps answering keys ("connecting..." until it settles).
import { authenticate, hasKeystore, NeedCredentials, type AuthResult } from "./auth.js";
import { formProblem } from "./form-errors.js";
import { footerLines } from "./chrome.js";
import { fitRow, seg, type Frame, type Row } from "./frame.js";
import type { KeyPress } from "./keys.js";
import { FIELD_LABELS, FIELD_LIMITS, LoginForm, serverUrl, type FieldName } from "./login-form.js";
import { Picker } from "./picker.js";
import type { Screen } from "./screen.js";
import { displayWidth, graphemes, graphemeWidth, wrap } from "./text.js";

const PLACEHOLDERS: Partial<Record<FieldName, string>> = {
  server: "http://localhost:8080",
  username: "username (2-32 chars)",
  invite: "from an admin: /server invite",
};
const LABEL_WIDTH = Math.max(...Object.values(FIELD_LABELS).map((l) => l.length));
export const LOGIN_HELP = ["up/down or tab: switch field", "ctrl+r: register/login", "ctrl+s: servers", "enter: submit", "ctrl+q: quit"];
/** Ever shorter help for small terminals; each keeps "ctrl+q: quit". */
const LOGIN_SHORT_HELP = [
  ["tab: next field", "ctrl+r: register/login", "enter: submit", "ctrl+q: quit"],
  ["tab: next", "enter: submit", "ctrl+q: quit"],
  ["ctrl+q: quit"],
];
/** Labels for narrow terminals. */
const SHORT_LABELS: Readonly<Record<FieldName, string>> = {
  server: "Server",
  username: "Username",
  password: "Password",
  confirm: "Confirm",
  passphrase: "Passphrase",
  invite: "Invite",
};
const SHORT_LABEL_WIDTH = Math.max(...Object.values(SHORT_LABELS).map((l) => l.length));

export interface LoginScreenOptions {
  readonly configDir: string;
  readonly server?: string;
  readonly recentServers: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A message to show at once (e.g. "logged out"). */
  readonly notice?: string;
  /** The session was just ended here (/logout): a keystore alone does not mean the passphrase is enough. */
  readonly sessionEnded?: boolean;
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
  /** What is wrong, one line each (the form's own checks all at once, or the server's answer). */
  #errors: string[] = [];
  /** The user moved the focus: a late "resumable" answer does not move it again. */
  #focusMoved = false;
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
    if (this.#o.sessionEnded) return;
    void hasKeystore(this.#o.configDir, serverUrl(server)).then((has) => {
      if (this.form.value("server") !== server) return;
      this.#resumable = has;
      // Resuming needs the passphrase alone: the cursor goes there, unless the user already moved it.
      if (has && this.form.mode === "login" && !this.#focusMoved) this.form.focus = "passphrase";
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
    if (["tab", "down", "ctrl+n", "shift+tab", "up", "ctrl+p", "ctrl+s", "ctrl+r"].includes(k.name)) this.#focusMoved = true;
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
        this.#errors = [];
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
        this.#errors = [];
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
    // Every problem at once, and the cursor on the first field to fix.
    const problems = this.form.problems({ skipCredentials: this.form.mode === "login" && this.#resumable });
    if (problems.length > 0) {
      this.#errors = problems.map((p) => p.message);
      this.form.focus = problems[0]!.field;
      return;
    }
    this.#errors = [];
    this.#info = undefined;
    this.#busy = true;
    const v = this.form.values();
    authenticate(this.#o.configDir, {
      mode: v.mode,
      server: v.server,
      username: v.username,
      password: v.password,
      passphrase: v.passphrase,
      invite: v.invite,
    }).then(
      (result) => {
        this.#busy = false;
        this.#o.onDone(result);
      },
      (err: unknown) => {
        this.#busy = false;
        if (err instanceof NeedCredentials) {
          this.#errors = [err.message];
          this.#resumable = false;
          this.form.focus = "username";
        } else {
          const p = formProblem(err);
          this.#errors = [p.message];
          if (p.field) this.form.focus = p.field;
        }
        this.#o.redraw();
      },
    );
  }

  render(width: number, height: number): Frame {
    const form = this.form;
    // Narrow terminals get short labels, so the value being typed stays visible.
    const wide = width >= LABEL_WIDTH + 4 + 28;
    const labelWidth = wide ? LABEL_WIDTH : SHORT_LABEL_WIDTH;
    const labelOf = (f: FieldName) => (wide ? FIELD_LABELS[f] : SHORT_LABELS[f]);
    let valueWidth = Math.max(8, Math.min(56, width - labelWidth - 8));
    if (labelWidth + 4 + valueWidth > width) valueWidth = Math.max(1, width - labelWidth - 4);
    const blockWidth = labelWidth + 4 + valueWidth;
    const left = Math.max(0, Math.floor((width - blockWidth) / 2));
    const pad = " ".repeat(left);
    const line = (...segments: Parameters<typeof seg>[]): Row => fitRow([seg(pad), ...segments.map(([t, st]) => seg(t, st))], width);

    // What must show: the mode, the fields (scrolled around the focused one if need be), one
    // status row and one help row. The title, the blank rows and the rest of the help come as room allows.
    const fields = form.fields;
    let cursor: { x: number; y: number } | undefined;
    const fieldRows = fields.map((f) => {
      const focused = f === form.focus;
      const shown = form.display(f);
      const placeholder = shown === "" ? PLACEHOLDERS[f] : undefined;
      const value = placeholder ?? tail(shown, valueWidth - 1);
      return {
        focused,
        cursorX: left + 2 + labelWidth + 2 + (placeholder ? 0 : displayWidth(value)),
        row: line(
          [focused ? "> " : "  ", "focus"],
          [labelOf(f).padEnd(labelWidth + 2), focused ? "focus" : "label"],
          [value, placeholder ? "dim" : "normal"],
        ),
      };
    });
    const status: Row[] = this.#busy
      ? [line(["  connecting...", "warn"])]
      : this.#errors.length > 0
        ? this.#errors.flatMap((e) => wrap(`x ${e}`, Math.max(1, width - left - 2), 2)).map((l) => line([`  ${l}`, "error"]))
        : this.#info
          ? wrap(this.#info, Math.max(1, width - left - 2), 0).map((l) => line([`  ${l}`, "ok"]))
          : form.mode === "login" && this.#resumable
            ? wrap(
                "this install has a keystore for this server: the passphrase is enough to resume its session",
                Math.max(1, width - left - 2),
                0,
              ).map((l) => line([`  ${l}`, "dim"]))
            : [line([""])];
    const mode = line([form.mode === "login" ? "[ Login ]" : "[ Register ]", "bold"]);

    let spare = height - (1 + fields.length + 1 + 1);
    const take = (n: number) => {
      const got = Math.max(0, Math.min(n, spare));
      spare -= got;
      return got;
    };
    const statusRows = status.slice(0, 1 + take(status.length - 1));
    const title = take(1) > 0;
    const blankAfterMode = take(1) > 0;
    const helpRows = 1 + take(2);
    const help = footerLines(LOGIN_HELP, LOGIN_SHORT_HELP, width, helpRows, undefined).lines.map((l) =>
      fitRow([seg(" "), seg(l, "dim")], width),
    );
    spare += helpRows - help.length; // a help that packs into fewer rows gives them back
    const blankBeforeStatus = take(1) > 0;
    const subtitle = take(1) > 0;
    const blankAfterTitle = take(1) > 0;

    const body: Row[] = [];
    if (title) body.push(line(["›  dialtone", "title"]));
    if (subtitle) body.push(line(["encrypted messaging", "dim"]));
    if (blankAfterTitle) body.push(line([""]));
    body.push(mode);
    if (blankAfterMode) body.push(line([""]));
    // Too few rows for every field: a window that keeps the focused one in view.
    const room = Math.max(1, height - body.length - statusRows.length - help.length - (blankBeforeStatus ? 1 : 0));
    const at = fieldRows.findIndex((r) => r.focused);
    const first = Math.min(Math.max(0, at - room + 1), Math.max(0, fieldRows.length - room));
    for (const r of fieldRows.slice(first, first + room)) {
      if (r.focused) cursor = { x: r.cursorX, y: body.length };
      body.push(r.row);
    }
    if (blankBeforeStatus) body.push(line([""]));
    body.push(...statusRows);

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
    const cur = cursor && cursor.y + top < height ? { x: Math.min(width - 1, cursor.x), y: cursor.y + top } : undefined;
    return cur ? { rows: out, cursor: cur } : { rows: out };
  }
}
