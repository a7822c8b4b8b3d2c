// What each slash command does. Each one that needs the network or crypto runs as a ChatState
// task (shown pending, errors as system lines); the key handler that called it has returned long
// before it settles.
import {
  accountLines,
  listAccounts,
  logout,
  resolveAccount,
  resolveAccountDevice,
  resolveVolumeUser,
  safetyNumberLines,
  shortId,
  type ChannelView,
} from "../core/index.js";
import { channelHelpLines, helpLines, type Command } from "./commands.js";
import { byLabel, SYSTEM_VIEW, type ChatState, type Compose } from "./chat-state.js";
import { ACTION_PREFIX } from "./entry-view.js";
import { commandTarget } from "./selection.js";
import { deviceTable } from "./device-table.js";
import { UI_HINTS } from "./command-hints.js";
import type { VoiceControl } from "./voice-control.js";
import { errorText } from "./errors.js";
import { clock } from "./scrollback.js";
import { jumpToResult, runSearch } from "./search-view.js";

export interface CommandContext {
  readonly state: ChatState;
  readonly voice: VoiceControl;
  /** A short error for the footer (usage mistakes), instead of a system line; `keepLine` leaves the typed line to fix (a typo in a name). */
  error(message: string, keepLine?: boolean): void;
  /** Several channels match: let the user choose, then `then(channel)`. */
  pick(title: string, channels: readonly ChannelView[], then: (channel: ChannelView) => void): void;
  quit(): void;
  loggedOut(): void;
  /** Composes in the input: a reply, an edit (prefilled with `text`), a reaction. */
  compose(c: Compose, text?: string): void;
  /** Asks y/n before deleting a message. */
  confirmDelete(c: Compose): void;
}

const normal = (s: string) => s.normalize("NFC").trim().toLowerCase();

/** Channels matching what was typed: an exact name (any case, leading # dropped), else an id prefix. */
export function matchChannels(channels: readonly ChannelView[], arg: string): ChannelView[] {
  const wanted = normal(arg.replace(/^#/, ""));
  if (!wanted) return [];
  const byName = channels.filter((c) => c.name !== undefined && normal(c.name) === wanted);
  if (byName.length > 0) return [...byName].sort(byLabel);
  // "/j gen" for #general: the start of a name, then the start of an id.
  const byPrefix = channels.filter((c) => c.name !== undefined && normal(c.name).startsWith(wanted));
  if (byPrefix.length > 0) return byPrefix.sort(byLabel);
  const compact = wanted.replaceAll("-", "");
  if (!/^[0-9a-f]+$/.test(compact)) return [];
  return channels.filter((c) => c.id.replaceAll("-", "").startsWith(compact)).sort(byLabel);
}

export const channelLabel = (c: ChannelView) => `${c.label} (${shortId(c.id)})`;

/** When an invite expires, readable at a glance: "in 24 h, tomorrow 08:05" (a bare "08:05" a day ahead reads as now). */
export function inviteExpiry(expires: Date | undefined, now: Date = new Date()): string {
  if (!expires || Number.isNaN(expires.getTime())) return "expiry unknown";
  const ms = expires.getTime() - now.getTime();
  if (ms <= 0) return `expired ${clock(expires)}`;
  const day = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(expires) - day(now)) / 86_400_000);
  const date = `${expires.getFullYear()}-${String(expires.getMonth() + 1).padStart(2, "0")}-${String(expires.getDate()).padStart(2, "0")}`;
  const when = days === 0 ? clock(expires) : days === 1 ? `tomorrow ${clock(expires)}` : `${date} ${clock(expires)}`;
  const within =
    ms < 3_600_000
      ? `${Math.max(1, Math.round(ms / 60_000))} min`
      : ms < 4 * 86_400_000
        ? `${Math.round(ms / 3_600_000)} h`
        : `${Math.round(ms / 86_400_000)} days`;
  return `expires in ${within}, ${when}`;
}

