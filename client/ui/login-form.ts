// The login / register form model: fields per mode in focus order, masking and the client-side
// checks of the reference (with this server's 2-32 username limit). Pure: the login screen draws it.
import { parseServerUrl } from "../core/servers.js";
import { graphemes, sanitize } from "./text.js";

export type FormMode = "login" | "register";
export type FieldName = "server" | "username" | "password" | "confirm" | "passphrase" | "invite";

const FIELDS: Record<FormMode, readonly FieldName[]> = {
  login: ["server", "username", "password", "passphrase"],
  register: ["server", "username", "password", "confirm", "passphrase", "invite"],
};

/** Longest value each field accepts, in UTF-16 units (the reference's CharLimit, username 32). */
export const FIELD_LIMITS: Readonly<Record<FieldName, number>> = {
  server: 256,
  username: 32,
  password: 128,
  confirm: 128,
  passphrase: 128,
  invite: 256,
};

export const FIELD_LABELS: Readonly<Record<FieldName, string>> = {
  server: "Server",
  username: "Username",
  password: "Password",
  confirm: "Confirm Password",
  passphrase: "Keystore Passphrase",
  invite: "Invite Token",
};

export const MASKED: ReadonlySet<FieldName> = new Set<FieldName>(["password", "confirm", "passphrase"]);

/** How many recent servers the form offers (the reference kept 8). */
export const RECENT_SERVERS_MAX = 8;

export const MIN_PASSPHRASE = 8;

// Same rule as the server's normaliseUsername (server/domain/usernames.ts), so the form refuses
// what the server would refuse, with the reference's wording.
const USERNAME_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;

/** One thing wrong with the form, and the field to fix (the screen focuses the first). */
export interface FormProblem {
  readonly field: FieldName;
  readonly message: string;
}

/**
 * The server field as a URL, by the CLI's --server rule (parseServerUrl): `http://` in front of
 * this machine's host and port (`localhost:8080`, where `npm start` serves in clear). Anything
 * else keeps what was typed, and the check asks for its scheme: guessing http:// would send a
 * password in clear.
 */
export function serverUrl(typed: string): string {
  const s = typed.trim();
  try {
    return parseServerUrl(s).url;
  } catch {
    return s;
  }
}

export interface FormValues {
  mode: FormMode;
  server: string;
  username: string;
  password: string;
  passphrase: string;
  invite: string;
}

export class LoginForm {
  #mode: FormMode;
  #focus: FieldName;
  readonly #values: Record<FieldName, string> = { server: "", username: "", password: "", confirm: "", passphrase: "", invite: "" };
  readonly recentServers: string[];

  constructor(opts: { server?: string; recentServers?: string[]; mode?: FormMode } = {}) {
    // Most recent first, case-insensitive de-duplication, at most eight.
    const seen = new Set<string>();
    this.recentServers = (opts.recentServers ?? [])
      .map((s) => s.trim())
      .filter((s) => s !== "" && !seen.has(s.toLowerCase()) && seen.add(s.toLowerCase()))
      .slice(0, RECENT_SERVERS_MAX);
    this.#mode = opts.mode ?? "login";
    this.#values.server = (opts.server ?? this.recentServers[0] ?? "").trim();
    // With the server known, the first thing to type is the username.
    this.#focus = this.#values.server === "" ? "server" : "username";
  }

  get mode(): FormMode {
    return this.#mode;
  }

