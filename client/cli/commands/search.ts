// search: the local message cache (client/core/search/), filled by what this device opens or by --fetch.
import type { Json } from "../format.js";
import type { SearchHit } from "../../core/index.js";
import { UsageError, searchHitLine, searchSummary } from "../../core/index.js";
import { WAIT_OPTION, numberOption, waitMs, withClient, type Command } from "../context.js";

function hitJson(h: SearchHit): { [key: string]: Json } {
  return {
    type: "search_hit",
    seq: Number(h.message.seq),
    channel_id: h.channel.id,
    channel: h.channel.name ?? null,
    message_id: h.message.messageId,
    sender_user_id: h.message.senderUserId,
    sender: h.sender,
    body: h.message.text,
    sent_at: new Date(h.message.time).toISOString(),
  };
}

export const searchCommand: Command = {
  name: "search",
  args: "TEXT",
  summary: "find messages holding every word of TEXT, newest first, in this device's local cache",
  details:
    "Search runs on this device, over a cache of the messages it has opened (tail, history, send,\n" +
    "the UI), kept encrypted beside the keystore under a key the keystore holds. Words match whole,\n" +
    "ignoring case and accents (cafe finds Café). A new device's cache is empty: --fetch first\n" +
    "pages the whole history of every channel it can read into the cache (progress on stderr);\n" +
    "after that, what this device opens keeps it current, and --fetch again catches up.\n" +
    "A channel whose key this device lacks is never cached, so it never matches.\n" +
    "The last line says how many matched among how many cached messages; with --json, one object\n" +
    "per hit on stdout and that summary on stderr.",
  options: {
    channel: { type: "string", value: "C", help: "only this channel (name or id prefix)" },
    limit: { type: "string", value: "N", help: "at most N hits (default 20)" },
    fetch: { type: "boolean", help: "page the history of every channel (or --channel) into the cache first" },
    wait: WAIT_OPTION,
  },
  positionals: [1, Infinity],
  async run(ctx, values, positionals) {
    const query = positionals.join(" ");
    if (query.trim() === "") throw new UsageError("invalid-input", "TEXT: give at least one word to look for");
    const limit = numberOption(values, "limit", 1, 10_000, 20);
    const fetch = values["fetch"] === true;
    await withClient(
      ctx,
      async (client) => {
        const wait = waitMs(values);
        const channel = typeof values["channel"] === "string" ? await client.resolveChannel(values["channel"], wait) : undefined;
        if (fetch) {
          const report = await client.fillSearchCache({
            ...(channel ? { channelId: channel.id } : {}),
            onProgress: (p) =>
              ctx.io.err(`fetching #${p.channel.label}: ${p.loaded.toLocaleString("en-US")} messages${p.done ? "" : "…"}\n`),
          });
          ctx.io.err(`fetched ${report.messages.toLocaleString("en-US")} messages from ${report.channels} channels\n`);
        }
        const view = await client.search(query, { ...(channel ? { channelId: channel.id } : {}), limit });
        if (ctx.json) for (const h of view.hits) ctx.io.out(`${JSON.stringify(hitJson(h))}\n`);
        else if (view.hits.length > 0) ctx.io.out(`${view.hits.map(searchHitLine).join("\n")}\n`);
        const hint = !fetch && view.hits.length === 0 ? "; dialtone search --fetch pages channel history into the cache first" : "";
        // The summary is part of the human answer; with --json, stdout holds only the hits.
        if (ctx.json) ctx.io.err(`${searchSummary(view)}${hint}\n`);
        else ctx.io.out(`${searchSummary(view)}${hint}\n`);
      },
      { reconcile: fetch },
    );
  },
};