/** Resolves a channel argument: one match → `then`, several → the picker, none → an error. */
function withChannel(ctx: CommandContext, arg: string, then: (c: ChannelView) => void): void {
  const matches = matchChannels(ctx.state.client.channels(), arg);
  if (matches.length === 1) then(matches[0]!);
  else if (matches.length > 1) ctx.pick(`Select a channel (${arg})`, matches, then);
  else {
    const locked = ctx.state.client.channels().some((c) => c.name === undefined);
    ctx.error(locked ? `unknown channel name (some channel names are still encrypted for this device)` : "unknown channel name", true);
  }
}

function adminOnly(ctx: CommandContext, what = "admin only"): boolean {
  if (ctx.state.me.isAdmin) return false;
  ctx.error(what);
  return true;
}

export function runCommand(cmd: Command, ctx: CommandContext): void {
  const { state } = ctx;
  const client = state.client;
  switch (cmd.name) {
    case "help":
      state.report(helpLines(state.me.isAdmin));
      return;
    case "channel-help":
      state.report(channelHelpLines(state.me.isAdmin));
      return;
    case "system":
      if (state.inSystem) ctx.error("already in the system view: esc goes back");
      else state.activate(SYSTEM_VIEW);
      return;
    case "list": {
      const channels = [...client.channels()].sort(byLabel);
      if (channels.length === 0) state.report("no channels yet");
      else {
        const lines = [
          "channels:",
          ...channels.map((c) => `  ${channelLabel(c)}${state.unread.get(c.id) ? ` · ${state.unread.get(c.id)} unread` : ""}`),
        ];
        if (channels.some((c) => c.name === undefined))
          lines.push("  (<encrypted>: no member's client has shared that channel's key with this device yet)");
        state.report(lines);
      }
      return;
    }
    case "join":
      withChannel(ctx, cmd.channel, (c) => {
        if (c.id === state.activeId) ctx.error("already viewing that channel");
        else state.activate(c.id);
      });
      return;
    case "channel-create":
      if (adminOnly(ctx)) return;
      state.run("creating channel", async () => {
        const c = await client.createChannel(cmd.channelName);
        state.activate(c.id);
        state.system(`created channel '${c.label}' (${shortId(c.id)})`, c.id);
      });
      return;
    case "channel-rename":
      if (adminOnly(ctx)) return;
      withChannel(ctx, cmd.channel, (c) =>
        state.run("renaming channel", async () => {
          const { channel, previous } = await client.renameChannel(c.id, cmd.newName);
          state.system(`renamed channel '${previous ?? c.label}' to '${channel.label}'`);
        }),
      );
      return;
    case "channel-delete":
      if (adminOnly(ctx)) return;
      withChannel(ctx, cmd.channel, (c) => {
        // Everyone loses the channel and its history: not on one enter.
        if (!cmd.confirmed) {
          ctx.error(`this deletes #${c.label} and all its messages, for everyone: to go ahead, /channel delete ${cmd.channel} --yes`);
          return;
        }
        state.run("deleting channel", async () => {
          await state.deleteChannel(c.id);
          state.system(`deleted channel '${c.label}'`);
        });
      });
      return;
    case "server-invite":
      if (adminOnly(ctx, "admin only: server invites")) return;
      state.run("minting an invite", async () => {
        const inv = await client.createInvite({
          ...(cmd.uses !== undefined ? { maxUses: cmd.uses } : {}),
          ...(cmd.hours !== undefined ? { lifetimeSeconds: cmd.hours * 3600 } : {}),
        });
        state.report(`server invite (${inv.maxUses} use${inv.maxUses === 1 ? "" : "s"}, ${inviteExpiry(inv.expiresAt)}):`);
        state.report(inv.token, "highlight");
      });
      return;
    case "admin-users":
      if (adminOnly(ctx)) return;
      state.run("listing accounts", async () => {
        const accounts = await listAccounts(client, cmd.removed);
        state.report([`accounts (${accounts.length}):`, ...accountLines(accounts).map((l) => `  ${l}`)]);
      });
      return;
    case "admin-promote":
    case "admin-demote": {
      if (adminOnly(ctx)) return;
      const isAdmin = cmd.name === "admin-promote";
      state.run(isAdmin ? "promoting" : "demoting", async () => {
        const a = await resolveAccount(client, cmd.user);
        await client.api.admin.setAdmin({ userId: a.info.userId, isAdmin });
        state.system(`${a.label} (${shortId(a.info.userId)}) ${isAdmin ? "is now an admin" : "is no longer an admin"}`);
      });
      return;
    }
    case "admin-remove":
      if (adminOnly(ctx)) return;
      state.run("removing the account", async () => {
        const a = await resolveAccount(client, cmd.user);
        if (!cmd.confirmed) {
          ctx.error(`this removes ${a.label} (${shortId(a.info.userId)}) for good: to go ahead, /admin remove ${cmd.user} --yes`);
          return;
        }
        const { rotated } = await client.removeUser(a.info.userId);
        state.system(`removed ${a.label} (${shortId(a.info.userId)}); new keys for ${rotated} channel${rotated === 1 ? "" : "s"}`);
      });
      return;
    case "admin-revoke":
      if (adminOnly(ctx)) return;
      state.run("revoking the device", async () => {
        const { device, owner } = await resolveAccountDevice(client, cmd.device);
        await client.api.admin.revokeDevice({ deviceId: device.deviceId });
        state.system(`revoked ${owner.label}'s device ${shortId(device.deviceId)}`);
      });
      return;
    case "verify": {
      let user: ReturnType<typeof client.resolveUser>;
      try {
        user = client.resolveUser(cmd.user);
      } catch (err) {
        ctx.error(errorText(err), true);
        return;
      }
      state.run("computing the safety number", async () => {
        const result = await client.safetyNumber(user.userId);
        if (cmd.confirm) await client.markVerified(result);
        state.report(safetyNumberLines(user, result, { marked: cmd.confirm, typed: cmd.user, hints: UI_HINTS }));
      });
      return;
    }
    case "search":
      if (cmd.channel === undefined) runSearch(state, cmd.query, undefined);
      else withChannel(ctx, cmd.channel, (c) => runSearch(state, cmd.query, c.id));
      return;
    case "jump": {
      const problem = jumpToResult(state, cmd.index);
      if (problem) ctx.error(problem);
      return;
    }
    case "devices":
      state.run("listing devices", async () => {
        const devices = await client.devices();
        state.report(deviceTable(devices, client.me.userId));
      });
      return;
    case "devices-approve":
      state.run("approving the device", async () => {
        const approved = await client.approveDevice(cmd.fingerprint);
        state.system(`approved device ${approved.fingerprint}: it now receives your identity and keys`);
      });
      return;
    case "recover":
      state.run("recovering your identity", async () => {
        const r = await client.recover(cmd.code);
        state.system(
          `recovered your identity on this device: ${r.channelKeys} channel key(s) and ${r.directoryKeys} directory key(s) restored`,
        );
      });
      return;
    case "devices-reject":
      state.run("revoking the device", async () => {
        const r = await client.rejectDevice(cmd.fingerprint);
        state.system(`revoked device ${r.fingerprint}`);
      });
      return;
    case "admit": {
      if (adminOnly(ctx, "admin only: admitting members")) return;
      let user: ReturnType<typeof client.resolveUser>;
      try {
        user = client.resolveUser(cmd.user);
      } catch (err) {
        ctx.error(errorText(err), true);
        return;
      }
      state.run("admitting", async () => {
        await client.admit(user.userId, cmd.role);
        const result = await client.safetyNumber(user.userId);
        state.report([
          `admitted ${user.label} as ${cmd.role}: keys are shared with their certified devices`,
          `the safety number you share with ${user.label} (compare it with them):`,
          ...result.formatted.split("\n").map((l) => `  ${l}`),
        ]);
      });
      return;
    }
    case "voice-join": {
      // The daemon would only come back with the same "cannot reach the server", less plainly.
      if (state.connection.state !== "online") {
        ctx.error("offline: voice needs the server; join again once the header says online", true);
        return;
      }
      const join = (c: ChannelView) => ctx.voice.join(c.id);
      if (cmd.channel) withChannel(ctx, cmd.channel, join);
      else if (state.active) join(state.active);
      else ctx.error("no channel selected: /voice join <channel>");
      return;
    }
    case "voice-leave":
      if (!ctx.voice.channelId) ctx.error("not in a voice channel");
      else ctx.voice.leave();
      return;
    case "voice-mute":
      ctx.voice.setMuted(true);
      return;
    case "voice-unmute":
      ctx.voice.setMuted(false);
      return;
    case "voice-deafen":
    case "voice-undeafen":
      ctx.voice.setDeafened(cmd.name === "voice-deafen");
      return;
    case "voice-volume": {
      let user: ReturnType<typeof resolveVolumeUser>;
      try {
        user = resolveVolumeUser(client, cmd.user, "name");
      } catch (err) {
        ctx.error(errorText(err), true);
        return;
      }
      ctx.voice.setVolume(user, cmd.percent);
      return;
    }
    case "me":
      if (!state.activeId || state.inSystem) ctx.error("no channel open: /me sends into the open channel");
      else state.send(`${ACTION_PREFIX}${cmd.text}`);
      return;
    case "reply":
    case "edit":
    case "delete":
    case "react":
    case "unreact": {
      const channelId = state.activeId;
      if (!channelId || state.inSystem) {
        ctx.error(`no channel open: /${cmd.name} acts on a message of the open channel`);
        return;
      }
      const mineOnly = cmd.name === "edit" || (cmd.name === "delete" && !state.me.isAdmin);
      const entries = client.entries(channelId);
      const target = commandTarget(entries, state.selectedId, mineOnly ? "mine" : "any", state.me.userId);
      if (!target) {
        ctx.error(
          state.selectedId !== undefined
            ? `message: the selected message is not ${mineOnly ? "yours" : "one to act on"}`
            : `message: no ${mineOnly ? "message of yours" : "message"} here to ${cmd.name}`,
        );
        return;
      }
      switch (cmd.name) {
        case "reply":
          state.act(state.composeFor("reply", target), cmd.text);
          return;
        case "edit":
          if (cmd.text !== undefined) state.act(state.composeFor("edit", target), cmd.text);
          else ctx.compose(state.composeFor("edit", target), target.text ?? "");
          return;
        case "delete":
          if (cmd.confirmed) state.act(state.composeFor("delete", target), "");
          else ctx.confirmDelete(state.composeFor("delete", target));
          return;
        case "react":
          state.act(state.composeFor("react", target), cmd.emoji);
          return;
        case "unreact":
          state.unreact(state.composeFor("react", target), cmd.emoji);
          state.selectedId = undefined;
          return;
      }
      return;
    }
    case "mute":
    case "unmute": {
      const apply = (c: ChannelView) => {
        const muted = new Set(state.settings.muted);
        if (cmd.name === "mute") muted.add(c.id);
        else muted.delete(c.id);
        state.updateSettings({ muted });
        state.system(cmd.name === "mute" ? `#${c.label} is muted: no bell or notice (it still counts)` : `#${c.label} is no longer muted`);
      };
      if (cmd.channel) withChannel(ctx, cmd.channel, apply);
      else if (state.active) apply(state.active);
      else ctx.error(`no channel open: /${cmd.name} <channel>`);
      return;
    }
    case "notify":
      state.updateSettings(cmd.what === "bell" ? { bell: cmd.on } : { desktop: cmd.on });
      state.system(`${cmd.what === "bell" ? "the bell" : "desktop notices"} at a mention of you: ${cmd.on ? "on" : "off"}`);
      return;
    case "notify-status": {
      const s = state.settings;
      const muted = [...s.muted].map((id) => client.channel(id)?.label ?? shortId(id));
      state.report([
        `bell at a mention of you: ${s.bell ? "on" : "off"} (/notify bell on|off)`,
        `desktop notices: ${s.desktop ? "on" : "off"} (/notify desktop on|off)`,
        `muted channels: ${muted.length ? muted.map((l) => `#${l}`).join(", ") : "none"}`,
      ]);
      return;
    }
    case "typing":
      state.updateSettings({ typing: cmd.on });
      state.system(`typing notices ${cmd.on ? "on: sent and shown" : "off: neither sent nor shown"}`);
      return;
    case "logout":
      state.run("logging out", async () => {
        await ctx.voice.close();
        await client.close();
        await logout(client.store);
        ctx.loggedOut();
      });
      return;
    case "quit":
      ctx.quit();
      return;
  }
}
