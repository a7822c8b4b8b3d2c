// The headless CLI: picks the command, parses its flags, runs it, and turns every error into
// one line on stderr and an exit code: 0 ok, 1 usage, 2 server or session, 3 crypto or keys.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { attachDashValues } from "./args.js";
import {
  ApiError,
  ConnectionError,
  isWrongCredentials,
  KeyError,
  parseServerUrl,
  SessionError,
  UsageError,
  VoiceDaemonError,
} from "../core/index.js";
import { CryptoError } from "../crypto/index.js";
import { KeystoreError, resolveConfigDir } from "../keystore/index.js";
import { ADMIN_COMMANDS } from "./commands/admin.js";
import { loginCommand, logoutCommand, profileSetCommand, registerCommand, whoamiCommand } from "./commands/account.js";
import { channelCreateCommand, channelDeleteCommand, channelRenameCommand, channelsCommand } from "./commands/channels.js";
import { CONVERSATION_COMMANDS } from "./commands/conversation.js";
import { historyCommand, sendCommand, tailCommand } from "./commands/messages.js";
import { searchCommand } from "./commands/search.js";
import { devicesCommand, inviteCommand, verifyCommand } from "./commands/trust.js";
import { VOICE_COMMANDS } from "./commands/voice.js";
import { IDENTITY_COMMANDS } from "./commands/identity.js";
import type { CliIo, Command, Ctx, OptionSpec } from "./context.js";

export const EXIT = { ok: 0, usage: 1, server: 2, crypto: 3 } as const;

export const COMMANDS: readonly Command[] = [
  registerCommand,
  loginCommand,
  logoutCommand,
  whoamiCommand,
  channelsCommand,
  channelCreateCommand,
  channelRenameCommand,
  channelDeleteCommand,
  sendCommand,
  historyCommand,
  ...CONVERSATION_COMMANDS,
  tailCommand,
  searchCommand,
  inviteCommand,
  devicesCommand,
  ...IDENTITY_COMMANDS,
  verifyCommand,
  profileSetCommand,
  ...VOICE_COMMANDS,
  ...ADMIN_COMMANDS,
];

const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  server: { type: "string", value: "URL", help: "the server (optional when this config dir knows only one)" },
  json: { type: "boolean", help: "machine-readable output: JSON (one object per line for history and tail)" },
  help: { type: "boolean", short: "h", help: "show help" },
};

/** Command words first ("channel create"), flags anywhere after, values after their flags. */
const GROUPS = new Set(["channel", "profile", "voice", "admin", "devices"]);

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  return Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`;
    return `  ${flag.padEnd(24)} ${o.help}`;
  });
}

export function mainHelp(): string {
  const rows = COMMANDS.map((c) => `  ${`${c.name}${c.args ? ` ${c.args}` : ""}`.padEnd(30)} ${c.summary}`);
  return [
    "dialtone: end-to-end-encrypted terminal chat",
    "",
    "Usage: dialtone [COMMAND] [--server URL] [--json] [options]",
    "",
    "With no command, dialtone starts the terminal UI. Commands:",
    ...rows,
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    "Environment:",
    "  DIALTONE_PASSWORD      account password (else asked on the terminal, without echo)",
    "  DIALTONE_PASSPHRASE    keystore passphrase (else asked on the terminal, without echo)",
    "  DIALTONE_CONFIG_DIR    state directory (default $XDG_CONFIG_HOME/dialtone)",
    "",
    "Channels are named by their name (#general, any case) or an id prefix.",
    "Exit codes: 0 ok, 1 usage, 2 server or session error, 3 key or crypto error.",
    "Run dialtone COMMAND --help for a command's options.",
    "",
  ].join("\n");
}

export function commandHelp(c: Command): string {
  return [
    `Usage: dialtone ${c.name}${c.args ? ` ${c.args}` : ""} [options]`,
    "",
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`,
    ...(c.details ? ["", c.details] : []),
    "",
    "Options:",
    ...optionLines(c.options),
    ...optionLines(GLOBAL_OPTIONS),
    "",
  ].join("\n");
}

/** Splits the command words off argv: the first positional tokens, skipping flag values. */
export function splitCommand(argv: readonly string[]): { words: string[]; rest: string[] } {
  const valued = new Set<string>();
  for (const spec of [GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options)]) {
    for (const [name, o] of Object.entries(spec)) if (o.type === "string") valued.add(`--${name}`);
  }
  const words: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    const wantWord = words.length === 0 || (words.length === 1 && GROUPS.has(words[0]!));
    if (t.startsWith("-") && t !== "-") {
      rest.push(t);
      if (valued.has(t) && i + 1 < argv.length) rest.push(argv[++i]!);
    } else if (wantWord) words.push(t);
    else rest.push(t);
  }
  return { words, rest };
}

