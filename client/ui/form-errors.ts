// A refused login or registration in the form's own words, with the field to fix. The server
// names the request field it refuses ("invite_token: unknown invite"): that is API wording, not
// something a person filling in "Invite Token" should have to translate.
import { ApiError, isWrongCredentials, SessionError, UsageError } from "../core/index.js";
import { KeystoreError } from "../keystore/index.js";
import { errorText } from "./errors.js";
import type { FieldName } from "./login-form.js";

/** Request fields of Register/Login → the form's field. */
const FIELDS: Readonly<Record<string, FieldName>> = {
  invite_token: "invite",
  username: "username",
  password: "password",
};

/** The server's problem with a field → the form's sentence (anything else keeps the server's words, without the field name). */
const WORDING: Readonly<Record<string, string>> = {
  "invite_token: unknown invite": "the server does not know this invite token: check it was copied whole",
  "invite_token: invite expired": "this invite has expired: ask an admin for a new one",
  "invite_token: invite already used": "this invite was already used: ask an admin for a new one",
  "invite_token: invite revoked": "this invite was revoked: ask an admin for a new one",
  "username: already taken": "this username is taken: choose another",
};

const LABELS: Readonly<Record<FieldName, string>> = {
  server: "server",
  username: "username",
  password: "password",
  confirm: "password",
  passphrase: "keystore passphrase",
  invite: "invite token",
};

/** What the form shows for an error from authenticate(): a field to focus when one is at fault. */
export function formProblem(err: unknown): { field?: FieldName; message: string } {
  // The CLI's flag name ("--invite: ...") is no word of the form's either.
  if (err instanceof UsageError && err.message.startsWith("--invite: ")) return { field: "invite", message: err.message.slice(10) };
  if (err instanceof SessionError && err.code === "wrong-community") return { field: "invite", message: err.message };
  if (err instanceof KeystoreError && err.code === "wrong-passphrase") return { field: "passphrase", message: errorText(err) };
  if (isWrongCredentials(err)) return { field: "password", message: errorText(err) };
  if (err instanceof ApiError) {
    const m = /^([a-z_]+): (.+)$/s.exec(err.message);
    if (m) {
      const field = FIELDS[m[1]!];
      const message = WORDING[err.message] ?? (field ? `${LABELS[field]}: ${m[2]}` : m[2]!);
      return field ? { field, message } : { message };
    }
  }
  return { message: errorText(err) };
}
