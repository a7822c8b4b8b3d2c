import { describe, expect, test } from "@jest/globals";
import { channelHelpLines, completeCommand, helpLines, MESSAGE_MAX_BYTES, parseInput, USAGE, type Command } from "./commands.js";

const cmd = (line: string): Command => {
  const p = parseInput(line);
  if (p.kind !== "command") throw new Error(`${JSON.stringify(line)} parsed as ${JSON.stringify(p)}`);
  return p.command;
};
const err = (line: string): string => {
  const p = parseInput(line);
  if (p.kind !== "error") throw new Error(`${JSON.stringify(line)} parsed as ${JSON.stringify(p)}`);
  return p.message;
};

describe("messages", () => {
  test("blank input is empty", () => {
    expect(parseInput("")).toEqual({ kind: "empty" });
    expect(parseInput("   \n \t ")).toEqual({ kind: "empty" });
  });

  test("plain text is a message; trailing space and surrounding blank lines are dropped", () => {
    expect(parseInput("hello")).toEqual({ kind: "message", text: "hello" });
    expect(parseInput("\n\n  code\n  more  \n\n")).toEqual({ kind: "message", text: "  code\n  more" });
    expect(parseInput("line one\nline two")).toEqual({ kind: "message", text: "line one\nline two" });
  });

  test('"//x" sends "/x"', () => {
    expect(parseInput("//shrug")).toEqual({ kind: "message", text: "/shrug" });
    expect(parseInput("//")).toEqual({ kind: "message", text: "/" });
  });

  test("a message longer than the server takes is refused before it is sent (the line stays to split)", () => {
    // 16,384 CJK characters fit the input but are 49,152 bytes of UTF-8: more than a sealed body holds.
    expect(err("中".repeat(16_384))).toBe(`message too long: 49152 bytes of UTF-8, at most ${MESSAGE_MAX_BYTES}; split it`);
    expect(parseInput("中".repeat(16_373))).toEqual({ kind: "message", text: "中".repeat(16_373) }); // 49,119 bytes
    expect(err(`//${"x".repeat(MESSAGE_MAX_BYTES + 1)}`)).toMatch(/^message too long/);
    expect(parseInput("x".repeat(16_384)).kind).toBe("message");
  });

  test("a slash that is not at the start is text", () => {
    expect(parseInput("and/or")).toEqual({ kind: "message", text: "and/or" });
  });
});

