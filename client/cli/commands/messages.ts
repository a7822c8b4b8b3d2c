// send, history, tail.
import type { ChatMessage, ClientEvents, DialtoneClient } from "../../core/index.js";
import { UsageError } from "../../core/index.js";
import { channelLabel, entryJson, entryLines, eventOutput, hhmm, messageJson, messageLine, profileOutput, skewNote } from "../format.js";
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
  summary: "print a channel's latest messages, oldest first (edits applied, reactions and replies shown)",
  details:
    "Each message shows its latest text once (marked edited), the first line of the message it\n" +
    "replies to above it, and its reactions below it. --ids prefixes each with the short id that\n" +
    "reply, edit, react and delete take. With --json, one JSON object per message (tail's message\n" +
    "shape plus text, edited, deleted, reply_to and reactions).",
  options: {
    limit: { type: "string", value: "N", help: "how many messages (default 50; pages of 200 are fetched as needed)" },
    ids: { type: "boolean", help: "show each message's short id" },
    wait: WAIT_OPTION,
  },
  positionals: [1, 1],
  async run(ctx, values, positionals) {
    const limit = numberOption(values, "limit", 1, 1_000_000, 50);
    await withClient(ctx, async (client) => {
      const wait = waitMs(values);
      const channel = await client.resolveChannel(positionals[0]!, wait);
      await client.requireChannelKey(channel.id, wait);
      const entries = await client.conversation(channel.id, limit);
      const view = client.channel(channel.id);
      const who = (userId: string) => client.directory.labelOf(userId);
      if (ctx.json) for (const e of entries) ctx.io.out(`${JSON.stringify(entryJson(e, view, who))}\n`);
      else if (entries.length === 0) ctx.io.out(`no messages in #${channel.label} yet\n`);
      else ctx.io.out(`${entries.flatMap((e) => entryLines(e, view, who, values.ids === true)).join("\n")}\n`);
    });
  },
};

/** A live message as a tail line: a reply, an edit and a reaction say what they are. */
function liveLine(client: DialtoneClient, m: ChatMessage): string {
  const view = client.channel(m.channelId);
  const rel = m.relation;
  if (!rel || m.body === undefined) return messageLine(m, view);
  const target = client.entries(m.channelId).find((e) => e.message.messageId === rel.messageId)?.message;
  const ref = `${target ? `${target.sender}'s message` : "a message"} ${rel.messageId.slice(0, 8)}`;
  const skew = skewNote(m);
  const head = `[${hhmm(m.sentAt)}] ${channelLabel(view, m.channelId)} ${m.sender}`;
  const tailNote = skew ? ` (${skew})` : "";
  if (rel.kind === "edit") return `${head} edited ${ref}: ${m.body}${tailNote}`;
  if (rel.kind === "reaction") return `${head} reacted ${m.body} to ${ref}${tailNote}`;
  return `${head} (replying to ${ref}): ${m.body}${tailNote}`;
}

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
        ctx.io.out(`${ctx.json ? JSON.stringify(messageJson(m, view)) : liveLine(client, m)}\n`);
      });
      client.on("message-deleted", (d) => {
        const view = client.channel(d.channelId);
        const what =
          d.message?.relation?.kind === "reaction"
            ? "took back a reaction"
            : d.message?.relation?.kind === "edit"
              ? "deleted an edit"
              : "deleted a message";
        const line = `* ${d.by} ${what} in ${channelLabel(view, d.channelId)} (${d.messageId.slice(0, 8)})`;
        const json = {
          type: "message_deleted",
          channel_id: d.channelId,
          message_id: d.messageId,
          deleted_by_user_id: d.deletedByUserId,
          deleted_by: d.by,
        };
        ctx.io.out(`${ctx.json ? JSON.stringify(json) : line}\n`);
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
