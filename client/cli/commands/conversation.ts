// reply, edit, react, delete: what a member does to a message after it was sent. MESSAGE is a
// message id or its first characters (history --ids shows them).
import { UsageError } from "../../core/index.js";
import { messageJson, messageLine } from "../format.js";
import { WAIT_OPTION, print, waitMs, withClient, type Command } from "../context.js";

const MESSAGE_HELP = "MESSAGE is a message id or its first 4+ characters (dialtone history CHANNEL --ids shows them).";

function textOf(positionals: readonly string[], from: number, what: string): string {
  const text = positionals.slice(from).join(" ");
  if (text.trim() === "") throw new UsageError("invalid-input", `text: the ${what} is empty`);
  return text;
}

export const replyCommand: Command = {
  name: "reply",
  args: "CHANNEL MESSAGE TEXT",
  summary: "reply to a message (readers see the first line of it quoted above yours)",
  details: MESSAGE_HELP,
  options: { wait: WAIT_OPTION },
  positionals: [3, Infinity],
  async run(ctx, values, positionals) {
    const text = textOf(positionals, 2, "reply");
    await withClient(ctx, async (client) => {
      const channel = await client.resolveChannel(positionals[0]!, waitMs(values));
      const sent = await client.reply(channel.id, positionals[1]!, text, waitMs(values));
      print(ctx, messageLine(sent, client.channel(channel.id)), messageJson(sent, client.channel(channel.id)));
    });
  },
};

export const editCommand: Command = {
  name: "edit",
  args: "CHANNEL MESSAGE TEXT",
  summary: "replace the text of one of your messages (readers see the latest, marked edited)",
  details: `${MESSAGE_HELP}\nOnly a message's sender can edit it; the earlier text stays until the message is deleted.`,
  options: { wait: WAIT_OPTION },
  positionals: [3, Infinity],
  async run(ctx, values, positionals) {
    const text = textOf(positionals, 2, "new text");
    await withClient(ctx, async (client) => {
      const channel = await client.resolveChannel(positionals[0]!, waitMs(values));
      const sent = await client.edit(channel.id, positionals[1]!, text, waitMs(values));
      const view = client.channel(channel.id);
      print(ctx, `edited ${sent.relation?.messageId.slice(0, 8)} in #${view?.label ?? channel.label}`, {
        ...messageJson(sent, view),
        type: "edit",
      });
    });
  },
};

export const reactCommand: Command = {
  name: "react",
  args: "CHANNEL MESSAGE EMOJI",
  summary: "react to a message with an emoji (--remove takes your reaction back)",
  details: `${MESSAGE_HELP}\nReacting twice with the same emoji changes nothing.`,
  options: { remove: { type: "boolean", help: "take your reaction back" }, wait: WAIT_OPTION },
  positionals: [3, 3],
  async run(ctx, values, positionals) {
    const [channelArg, ref, emoji] = positionals as [string, string, string];
    await withClient(ctx, async (client) => {
      const channel = await client.resolveChannel(channelArg, waitMs(values));
      const label = client.channel(channel.id)?.label ?? channel.label;
      if (values.remove === true) {
        const removed = await client.unreact(channel.id, ref, emoji);
        print(ctx, removed ? `took back ${emoji} in #${label}` : `you had not reacted ${emoji} to that message`, {
          type: "reaction_removed",
          channel_id: channel.id,
          emoji,
          removed,
        });
        return;
      }
      const { message, added } = await client.react(channel.id, ref, emoji, waitMs(values));
      print(ctx, added ? `reacted ${emoji} in #${label}` : `you had reacted ${emoji} already`, {
        ...messageJson(message, client.channel(channel.id)),
        type: "reaction",
        added,
      });
    });
  },
};

export const deleteCommand: Command = {
  name: "delete",
  args: "CHANNEL MESSAGE",
  summary: "delete a message for everyone (yours; an admin may delete any)",
  details: `${MESSAGE_HELP}\nThe server drops the ciphertext (and your edits of it); every client is told.`,
  options: { wait: WAIT_OPTION },
  positionals: [2, 2],
  async run(ctx, values, positionals) {
    await withClient(ctx, async (client) => {
      const channel = await client.resolveChannel(positionals[0]!, waitMs(values));
      const gone = await client.deleteMessage(channel.id, positionals[1]!);
      const label = client.channel(channel.id)?.label ?? channel.label;
      print(ctx, `deleted ${gone.messageId.slice(0, 8)} from #${label}`, {
        type: "message_deleted",
        channel_id: channel.id,
        message_id: gone.messageId,
      });
    });
  },
};

export const CONVERSATION_COMMANDS: readonly Command[] = [replyCommand, editCommand, reactCommand, deleteCommand];