describe("commands", () => {
  test("help", () => {
    expect(cmd("/help")).toEqual({ name: "help" });
    expect(cmd("/HELP")).toEqual({ name: "help" });
    expect(cmd("/?")).toEqual({ name: "help" });
  });

  test("join: /join and /j, leading # stripped, names may contain spaces", () => {
    expect(cmd("/join #general")).toEqual({ name: "join", channel: "general" });
    expect(cmd("/j gen")).toEqual({ name: "join", channel: "gen" });
    expect(cmd("/Join   my channel  ")).toEqual({ name: "join", channel: "my channel" });
    expect(cmd("/channel join #x")).toEqual({ name: "join", channel: "x" });
    expect(err("/join")).toBe(USAGE.join);
    expect(err("/join #")).toBe("usage: /join <channel>");
  });

  test("list: /list, /ls, /channel list", () => {
    expect(cmd("/list")).toEqual({ name: "list" });
    expect(cmd("/ls")).toEqual({ name: "list" });
    expect(cmd("/channel list")).toEqual({ name: "list" });
    expect(cmd("/CHANNEL LS")).toEqual({ name: "list" });
  });

  test("channel help", () => {
    expect(cmd("/channel")).toEqual({ name: "channel-help" });
    expect(cmd("/channel help")).toEqual({ name: "channel-help" });
  });

  test("channel create takes the rest of the line as the name", () => {
    expect(cmd("/channel create Book club  2024")).toEqual({ name: "channel-create", channelName: "Book club  2024" });
    expect(cmd("/channel Create 漢字 🎉")).toEqual({ name: "channel-create", channelName: "漢字 🎉" });
    expect(err("/channel create")).toBe(USAGE.channelCreate);
    expect(err("/channel create   ")).toBe("usage: /channel create <name>");
  });

  test("channel rename: first word, then the rest", () => {
    expect(cmd("/channel rename #general Town square")).toEqual({
      name: "channel-rename",
      channel: "general",
      newName: "Town square",
    });
    expect(err("/channel rename general")).toBe(USAGE.channelRename);
    expect(err("/channel rename")).toBe(USAGE.channelRename);
  });

  test("channel delete: unconfirmed unless it ends with --yes", () => {
    expect(cmd("/channel delete #old")).toEqual({ name: "channel-delete", channel: "old", confirmed: false });
    expect(cmd("/channel delete 3f2a")).toEqual({ name: "channel-delete", channel: "3f2a", confirmed: false });
    expect(cmd("/channel delete #old --yes")).toEqual({ name: "channel-delete", channel: "old", confirmed: true });
    expect(cmd("/channel delete Town square --YES")).toEqual({ name: "channel-delete", channel: "Town square", confirmed: true });
    // --yes alone is not a channel name.
    expect(err("/channel delete --yes")).toBe(USAGE.channelDelete);
    expect(err("/channel delete")).toBe(USAGE.channelDelete);
  });

  test("unknown channel sub-command", () => {
    expect(err("/channel frobnicate x")).toMatch(/^unknown channel command: \/channel frobnicate/);
  });

  test("server invite (and the /invite alias)", () => {
    expect(cmd("/server invite")).toEqual({ name: "server-invite" });
    expect(cmd("/Server INVITE")).toEqual({ name: "server-invite" });
    expect(cmd("/invite")).toEqual({ name: "server-invite" });
    expect(err("/server")).toBe(USAGE.server);
    expect(err("/server reboot")).toMatch(/^unknown server command: \/server reboot/);
  });

  test("server invite takes --uses and --hours, each a whole number in the server's range, named when wrong", () => {
    expect(cmd("/server invite --uses 5 --hours 48")).toEqual({ name: "server-invite", uses: 5, hours: 48 });
    expect(cmd("/invite --hours 1")).toEqual({ name: "server-invite", hours: 1 });
    expect(cmd("/invite --uses 1000 --hours 720")).toEqual({ name: "server-invite", uses: 1000, hours: 720 });
    expect(err("/invite --uses 0")).toBe("--uses must be a whole number from 1 to 1000, not 0");
    expect(err("/invite --uses 1001")).toBe("--uses must be a whole number from 1 to 1000, not 1001");
    expect(err("/invite --hours 2.5")).toBe("--hours must be a whole number from 1 to 720, not 2.5");
    expect(err("/invite --hours")).toBe("--hours must be a whole number from 1 to 720");
    expect(err("/invite --uses 2 --uses 3")).toBe("--uses given twice");
    expect(err("/invite --forever")).toMatch(/^unknown invite option: --forever/);
    expect(err("/invite 5")).toMatch(/^unknown invite option: 5/);
  });

  test("admin: users, promote, demote, remove (unconfirmed unless --yes), revoke", () => {
    expect(cmd("/admin users")).toEqual({ name: "admin-users", removed: false });
    expect(cmd("/admin users --removed")).toEqual({ name: "admin-users", removed: true });
    expect(cmd("/admin promote @bob")).toEqual({ name: "admin-promote", user: "bob" });
    expect(cmd("/ADMIN Demote bob")).toEqual({ name: "admin-demote", user: "bob" });
    expect(cmd("/admin remove bob")).toEqual({ name: "admin-remove", user: "bob", confirmed: false });
    expect(cmd("/admin remove bob --yes")).toEqual({ name: "admin-remove", user: "bob", confirmed: true });
    expect(cmd("/admin revoke 3f2a")).toEqual({ name: "admin-revoke", device: "3f2a" });
    expect(err("/admin")).toBe(USAGE.admin);
    expect(err("/admin users everyone")).toBe(USAGE.admin);
    expect(err("/admin promote")).toBe("usage: /admin promote <user>");
    expect(err("/admin remove --yes")).toBe("usage: /admin remove <user> [--yes]");
    expect(err("/admin revoke")).toMatch(/^usage: \/admin revoke <device id prefix>/);
    expect(err("/admin reboot")).toMatch(/^unknown admin command: \/admin reboot/);
  });

  test("/system opens the system view", () => {
    expect(cmd("/system")).toEqual({ name: "system" });
    expect(cmd("/sys")).toEqual({ name: "system" });
  });

  test("voice", () => {
    expect(cmd("/voice join")).toEqual({ name: "voice-join" });
    expect(cmd("/voice join #lounge")).toEqual({ name: "voice-join", channel: "lounge" });
    expect(cmd("/voice leave")).toEqual({ name: "voice-leave" });
    expect(cmd("/voice MUTE")).toEqual({ name: "voice-mute" });
    expect(cmd("/voice unmute")).toEqual({ name: "voice-unmute" });
    expect(err("/voice")).toBe(USAGE.voice);
    expect(err("/voice dance")).toMatch(/^unknown voice command: \/voice dance/);
  });

  test("voice deafen and volume: the percent is the last word, the name may have spaces; bad values name the field", () => {
    expect(cmd("/voice deafen")).toEqual({ name: "voice-deafen" });
    expect(cmd("/voice Undeafen")).toEqual({ name: "voice-undeafen" });
    expect(cmd("/voice volume bob 50")).toEqual({ name: "voice-volume", user: "bob", percent: 50 });
    expect(cmd("/voice volume Bob Example 150%")).toEqual({ name: "voice-volume", user: "Bob Example", percent: 150 });
    expect(cmd('/v vol "Bob Example" 0')).toEqual({ name: "voice-volume", user: "Bob Example", percent: 0 });
    expect(cmd("/voice volume @bob 200")).toEqual({ name: "voice-volume", user: "bob", percent: 200 });
    expect(err("/voice volume bob 250")).toBe(`percent: "250" is not a whole percent from 0 to 200 (${USAGE.voiceVolume})`);
    expect(err("/voice volume bob abc")).toMatch(/^percent: "abc" is not a whole percent/);
    expect(err("/voice volume bob -5")).toMatch(/^percent: "-5"/);
    expect(err("/voice volume bob 50.5")).toMatch(/^percent: "50.5"/);
    expect(err("/voice volume 50")).toBe(USAGE.voiceVolume);
    expect(err("/voice volume")).toBe(USAGE.voiceVolume);
  });

  test("verify, with an optional confirm", () => {
    expect(cmd("/verify alice")).toEqual({ name: "verify", user: "alice", confirm: false });
    expect(cmd("/verify @alice confirm")).toEqual({ name: "verify", user: "alice", confirm: true });
    expect(cmd("/verify alice CONFIRM")).toEqual({ name: "verify", user: "alice", confirm: true });
    expect(err("/verify")).toBe(USAGE.verify);
    expect(err("/verify alice bob")).toBe(USAGE.verify);
  });

  test("devices approve/reject and admit", () => {
    expect(cmd("/devices approve 9b3e 32aa 6cba 2e17 4ada")).toEqual({ name: "devices-approve", fingerprint: "9b3e 32aa 6cba 2e17 4ada" });
    expect(cmd("/devices reject 9b3e32aa6cba2e174ada")).toEqual({ name: "devices-reject", fingerprint: "9b3e32aa6cba2e174ada" });
    expect(err("/devices approve")).toBe(USAGE.devices);
    expect(err("/devices frobnicate x")).toBe(USAGE.devices);
    expect(cmd("/admit @carol")).toEqual({ name: "admit", user: "carol", role: "member" });
    expect(cmd("/admit carol ADMIN")).toEqual({ name: "admit", user: "carol", role: "admin" });
    expect(err("/admit")).toBe(USAGE.admit);
    expect(cmd("/recover 7K2M-9QXD 0000")).toEqual({ name: "recover", code: "7K2M-9QXD 0000" });
    expect(err("/recover")).toBe(USAGE.recover);
    expect(err("/admit carol please")).toBe(USAGE.admit);
  });

  test("search, with an optional #channel first, and jump to a numbered result", () => {
    expect(cmd("/search the Café menu")).toEqual({ name: "search", query: "the Café menu" });
    expect(cmd("/s #general lunch plans")).toEqual({ name: "search", query: "lunch plans", channel: "general" });
    expect(cmd("/search # alone")).toEqual({ name: "search", query: "# alone" });
    expect(err("/search")).toBe(USAGE.search);
    expect(err("/search #general")).toBe(USAGE.search);
    expect(cmd("/jump 12")).toEqual({ name: "jump", index: 12 });
    expect(err("/jump 0")).toBe(USAGE.jump);
    expect(err("/jump two")).toBe(USAGE.jump);
  });

  test("devices, logout, quit", () => {
    expect(cmd("/devices")).toEqual({ name: "devices" });
    expect(cmd("/logout")).toEqual({ name: "logout" });
    expect(cmd("/quit")).toEqual({ name: "quit" });
    expect(cmd("/q")).toEqual({ name: "quit" });
    expect(cmd("/exit")).toEqual({ name: "quit" });
  });

  test("unknown commands and a bare slash are errors that point at /help", () => {
    expect(err("/foo bar")).toBe("unknown command: /foo (try /help)");
    expect(err("/")).toMatch(/try \/help/);
  });

  test("a command spanning lines is refused rather than half-run", () => {
    expect(err("/channel create a\nb")).toMatch(/one line/);
  });

  test("blank lines before a command are ignored", () => {
    expect(cmd("\n/list")).toEqual({ name: "list" });
  });
});

