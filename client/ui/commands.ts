// Slash-command parsing for the chat input, and the /help text. Pure: the chat screen runs them.
import { parseVolumePercent, UsageError } from "../core/index.js";

export type Command =
  | { name: "help" }
  | { name: "join"; channel: string }
  | { name: "list" }
  | { name: "channel-help" }
  | { name: "channel-create"; channelName: string }
  | { name: "channel-rename"; channel: string; newName: string }
  | { name: "channel-delete"; channel: string; confirmed: boolean }
  | { name: "server-invite"; uses?: number; hours?: number }
  | { name: "admin-users"; removed: boolean }
  | { name: "admin-promote"; user: string }
  | { name: "admin-demote"; user: string }
  | { name: "admin-remove"; user: string; confirmed: boolean }
  | { name: "admin-revoke"; device: string }
  | { name: "system" }
  | { name: "voice-join"; channel?: string }
  | { name: "voice-leave" }
  | { name: "voice-mute" }
  | { name: "voice-unmute" }
  | { name: "voice-deafen" }
  | { name: "voice-undeafen" }
  | { name: "voice-volume"; user: string; percent: number }
  | { name: "verify"; user: string; confirm: boolean }
  | { name: "devices" }
  | { name: "devices-approve"; fingerprint: string }
  | { name: "devices-reject"; fingerprint: string }
  | { name: "admit"; user: string; role: "member" | "admin" }
  | { name: "recover"; code: string }
  | { name: "search"; query: string; channel?: string }
  | { name: "jump"; index: number }
  | { name: "logout" }
  | { name: "quit" }
  | { name: "me"; text: string }
  | { name: "reply"; text: string }
  | { name: "edit"; text?: string }
  | { name: "delete"; confirmed: boolean }
  | { name: "react"; emoji: string }
  | { name: "unreact"; emoji: string }
  | { name: "mute"; channel?: string }
  | { name: "unmute"; channel?: string }
  | { name: "notify"; what: "bell" | "desktop"; on: boolean }
  | { name: "notify-status" }
  | { name: "typing"; on: boolean };

export type ParsedInput =
  | { kind: "empty" }
  | { kind: "message"; text: string }
  | { kind: "command"; command: Command }
  | { kind: "error"; message: string };

export const USAGE = {
  join: "usage: /join <channel>",
  channelCreate: "usage: /channel create <name>",
  channelRename: "usage: /channel rename <channel> <new name>",
  channelDelete: "usage: /channel delete <channel> [--yes]",
  server: "usage: /server invite [--uses N] [--hours H]",
  admin: "usage: /admin users [--removed] | promote <user> | demote <user> | remove <user> [--yes] | revoke <device id>",
  voice: "usage: /voice join [channel] | leave | mute | unmute | deafen | undeafen | volume <name> <percent>",
  voiceVolume: "usage: /voice volume <name> <percent> (0-200, 100 = as received)",
  verify: "usage: /verify <user> [confirm]",
  devices: "usage: /devices [approve|reject <fingerprint>]",
  admit: "usage: /admit <user> [admin]",
  recover: "usage: /recover <recovery code>",
  me: "usage: /me <action> (shows as * you <action>)",
  reply: "usage: /reply <text> (to the selected message, else the newest)",
  react: "usage: /react <emoji> (on the selected message, else the newest)",
  unreact: "usage: /unreact <emoji>",
  notify: "usage: /notify [bell|desktop on|off]",
  typing: "usage: /typing on|off",
  search: "usage: /search [#channel] <words>",
  jump: "usage: /jump <result number of the last /search>",
} as const;

/**
 * The longest message body in UTF-8 bytes: the server takes a sealed body of at most 65,536
 * base64 characters (docs/API.md), i.e. 49,152 bytes, of which 33 are the sealed header and tag.
 */
export const MESSAGE_MAX_BYTES = 49_119;

const command = (c: Command): ParsedInput => ({ kind: "command", command: c });
const error = (message: string): ParsedInput => ({ kind: "error", message });

