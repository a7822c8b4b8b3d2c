// What every command gets: the process's I/O (injected, so commands run in-process in tests),
// the global flags, and helpers to reach the server's keystore and client.
import {
  DialtoneClient,
  SessionError,
  UsageError,
  identityNotice,
  keysWithheldNotice,
  pickServer,
  trustNotice,
  type ServerAccess,
} from "../core/index.js";
import { CLI_HINTS } from "./format.js";
import { Keystore } from "../keystore/index.js";
import type { Json } from "./format.js";
import { secret } from "./prompt.js";

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes to stderr. */
  err(text: string): void;
  /** Stdin, line by line as it arrives (for `send CHANNEL -`). */
  stdinLines(): AsyncIterable<string>;
  /** Asks on the terminal without echo; throws a UsageError when there is no terminal. */
  prompt(question: string): Promise<string>;
  /** Aborted on SIGINT/SIGTERM: long-running commands (tail) stop cleanly. */
  readonly signal: AbortSignal;
}

export interface Ctx {
  readonly io: CliIo;
  readonly json: boolean;
  readonly serverFlag: string | undefined;
  readonly configDir: string;
}

export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  /** Placeholder shown in help, e.g. "N". */
  readonly value?: string;
  readonly help: string;
}

export interface Command {
  /** "send", "channel create", ... */
  readonly name: string;
  /** Positional synopsis, e.g. "CHANNEL TEXT". */
  readonly args: string;
  readonly summary: string;
  readonly details?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Minimum and maximum positionals (Infinity: the rest of the line). */
  readonly positionals: readonly [number, number];
  run(ctx: Ctx, values: OptionValues, positionals: readonly string[]): Promise<void>;
}

/** Prints the human text (lines) or the JSON object, as asked. */
export function print(ctx: Ctx, human: string | readonly string[], json: Json): void {
  if (ctx.json) ctx.io.out(`${JSON.stringify(json)}\n`);
  else {
    const lines = typeof human === "string" ? [human] : human;
    if (lines.length > 0) ctx.io.out(`${lines.join("\n")}\n`);
  }
}

export const warn = (ctx: Ctx, text: string) => ctx.io.err(`dialtone: ${text}\n`);

export const server = (ctx: Ctx) => pickServer(ctx.configDir, ctx.serverFlag);

export function passphrase(ctx: Ctx, creating: boolean): Promise<string> {
  return secret(ctx.io, "DIALTONE_PASSPHRASE", creating ? "New keystore passphrase (8+ characters): " : "Keystore passphrase: ", creating);
}

export function password(ctx: Ctx, username: string, confirm: boolean): Promise<string> {
  return secret(ctx.io, "DIALTONE_PASSWORD", `Password for ${username}: `, confirm);
}

/** Server, config dir and passphrase of an existing keystore (a missing one means "not logged in"). */
export async function access(ctx: Ctx): Promise<ServerAccess> {
  const url = await server(ctx);
  if (!(await Keystore.exists(ctx.configDir, url))) {
    throw new SessionError("not-logged-in", `not logged in to ${url} from this config dir: run dialtone login or register`);
  }
  return { server: url, configDir: ctx.configDir, passphrase: await passphrase(ctx, false) };
}

/**
 * What a one-shot command tells on stderr while it shares keys: keys withheld and why, devices
 * and members that need a person's attention, this device's identity (a recovery code, a wait
 * for approval). `tail` prints these itself, on its own stream.
 */
function reportTrust(ctx: Ctx, client: DialtoneClient): void {
  client.on("keys-withheld", (k) => warn(ctx, keysWithheldNotice(k).text));
  client.on("trust", (t) => {
    const n = trustNotice(t, CLI_HINTS);
    if (n && n.level !== "info") warn(ctx, n.text);
  });
  client.on("identity", (s) => {
    const n = identityNotice(s, CLI_HINTS);
    if (n) warn(ctx, n.text);
  });
}

export interface ClientOptions {
  /** Fetch and share keys first (settling trust): what most commands need. */
  readonly reconcile: boolean;
  /** Report trust and key notices on stderr (default true). */
  readonly notices?: boolean;
  /** The command shows whoami: its session read starts with the others. */
  readonly whoami?: boolean;
}

/** The client of the server's keystore; with `reconcile`, keys are fetched and shared first. */
export async function openClient(ctx: Ctx, opts: ClientOptions = { reconcile: true }): Promise<DialtoneClient> {
  // What the command does next is read alongside the channel and profile lists.
  const client = await DialtoneClient.open(await access(ctx), { reconcileNext: opts.reconcile, whoamiNext: opts.whoami === true });
  if (opts.notices !== false) reportTrust(ctx, client);
  try {
    if (opts.reconcile) await client.reconcile();
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
  return client;
}

/** Runs `fn` with an open client and always closes it (stopping streams, saving the keystore). */
export async function withClient<T>(ctx: Ctx, fn: (client: DialtoneClient) => Promise<T>, opts?: ClientOptions): Promise<T> {
  const client = await openClient(ctx, opts);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** A numeric option within [min, max], or `fallback` when absent. */
export function numberOption(values: OptionValues, name: string, min: number, max: number, fallback: number, integer = true): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const shape = integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  if (typeof raw !== "string" || !shape.test(raw) || n < min || n > max) {
    throw new UsageError("invalid-input", `--${name}: ${integer ? "a whole number" : "a number"} from ${min} to ${max}`);
  }
  return n;
}

/** `--wait SECONDS` (default 10) as milliseconds. */
export const waitMs = (values: OptionValues): number => Math.round(numberOption(values, "wait", 0, 3600, 10, false) * 1000);

export const WAIT_OPTION: OptionSpec = {
  type: "string",
  value: "SECONDS",
  help: "how long to wait for a key another member's client shares with this device (default 10)",
};
