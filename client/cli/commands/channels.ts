// channels, channel create / rename / delete.
import { shortId } from "../../core/index.js";
import { channelJson } from "../format.js";
import { WAIT_OPTION, print, waitMs, withClient, type Command } from "../context.js";

export const channelsCommand: Command = {
  name: "channels",
  args: "",
  summary: "list channels",
  options: {},
  positionals: [0, 0],
  async run(ctx) {
    await withClient(ctx, async (client) => {
      const channels = client.channels();
      const hasKey = (id: string) => client.keys.channelKey(id) !== undefined;
      const lines = channels.map((c) => `${c.name !== undefined ? `#${c.name}` : c.label}  (${shortId(c.id)})`);
      if (channels.length === 0) lines.push("no channels yet");
      const locked = channels.filter((c) => c.name === undefined).length;
      if (locked > 0) {
        lines.push(`${locked} channel name(s) are encrypted for this device: no member's client has shared their keys with it yet`);
      }
      print(ctx, lines, { channels: channels.map((c) => channelJson(c, hasKey(c.id))) });
    });
  },
};

export const channelCreateCommand: Command = {
  name: "channel create",
  args: "NAME",
  summary: "create a channel and its key (admins)",
  options: {},
  positionals: [1, Infinity],
  async run(ctx, _values, positionals) {
    await withClient(ctx, async (client) => {
      const c = await client.createChannel(positionals.join(" "));
      print(ctx, `created channel #${c.label} (${shortId(c.id)})`, channelJson(c, true));
    });
  },
};

export const channelRenameCommand: Command = {
  name: "channel rename",
  args: "ID|NAME NEW",
  summary: "rename a channel (admins)",
  options: { wait: WAIT_OPTION },
  positionals: [2, Infinity],
  async run(ctx, values, positionals) {
    await withClient(ctx, async (client) => {
      const target = await client.resolveChannel(positionals[0]!, waitMs(values));
      const { channel, previous } = await client.renameChannel(target.id, positionals.slice(1).join(" "));
      print(ctx, `renamed channel ${previous !== undefined ? `#${previous}` : shortId(channel.id)} to #${channel.label}`, {
        ...channelJson(channel, true),
        previous: previous ?? null,
      });
    });
  },
};

export const channelDeleteCommand: Command = {
  name: "channel delete",
  args: "ID|NAME",
  summary: "delete a channel with its messages (admins)",
  options: { wait: WAIT_OPTION },
  positionals: [1, 1],
  async run(ctx, values, positionals) {
    await withClient(ctx, async (client) => {
      const target = await client.resolveChannel(positionals[0]!, waitMs(values));
      await client.deleteChannel(target.id);
      print(ctx, `deleted channel ${target.name !== undefined ? `#${target.name}` : shortId(target.id)}`, {
        channel_id: target.id,
        name: target.name ?? null,
        deleted: true,
      });
    });
  },
};