/** `text` without a trailing `--yes`, and whether it had one (the confirmation of a destructive command). */
function confirmation(text: string): { rest: string; confirmed: boolean } {
  const m = /^([\s\S]*?)(?:^|\s+)--yes$/i.exec(text.trim());
  return m ? { rest: m[1]!.trim(), confirmed: true } : { rest: text.trim(), confirmed: false };
}

/** The limits the server sets on invites (server/domain/invites.ts): the CLI's `invite` takes the same. */
export const INVITE_MAX_USES = 1000;
export const INVITE_MAX_HOURS = 720;

/** `/server invite [--uses N] [--hours H]`: each option once, a whole number in range, or an error naming it. */
function parseInvite(args: string): ParsedInput {
  const words = args.split(/\s+/).filter(Boolean);
  const out: { uses?: number; hours?: number } = {};
  for (let i = 0; i < words.length; i += 2) {
    const flag = words[i]!.toLowerCase().replace(/^--?/, "");
    const value = words[i + 1];
    if ((flag !== "uses" && flag !== "hours") || !words[i]!.startsWith("-"))
      return error(`unknown invite option: ${words[i]} (${USAGE.server})`);
    const max = flag === "uses" ? INVITE_MAX_USES : INVITE_MAX_HOURS;
    if (out[flag] !== undefined) return error(`--${flag} given twice`);
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
      return error(`--${flag} must be a whole number from 1 to ${max}${value === undefined ? "" : `, not ${value}`}`);
    out[flag] = Number(value);
  }
  return command({ name: "server-invite", ...out });
}

/** Splits off the first whitespace-separated word; `rest` is the remainder, trimmed. */
function firstWord(s: string): { word: string; rest: string } {
  const m = /^(\S*)\s*([\s\S]*)$/.exec(s.trim())!;
  return { word: m[1]!, rest: m[2]!.trim() };
}