  set mode(mode: FormMode) {
    if (mode === this.#mode) return;
    this.#mode = mode;
    if (!this.fields.includes(this.#focus)) this.#focus = this.#focus === "confirm" ? "password" : "passphrase";
  }

  /** The fields of the current mode, in focus order. */
  get fields(): FieldName[] {
    return [...FIELDS[this.#mode]];
  }

  get focus(): FieldName {
    return this.#focus;
  }

  /** Focusing a field the mode does not show is ignored. */
  set focus(f: FieldName) {
    if (this.fields.includes(f)) this.#focus = f;
  }

  value(f: FieldName): string {
    return this.#values[f];
  }

  /** Sets a value as given (the screen enforces FIELD_LIMITS while typing; see also type()). */
  set(f: FieldName, v: string): void {
    this.#values[f] = v;
  }

  /**
   * Typed or pasted text for the focused field: one line (the first non-blank line of a paste),
   * without control characters, cut at the field's limit. Returns false when something was cut.
   */
  type(text: string): boolean {
    const line = text.split(/\r\n|\r|\n/).find((l) => l.trim() !== "") ?? "";
    const clean = line.replace(/[\u0000-\u001f\u007f-\u009f]/g, "");
    const f = this.#focus;
    let out = this.#values[f];
    for (const g of graphemes(clean)) {
      if (out.length + g.length > FIELD_LIMITS[f]) {
        this.#values[f] = out;
        return false;
      }
      out += g;
    }
    this.#values[f] = out;
    return true;
  }

  /** Deletes the last grapheme of the focused field. */
  backspace(): void {
    this.#values[this.#focus] = graphemes(this.#values[this.#focus]).slice(0, -1).join("");
  }

  /** Deletes the last word (and the spaces after it) of the focused field. */
  deleteWordBack(): void {
    this.#values[this.#focus] = this.#values[this.#focus].replace(/\S*\s*$/, "");
  }

  clearField(): void {
    this.#values[this.#focus] = "";
  }

  next(): void {
    const fields = this.fields;
    this.#focus = fields[(fields.indexOf(this.#focus) + 1) % fields.length]!;
  }

  prev(): void {
    const fields = this.fields;
    this.#focus = fields[(fields.indexOf(this.#focus) - 1 + fields.length) % fields.length]!;
  }

  toggleMode(): void {
    this.mode = this.#mode === "login" ? "register" : "login";
  }

  /** Picks a recent server (by index or URL) into the server field. */
  useServer(server: string | number): void {
    const s = typeof server === "number" ? this.recentServers[server] : server;
    if (s !== undefined) this.#values.server = s.trim();
  }

  /** The text to show: "*" per character for secrets, control characters neutralised otherwise. */
  display(f: FieldName): string {
    const v = this.#values[f];
    return MASKED.has(f) ? "*".repeat(graphemes(v).length) : sanitize(v);
  }

  /**
   * The first problem with the form, in the reference's order and words, or undefined.
   * `skipCredentials` leaves out the username/password checks (a saved session needs only the
   * keystore passphrase).
   */
  validate(opts: { skipCredentials?: boolean } = {}): string | undefined {
    return this.problems(opts)[0]?.message;
  }

  /** Every problem with the form at once, in field order (the reference's words). */
  problems(opts: { skipCredentials?: boolean } = {}): FormProblem[] {
    const v = this.#values;
    const out: FormProblem[] = [];
    const add = (field: FieldName, message: string) => out.push({ field, message });
    const server = serverUrl(v.server);
    if (server === "") add("server", "server url is required");
    else if (!/^https?:\/\/[^\s/?#]+/i.test(server) || !URL.canParse(server))
      add("server", "server url must start with http:// or https:// (only localhost:PORT may leave it out)");
    if (!opts.skipCredentials) {
      const name = v.username.normalize("NFKC").trim();
      const length = [...name].length;
      if (name === "") add("username", "username is required");
      else if (length < 2 || length > 32) add("username", "username must be 2-32 characters");
      else if (USERNAME_FORBIDDEN.test(name)) add("username", "username must not contain control or invisible characters");
      if (v.password === "") add("password", "password is required");
      else if (this.#mode === "register" && v.password !== v.confirm) add("confirm", "passwords do not match");
    }
    if ([...v.passphrase].length < MIN_PASSPHRASE) add("passphrase", `keystore passphrase must be at least ${MIN_PASSPHRASE} characters`);
    if (this.#mode === "register" && v.invite.trim() === "") add("invite", "invite token is required");
    return out;
  }

  /** The values to submit, trimmed where spaces cannot matter (not secrets). */
  values(): FormValues {
    const v = this.#values;
    return {
      mode: this.#mode,
      server: serverUrl(v.server),
      username: v.username.trim(),
      password: v.password,
      passphrase: v.passphrase,
      invite: v.invite.trim(),
    };
  }
}
