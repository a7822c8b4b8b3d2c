// send, history, tail.
import type { ChatMessage, ClientEvents } from "../../core/index.js";
import { UsageError } from "../../core/index.js";
import { eventOutput, messageJson, messageLine, profileOutput } from "../format.js";
import { WAIT_OPTION, numberOption, openClient, print, waitMs, warn, withClient, type Command } from "../context.js";

export const sendCommand: Command = {
  name: "send",
  args: "CHANNEL TEXT",
  summary: "send a message (TEXT - sends each line of stdin as a message)",
  details:
    "With TEXT -, each line read from stdin is one message, sent in order as it arrives (empty lines\n" +
    "are skipped); a summary goes to stderr. A failed line stops there: the lines before it were sent.",
  options: { wait: WAIT_OPTION },
  positionals: [2, Infinity],
  async run(ctx, values, positionals) {
    const batch = positionals.length === 2 && positionals[1] === "-";
    const text = positionals.slice(1).join(" ");
    if (!batch && text.length === 0) throw new UsageError("invalid-input", "the message is empty");
    await withClient(ctx, async (client) => {
      const wait = waitMs(values);
      const channel = await client.resolveChannel(positionals[0]!, wait);
      const show = (sent: ChatMessage) =>
        print(ctx, messageLine(sent, client.channel(channel.id)), messageJson(sent, client.channel(channel.id)));
      if (!batch) return show(await client.send(channel.id, text, wait));
      let sent = 0;
      let lineNo = 0;
      const summary = () => `${sent} message${sent === 1 ? "" : "s"} sent to #${client.channel(channel.id)?.label ?? channel.label}`;
      for await (const line of ctx.io.stdinLines()) {
        lineNo++;
        if (line.trim() === "") continue;
        try {
          show(await client.send(channel.id, line, sent === 0 ? wait : 0));
        } catch (err) {
          warn(ctx, `${summary()}; line ${lineNo} was not sent`);
          throw err;
        }
        sent++;
      }
      if (sent === 0) throw new UsageError("invalid-input", "stdin held no message (every line was empty)");
      ctx.io.err(`${summary()}\n`);
    });
  },
};

export const historyCommand: Command = {
  name: "history",
  args: "CHANNEL",
  summary: "print a channel's latest messages, oldest first",
  details: "With --json, one JSON object per line (the same shape as tail's messages).",
  options: {
    limit: { type: "string", value: "N", help: "how many messages (default 50; pages of 200 are fetched as needed)" },
    wait: WAIT_OPTION,
  },
  positionals: [1, 1],
  async run(ctx, values, positionals) {
    const limit = numberOption(values, "limit", 1, 1_000_000, 50);
    await withClient(ctx, async (client) => {
      const wait = waitMs(values);
      const channel = await client.resolveChannel(positionals[0]!, wait);
      await client.requireChannelKey(channel.id, wait);
      const messages = await client.history(channel.id, limit);
      const view = client.channel(channel.id);
      if (ctx.json) for (const m of messages) ctx.io.out(`${JSON.stringify(messageJson(m, view))}\n`);
      else if (messages.length === 0) ctx.io.out(`no messages in #${channel.label} yet\n`);
      else ctx.io.out(`${messages.map((m) => messageLine(m, view)).join("\n")}\n`);
    });
  },
};

const TAIL_EVENTS: ReadonlyArray<keyof ClientEvents> = [
  "channel-created",
  "channel-renamed",
  "channel-deleted",
  "device-added",
  "device-revoked",
  "key-change-refused",
  "key-rejected",
  "user-joined",
  "admin-changed",
  "user-removed",
  "presence",
  "connection",
  "resync",
  "trust",
  "keys-withheld",
  "identity",
];

export const tailCommand: Command = {
  name: "tail",
  args: "",
  summary: "follow every channel until interrupted (one line or JSON object per event)",
  details:
    "Reconnects by itself (a server restart loses nothing and repeats nothing) and, while running,\n" +
    "shares the keys it holds with new devices. Connection changes go to stderr unless --json.",
  options: {
    "since-last": { type: "boolean", help: "first replay what happened since this device last followed the feed" },
  },
  positionals: [0, 0],
  async run(ctx, values) {
    // Listeners first: what the first reconcile finds (unverified devices, pending members) is news.
    const client = await openClient(ctx, { reconcile: false, notices: false });
    try {
      client.on("message", (m) => {
        const view = client.channel(m.channelId);
        ctx.io.out(`${ctx.json ? JSON.stringify(messageJson(m, view)) : messageLine(m, view)}\n`);
      });
      // A channel whose key had not reached this device when it was announced: its name follows
      // once the key arrives (as the UI does), instead of staying "<encrypted>(…)" for good.
      const unnamed = new Set<string>();
      client.on("channel-created", (c) => {
        if (c.name === undefined) unnamed.add(c.id);
      });
      client.on("channels-changed", (list) => {
        for (const c of list) {
          if (!unnamed.has(c.id) || c.name === undefined) continue;
          unnamed.delete(c.id);
          const o = eventOutput("channel-renamed", { channel: c, previous: undefined });
          if (o) ctx.io.out(`${ctx.json ? JSON.stringify({ ...o.json, type: "channel_named" }) : o.line}\n`);
        }
      });
      // A profile event that leaves the name as it was (a client publishing the same name again,
      // as the UI's register does when the directory key arrives while it waits) is no news.
      const labels = new Map(client.directory.users().map((u) => [u.userId, u.label]));
      client.on("profile-updated", (u) => {
        const before = labels.get(u.userId);
        labels.set(u.userId, u.label);
        if (before === u.label) return;
        const o = profileOutput(u, before);
        ctx.io.out(`${ctx.json ? JSON.stringify(o.json) : o.line}\n`);
      });
      for (const name of TAIL_EVENTS) {
        client.on(name, (value) => {
          const o = eventOutput(name, value);
          if (!o) return;
          if (ctx.json) ctx.io.out(`${JSON.stringify(o.json)}\n`);
          else if (name === "connection" || name === "resync") ctx.io.err(`${o.line}\n`);
          else ctx.io.out(`${o.line}\n`);
        });
      }
      client.on("error", (e) => warn(ctx, `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ""}`));
      const stopped = new Promise<void>((resolve) => {
        if (ctx.io.signal.aborted) resolve();
        ctx.io.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      client.start({ resume: values["since-last"] === true });
      await client.reconcile();
      await stopped;
    } finally {
      await client.close();
    }
  },
};