const channelArg = (s: string) => s.trim().replace(/^#/, "");

/**
 * Classifies one submitted input: nothing, a message, a command, or a usage error.
 * "//text" sends "/text". Commands are one line; their names are case-insensitive.
 */
export function parseInput(line: string): ParsedInput {
  if (line.trim() === "") return { kind: "empty" };
  // Blank lines around a message are dropped; leading spaces of its first line are kept.
  const text = line.replace(/^(?:[ \t]*(?:\r\n|\r|\n))+/, "").trimEnd();
  if (!text.startsWith("/") || text.startsWith("//")) {
    const body = text.startsWith("//") ? text.slice(1) : text;
    const bytes = Buffer.byteLength(body, "utf8");
    // Refused here, with the text still in the input, rather than by the server after it was shown as sent.
    if (bytes > MESSAGE_MAX_BYTES) return error(`message too long: ${bytes} bytes of UTF-8, at most ${MESSAGE_MAX_BYTES}; split it`);
    return { kind: "message", text: body };
  }
  if (/[\r\n]/.test(text)) return error("a command must fit on one line (start with // to send text beginning with /)");

  const { word, rest } = firstWord(text.slice(1));
  const name = word.toLowerCase();
  switch (name) {
    case "":
      return error("type a command after / (try /help)");
    case "help":
    case "h":
    case "?":
      return command({ name: "help" });
    case "join":
    case "j": {
      const channel = channelArg(rest);
      return channel ? command({ name: "join", channel }) : error(USAGE.join);
    }
    case "list":
    case "ls":
      return command({ name: "list" });
    case "channel":
    case "ch":
      return parseChannel(rest);
    case "server": {
      const sub = firstWord(rest);
      return sub.word.toLowerCase() === "invite"
        ? parseInvite(sub.rest)
        : rest === ""
          ? error(USAGE.server)
          : error(`unknown server command: /server ${sub.word}`);
    }
    case "invite":
      return parseInvite(rest);
    case "admin":
      return parseAdmin(rest);
    case "system":
    case "sys":
      return command({ name: "system" });
    case "voice":
    case "v":
      return parseVoice(rest);
    case "verify": {
      const { word: user, rest: more } = firstWord(rest);
      const target = user.replace(/^@/, "");
      if (!target) return error(USAGE.verify);
      if (more === "") return command({ name: "verify", user: target, confirm: false });
      if (more.toLowerCase() === "confirm") return command({ name: "verify", user: target, confirm: true });
      return error(USAGE.verify);
    }
    case "devices": {
      const { word: sub, rest: fp } = firstWord(rest);
      if (sub === "") return command({ name: "devices" });
      if ((sub === "approve" || sub === "reject") && fp.trim() !== "") {
        return command({ name: sub === "approve" ? "devices-approve" : "devices-reject", fingerprint: fp.trim() });
      }
      return error(USAGE.devices);
    }
    case "recover":
      return rest.trim() ? command({ name: "recover", code: rest.trim() }) : error(USAGE.recover);
    case "search":
    case "s": {
      // A leading #word restricts the search to that channel.
      const { word, rest: words } = firstWord(rest);
      if (word.startsWith("#") && word.length > 1)
        return words ? command({ name: "search", query: words, channel: channelArg(word) }) : error(USAGE.search);
      return rest ? command({ name: "search", query: rest }) : error(USAGE.search);
    }
    case "jump": {
      const n = rest.trim();
      return /^[1-9]\d{0,4}$/.test(n) ? command({ name: "jump", index: Number(n) }) : error(USAGE.jump);
    }
    case "admit": {
      const { word: user, rest: more } = firstWord(rest);
      const target = user.replace(/^@/, "");
      const role = more.toLowerCase();
      if (!target || (role !== "" && role !== "admin")) return error(USAGE.admit);
      return command({ name: "admit", user: target, role: role === "admin" ? "admin" : "member" });
    }
    case "me":
      return rest ? command({ name: "me", text: rest }) : error(USAGE.me);
    case "reply":
    case "r":
      return rest ? command({ name: "reply", text: rest }) : error(USAGE.reply);
    case "edit":
      return command(rest ? { name: "edit", text: rest } : { name: "edit" });
    case "delete":
    case "del": {
      const { rest: more, confirmed } = confirmation(rest);
      return more === ""
        ? command({ name: "delete", confirmed })
        : error("usage: /delete [--yes] (the selected message, else your newest)");
    }
    case "react":
    case "unreact": {
      const emoji = rest.trim();
      if (!emoji || /\s/.test(emoji)) return error(name === "react" ? USAGE.react : USAGE.unreact);
      return command({ name, emoji });
    }
    case "mute":
    case "unmute": {
      const channel = channelArg(rest);
      return command(channel ? { name, channel } : { name });
    }
    case "notify": {
      const { word: what, rest: value } = firstWord(rest);
      if (what === "") return command({ name: "notify-status" });
      const w = what.toLowerCase();
      const v = value.toLowerCase();
      if ((w !== "bell" && w !== "desktop") || (v !== "on" && v !== "off")) return error(USAGE.notify);
      return command({ name: "notify", what: w, on: v === "on" });
    }
    case "typing": {
      const v = rest.toLowerCase();
      return v === "on" || v === "off" ? command({ name: "typing", on: v === "on" }) : error(USAGE.typing);
    }
    case "logout":
      return command({ name: "logout" });
    case "quit":
    case "q":
    case "exit":
      return command({ name: "quit" });
    default:
      return error(`unknown command: /${word} (try /help)`);
  }
}

function parseChannel(args: string): ParsedInput {
  const { word, rest } = firstWord(args);
  switch (word.toLowerCase()) {
    case "":
    case "help":
      return command({ name: "channel-help" });
    case "list":
    case "ls":
      return command({ name: "list" });
    case "join": {
      const channel = channelArg(rest);
      return channel ? command({ name: "join", channel }) : error(USAGE.join);
    }
    case "create":
    case "new":
      return rest ? command({ name: "channel-create", channelName: rest }) : error(USAGE.channelCreate);
    case "rename": {
      const { word: channel, rest: newName } = firstWord(rest);
      const target = channelArg(channel);
      return target && newName ? command({ name: "channel-rename", channel: target, newName }) : error(USAGE.channelRename);
    }
    case "delete":
    case "rm": {
      const { rest: name, confirmed } = confirmation(rest);
      const channel = channelArg(name);
      return channel ? command({ name: "channel-delete", channel, confirmed }) : error(USAGE.channelDelete);
    }
    default:
      return error(`unknown channel command: /channel ${word} (try /channel help)`);
  }
}

function parseAdmin(args: string): ParsedInput {
  const { word, rest } = firstWord(args);
  const one = () => {
    const arg = rest.replace(/^@/, "");
    return arg !== "" && !/\s/.test(arg) ? arg : undefined;
  };
  switch (word.toLowerCase()) {
    case "users":
      if (rest !== "" && rest.toLowerCase() !== "--removed") return error(USAGE.admin);
      return command({ name: "admin-users", removed: rest !== "" });
    case "promote":
    case "demote": {
      const user = one();
      if (!user) return error(`usage: /admin ${word.toLowerCase()} <user>`);
      return command({ name: word.toLowerCase() === "promote" ? "admin-promote" : "admin-demote", user });
    }
    case "remove": {
      const { rest: user, confirmed } = confirmation(rest);
      const target = user.replace(/^@/, "");
      if (!target || /\s/.test(target)) return error("usage: /admin remove <user> [--yes]");
      return command({ name: "admin-remove", user: target, confirmed });
    }
    case "revoke": {
      const device = one();
      if (!device) return error("usage: /admin revoke <device id prefix> (/devices lists them)");
      return command({ name: "admin-revoke", device });
    }
    case "":
      return error(USAGE.admin);
    default:
      return error(`unknown admin command: /admin ${word} (${USAGE.admin})`);
  }
}

function parseVoice(args: string): ParsedInput {
  const { word, rest } = firstWord(args);
  switch (word.toLowerCase()) {
    case "join": {
      const channel = channelArg(rest);
      return command(channel ? { name: "voice-join", channel } : { name: "voice-join" });
    }
    case "leave":
      return command({ name: "voice-leave" });
    case "mute":
      return command({ name: "voice-mute" });
    case "unmute":
      return command({ name: "voice-unmute" });
    case "deafen":
    case "deaf":
      return command({ name: "voice-deafen" });
    case "undeafen":
    case "undeaf":
      return command({ name: "voice-undeafen" });
    case "volume":
    case "vol":
      return parseVolume(rest);
    case "":
      return error(USAGE.voice);
    default:
      return error(`unknown voice command: /voice ${word} (${USAGE.voice})`);
  }
}

/** `/voice volume <name> <percent>`: the last word is the percent, the rest the name (display names may have spaces). */
function parseVolume(args: string): ParsedInput {
  const m = /^(.*\S)\s+(\S+)$/.exec(args.trim());
  if (!m) return error(USAGE.voiceVolume);
  const user = m[1]!
    .replace(/^(["'])(.*)\1$/, "$2")
    .replace(/^@/, "")
    .trim();
  if (!user) return error(USAGE.voiceVolume);
  try {
    return command({ name: "voice-volume", user, percent: parseVolumePercent(m[2]!, "percent") });
  } catch (err) {
    if (err instanceof UsageError) return error(`${err.message} (${USAGE.voiceVolume})`);
    throw err;
  }
}

type HelpRow = readonly [usage: string, what: string];

const USER_HELP: HelpRow[] = [
  ["/join <channel>", "open a channel by name or id prefix (/j)"],
  ["/list", "list channels (/ls, /channel list)"],
  ["/system", "the system view: command output and notices (esc goes back)"],
  ["/channel help", "channel commands"],
  ["/voice join [channel]", "join voice (default: this channel)"],
  ["/voice leave|mute|unmute", "leave voice, mute or unmute your microphone"],
  ["/voice deafen|undeafen", "hear nothing and mute your microphone; undeafen restores both"],
  ["/voice volume <name> <percent>", "play one person at 0-200 % (100 = as received), remembered"],
  ["/reply /edit /delete /react", "the selected message (alt+up), else the newest (/unreact)"],
  ["/me <action> · /typing on|off", "send * you <action> · typing notices (off: neither)"],
  ["/mute · /unmute · /notify", "no bell for a channel · bell|desktop on|off at mentions"],
  ["/verify <user> [confirm]", "show the safety number; confirm marks it verified"],
  ["/search [#channel] <words>", "find messages (/s); /jump <n> opens result n"],
  ["/devices", "list devices and their fingerprints"],
  ["/devices approve <fingerprint>", "approve a new device of yours (compare the fingerprint it shows)"],
  ["/devices reject <fingerprint>", "revoke a device of yours you do not recognise"],
  ["/recover <code>", "on a device waiting for approval: restore your identity with your recovery code"],
  ["/logout", "log out of this server (ends the session)"],
  ["/quit", "quit (ctrl+q)"],
  ["//text", "send a message that starts with /"],
];

const ADMIN_HELP: HelpRow[] = [
  ["/channel create <name>", "create a channel"],
  ["/channel rename <channel> <new name>", "rename a channel"],
  ["/channel delete <channel> --yes", "delete a channel and all its messages, for everyone"],
  ["/server invite [--uses N] [--hours H]", "create an invite (default 1 use, 24 h; /invite)"],
  ["/admit <user> [admin]", "admit a pending member (compare safety numbers first: /verify)"],
  ["/admin users [--removed]", "accounts with their devices, admin flag and presence"],
  ["/admin promote|demote <user>", "grant or take the admin flag (never from the last admin)"],
  ["/admin remove <user> --yes", "remove an account; every channel moves to a new key"],
  ["/admin revoke <device id>", "revoke any account's device (/devices lists ids)"],
];

function rows(title: string, list: HelpRow[]): string[] {
  const col = Math.max(...list.map(([u]) => u.length)) + 2;
  return [title, ...list.map(([usage, what]) => `  ${usage.padEnd(col)}${what}`)];
}

/** The /help text, one line per row; the admin variant adds the channel and invite commands. */
export function helpLines(isAdmin: boolean): string[] {
  return isAdmin ? [...rows("commands:", USER_HELP), ...rows("admin:", ADMIN_HELP)] : rows("commands:", USER_HELP);
}

/** The /channel help text. */
export function channelHelpLines(isAdmin: boolean): string[] {
  const common: HelpRow[] = [
    ["/channel list", "list channels (/list, /ls)"],
    ["/join <channel>", "open a channel by name or id prefix"],
  ];
  const admin = ADMIN_HELP.filter(([u]) => u.startsWith("/channel"));
  const lines = rows("channel commands:", isAdmin ? [...common, ...admin] : common);
  if (!isAdmin) lines.push("  (create, rename and delete are for admins)");
  return lines;
}

/** Command words for tab completion ("/jo" → "/join "). */
export const COMMAND_WORDS = [
  "/help",
  "/join",
  "/list",
  "/channel",
  "/server",
  "/invite",
  "/admin",
  "/system",
  "/voice",
  "/verify",
  "/me",
  "/reply",
  "/edit",
  "/delete",
  "/react",
  "/unreact",
  "/mute",
  "/unmute",
  "/notify",
  "/typing",
  "/devices",
  "/search",
  "/jump",
  "/admit",
  "/recover",
  "/logout",
  "/quit",
] as const;

/** Completes a lone command word: the unique match with a trailing space, else undefined. */
export function completeCommand(input: string): string | undefined {
  if (!/^\/[a-z]*$/i.test(input)) return undefined;
  const matches = COMMAND_WORDS.filter((w) => w.startsWith(input.toLowerCase()));
  return matches.length === 1 ? `${matches[0]} ` : undefined;
}