describe("help", () => {
  test("the user help lists everyone's commands but not the admin ones", () => {
    const text = helpLines(false).join("\n");
    for (const c of ["/join", "/list", "/voice join", "/voice deafen", "/voice volume", "/verify", "/devices", "/logout", "/quit"])
      expect(text).toContain(c);
    expect(text).not.toContain("/channel create");
    expect(text).not.toContain("/server invite");
  });

  test("the admin help adds create, rename, delete and /server invite", () => {
    const text = helpLines(true).join("\n");
    for (const c of ["/channel create", "/channel rename", "/channel delete", "/server invite", "/join"]) expect(text).toContain(c);
    expect(helpLines(true).length).toBeGreaterThan(helpLines(false).length);
  });

  test("descriptions line up in one column", () => {
    const body = helpLines(false).slice(1);
    expect(body.every((l) => l.startsWith("  /"))).toBe(true);
    const col = body[0]!.indexOf("open a channel");
    expect(body.find((l) => l.includes("/quit"))!.indexOf("quit (ctrl+q)")).toBe(col);
  });

  test("channel help: admins see create/rename/delete", () => {
    expect(channelHelpLines(true).join("\n")).toContain("/channel create");
    expect(channelHelpLines(false).join("\n")).not.toContain("/channel create");
    expect(channelHelpLines(false).join("\n")).toContain("/channel list");
  });
});