/** One line for stderr and the exit code, for any error a command can raise. */
export function describeError(err: unknown, server: string | undefined): { code: number; message: string } {
  if (err instanceof UsageError) {
    const more = err.candidates.length > 0 ? `: ${err.candidates.join(", ")}` : "";
    return { code: EXIT.usage, message: err.message + more };
  }
  if (err instanceof SessionError) {
    const local = err.code === "already-logged-in" || err.code === "keystore-of-another-account";
    return { code: local ? EXIT.usage : EXIT.server, message: err.message };
  }
  // Before ApiError: the call never reached a Dialtone server, so the server said nothing.
  if (err instanceof ConnectionError) return { code: EXIT.server, message: err.message };
  if (err instanceof ApiError) {
    if (err.code === "unavailable" && err.message === "cannot reach the server") {
      return { code: EXIT.server, message: `cannot reach the server${server ? ` at ${server}` : ""}` };
    }
    if (isWrongCredentials(err)) return { code: EXIT.server, message: err.message };
    if (err.code === "unauthenticated") {
      return { code: EXIT.server, message: `${err.message} (${err.code}); if the session ended, run dialtone login` };
    }
    return { code: EXIT.server, message: `the server said ${err.code}: ${err.message}` };
  }
  if (err instanceof KeyError) return { code: EXIT.crypto, message: err.message };
  if (err instanceof VoiceDaemonError)
    return { code: err.code === "bad-flag" ? EXIT.usage : EXIT.server, message: `voice: ${err.message}` };
  if (err instanceof CryptoError) return { code: EXIT.crypto, message: `crypto error: ${err.message}` };
  if (err instanceof KeystoreError) {
    const usage = err.code === "weak-passphrase" || err.code === "invalid-origin" || err.code === "exists" || err.code === "invalid-input";
    if (err.code === "not-found")
      return { code: EXIT.server, message: "not logged in from this config dir: run dialtone login or register" };
    return { code: usage ? EXIT.usage : EXIT.crypto, message: err.message };
  }
  const nodeCode = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof Error && typeof nodeCode === "string" && nodeCode.startsWith("ERR_PARSE_ARGS_"))
    return { code: EXIT.usage, message: err.message };
  return { code: EXIT.usage, message: `unexpected error: ${err instanceof Error ? err.message : String(err)}` };
}

/** Runs the CLI; resolves to the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const { words, rest } = splitCommand(argv);
  let serverFlag: string | undefined;
  try {
    if (words.length === 0 || words[0] === "help") {
      const target = words[1] ? COMMANDS.filter((c) => c.name === words.slice(1).join(" ") || c.name.startsWith(`${words[1]} `)) : [];
      if (target.length > 0) io.out(target.map(commandHelp).join("\n"));
      else io.out(mainHelp()); // (with no command at all, client/main.ts opens the terminal UI instead)
      return EXIT.ok;
    }
    const name = words.join(" ");
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) {
      const group = COMMANDS.filter((c) => c.name.startsWith(`${words[0]} `));
      if (group.length > 0 && (words.length === 1 || rest.includes("--help") || rest.includes("-h"))) {
        if (rest.includes("--help") || rest.includes("-h")) {
          io.out(group.map(commandHelp).join("\n"));
          return EXIT.ok;
        }
        throw new UsageError("invalid-input", `${words[0]} needs a subcommand: ${group.map((c) => c.name).join(", ")}`);
      }
      throw new UsageError("invalid-input", `unknown command ${JSON.stringify(name)}; run dialtone --help`);
    }
    const options: ParseArgsConfig["options"] = {};
    for (const [k, o] of Object.entries({ ...GLOBAL_OPTIONS, ...command.options })) {
      options[k] = { type: o.type, ...(o.short ? { short: o.short } : {}) };
    }
    const parsed = parseArgs({ args: attachDashValues(rest, options), options, allowPositionals: true, strict: true });
    const values = parsed.values as Record<string, string | boolean | undefined>;
    if (values["help"]) {
      io.out(commandHelp(command));
      return EXIT.ok;
    }
    serverFlag = typeof values["server"] === "string" ? values["server"] : undefined;
    if (serverFlag !== undefined) {
      const { url, assumedHttp } = parseServerUrl(serverFlag);
      if (assumedHttp) io.err(`dialtone: --server ${serverFlag} has no scheme: using ${url}\n`);
    }
    const [min, max] = command.positionals;
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new UsageError("invalid-input", `usage: dialtone ${command.name}${command.args ? ` ${command.args}` : ""} (see --help)`);
    }
    const ctx: Ctx = { io, json: values["json"] === true, serverFlag, configDir: resolveConfigDir(io.env) };
    await command.run(ctx, values, parsed.positionals);
    return EXIT.ok;
  } catch (err) {
    const { code, message } = describeError(err, serverFlag);
    io.err(`dialtone: ${message}\n`);
    return code;
  }
}