describe("completeCommand", () => {
  test("completes a unique prefix, not an ambiguous one or a line with arguments", () => {
    expect(completeCommand("/jo")).toBe("/join ");
    expect(completeCommand("/VE")).toBe("/verify ");
    expect(completeCommand("/l")).toBeUndefined(); // /list, /logout
    expect(completeCommand("/join x")).toBeUndefined();
    expect(completeCommand("hello")).toBeUndefined();
  });
});

describe("conversation commands", () => {
  const cmd = (line: string) => {
    const p = parseInput(line);
    return p.kind === "command" ? p.command : p;
  };
  test("reply, edit, delete, react, /me", () => {
    expect(cmd("/reply sounds good")).toEqual({ name: "reply", text: "sounds good" });
    expect(cmd("/reply")).toEqual({ kind: "error", message: USAGE.reply });
    expect(cmd("/edit")).toEqual({ name: "edit" });
    expect(cmd("/edit fixed typo")).toEqual({ name: "edit", text: "fixed typo" });
    expect(cmd("/delete")).toEqual({ name: "delete", confirmed: false });
    expect(cmd("/delete --yes")).toEqual({ name: "delete", confirmed: true });
    expect(cmd("/react 👍")).toEqual({ name: "react", emoji: "👍" });
    expect(cmd("/react two words")).toEqual({ kind: "error", message: USAGE.react });
    expect(cmd("/unreact 👍")).toEqual({ name: "unreact", emoji: "👍" });
    expect(cmd("/me waves")).toEqual({ name: "me", text: "waves" });
  });
  test("mute, notify, typing", () => {
    expect(cmd("/mute")).toEqual({ name: "mute" });
    expect(cmd("/mute #random")).toEqual({ name: "mute", channel: "random" });
    expect(cmd("/unmute random")).toEqual({ name: "unmute", channel: "random" });
    expect(cmd("/notify")).toEqual({ name: "notify-status" });
    expect(cmd("/notify bell off")).toEqual({ name: "notify", what: "bell", on: false });
    expect(cmd("/notify desktop ON")).toEqual({ name: "notify", what: "desktop", on: true });
    expect(cmd("/notify sound on")).toEqual({ kind: "error", message: USAGE.notify });
    expect(cmd("/typing off")).toEqual({ name: "typing", on: false });
    expect(cmd("/typing")).toEqual({ kind: "error", message: USAGE.typing });
  });
  test("the new commands are in /help and complete", () => {
    const help = helpLines(false).join("\n");
    for (const w of ["/reply", "/edit", "/delete", "/react", "/me", "/mute", "/notify", "/typing"]) expect(help).toContain(w);
    expect(completeCommand("/rea")).toBe("/react ");
    expect(completeCommand("/no")).toBe("/notify ");
  });
});
