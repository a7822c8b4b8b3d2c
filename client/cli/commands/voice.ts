// voice join (foreground: members, speaking and notices until interrupted), voice leave,
// voice status, voice mute/unmute, deafen/undeafen, and voice volume NAME PERCENT (remembered). The daemon is the user's dialtone-voiced (started with the
// --voice-* flags when none runs); the session token and channel key reach it over its socket.
import {
  MeshSizeWatch,
  RoomStatus,
  meshSizeNotice,
  parseVolumePercent,
  resolveVolumeUser,
  VOICE_FLAG_OPTIONS,
  VoiceDaemon,
  VoiceDaemonError,
  VoiceSession,
  parseVoiceFlags,
  shortId,
  UsageError,
  voicedSocketPath,
  type DialtoneClient,
  type VoiceMember,
  type VoiceState,
  type VoiceUpdate,
} from "../../core/index.js";
import { channelLabel, type Json } from "../format.js";
import { WAIT_OPTION, openClient, print, waitMs, warn, type Command, type Ctx } from "../context.js";

type Row = { [key: string]: Json };

const STATUS: Record<RoomStatus, string> = {
  [RoomStatus.UNSPECIFIED]: "unknown",
  [RoomStatus.IDLE]: "idle",
  [RoomStatus.JOINING]: "joining",
  [RoomStatus.JOINED]: "joined",
  [RoomStatus.RECONNECTING]: "reconnecting",
};

const memberJson = (m: VoiceMember, user: string, s: VoiceState): Row => ({
  user_id: m.userId,
  user,
  volume_percent: s.volumes[m.userId] ?? 100,
  device_id: m.deviceId,
  connection_state: m.connectionState,
  candidate_type: m.candidateType || null,
  ready: m.ready,
  speaking: m.speaking,
  packets_received: Number(m.packetsReceived),
  packets_lost: Number(m.packetsLost),
  jitter_ms: m.jitterMs,
});

function emit(ctx: Ctx, line: string, json: Row, toStderr = false): void {
  if (ctx.json) ctx.io.out(`${JSON.stringify(json)}\n`);
  else if (toStderr) ctx.io.err(`${line}\n`);
  else ctx.io.out(`${line}\n`);
}

/**
 * A member's connection in a few words, or undefined while not worth a line: "connected" (not yet
 * ready) is a step of connecting, and a ready one waits a state for its candidate type.
 */
function connection(m: VoiceMember, was: VoiceMember | undefined): string | undefined {
  if (m.ready) return m.candidateType ? `connected via ${m.candidateType}` : was?.ready ? "connected" : undefined;
  if (m.connectionState === "waiting") return undefined;
  return m.connectionState === "connected" || m.connectionState === "new" ? "connecting" : m.connectionState;
}

/** Turns successive daemon states into lines: members coming and going, connections, speaking. */
class VoiceRenderer {
  private prev: VoiceState | undefined;
  private joinedOnce = false;
  private refreshing = false;
  /** The connection line last shown per device. */
  private readonly shown = new Map<string, string>();
  private readonly mesh = new MeshSizeWatch();

  constructor(
    private readonly ctx: Ctx,
    private readonly client: DialtoneClient,
    private readonly channelId: string,
  ) {}

  private label(userId: string, deviceId: string): string {
    if (this.client.directory.nameOf(userId) === undefined && !this.refreshing) {
      // Someone this client has not seen yet: fetch the directory once for their name.
      this.refreshing = true;
      void this.client.directory.refresh().catch(() => {});
    }
    return `${this.client.directory.labelOf(userId)} (${shortId(deviceId)})`;
  }

  /** Returns "left" once the daemon is out of our channel after having been in it. */
  update(u: VoiceUpdate): "left" | undefined {
    const { ctx } = this;
    if (u.kind === "info") emit(ctx, `voice: ${u.message}`, { type: "voice_info", message: u.message });
    if (u.kind === "error") emit(ctx, `dialtone: voice: ${u.message}`, { type: "voice_error", message: u.message }, true);
    if (u.kind !== "state") return undefined;
    const s = u.state;
    const prev = this.prev;
    this.prev = s;
    const inChannel = s.channelId === this.channelId;
    if (!inChannel) return this.joinedOnce ? "left" : undefined;
    const channel = channelLabel(this.client.channel(this.channelId), this.channelId);
    if (this.mesh.update(s.channelId, s.members.length + 1)) {
      const message = meshSizeNotice(s.members.length + 1, channel);
      emit(ctx, `voice: ${message}`, { type: "voice_info", message });
    }
    if (s.status !== prev?.status || prev.channelId !== s.channelId) {
      if (s.status === RoomStatus.JOINED && !this.joinedOnce) {
        this.joinedOnce = true;
        emit(ctx, `* in voice in ${channel} (${s.members.length} other${s.members.length === 1 ? "" : "s"} here); ctrl-c leaves`, {
          type: "voice_joined",
          channel_id: this.channelId,
          channel: this.client.channel(this.channelId)?.name ?? null,
          user_id: s.userId,
          device_id: s.deviceId,
          relay_only: s.relayOnly,
        });
      } else if (s.status === RoomStatus.JOINED) emit(ctx, `* back in voice in ${channel}`, { type: "voice_status", status: "joined" });
      else if (s.status === RoomStatus.RECONNECTING)
        emit(ctx, "* voice: server connection lost, reconnecting", { type: "voice_status", status: "reconnecting" }, true);
    }
    const before = new Map((prev?.channelId === s.channelId ? prev.members : []).map((m) => [m.deviceId, m]));
    for (const m of s.members) {
      const who = this.label(m.userId, m.deviceId);
      const user = this.client.directory.labelOf(m.userId);
      const was = before.get(m.deviceId);
      before.delete(m.deviceId);
      if (!was) emit(ctx, `+ ${who} is in voice`, { type: "voice_member_joined", ...memberJson(m, user, s) });
      const how = connection(m, was);
      if (how !== undefined && how !== this.shown.get(m.deviceId)) {
        this.shown.set(m.deviceId, how);
        emit(ctx, `  ${who}: ${how}`, { type: "voice_member", ...memberJson(m, user, s) });
      }
      if ((was?.speaking ?? false) !== m.speaking) {
        emit(ctx, `  ${who} ${m.speaking ? "speaking" : "quiet"}`, {
          type: "voice_speaking",
          user_id: m.userId,
          user,
          device_id: m.deviceId,
          speaking: m.speaking,
          self: false,
        });
      }
    }
    for (const m of before.values()) {
      this.shown.delete(m.deviceId);
      emit(ctx, `- ${this.label(m.userId, m.deviceId)} left voice`, {
        type: "voice_member_left",
        user_id: m.userId,
        user: this.client.directory.labelOf(m.userId),
        device_id: m.deviceId,
      });
    }
    if ((prev?.speaking ?? false) !== s.speaking) {
      emit(ctx, `  you ${s.speaking ? "speaking" : "quiet"}`, {
        type: "voice_speaking",
        user_id: s.userId,
        user: "you",
        device_id: s.deviceId,
        speaking: s.speaking,
        self: true,
      });
    }
    if (prev && prev.muted !== s.muted) emit(ctx, `* ${s.muted ? "muted" : "unmuted"}`, { type: "voice_muted", muted: s.muted });
    if (prev && prev.deafened !== s.deafened)
      emit(ctx, `* ${s.deafened ? "deafened (nothing played, microphone muted)" : "undeafened"}`, {
        type: "voice_deafened",
        deafened: s.deafened,
      });
    return undefined;
  }
}

export const voiceJoinCommand: Command = {
  name: "voice join",
  args: "CHANNEL",
  summary: "join a channel's voice room and stay until interrupted",
  details:
    "Starts dialtone-voiced when none runs, with the --voice-* flags below (a running one with other\n" +
    "settings is restarted with them), and hands it the session and the channel key over its socket.\n" +
    "Prints members, connection and speaking changes (--json: one object per line) until\n" +
    "SIGINT/SIGTERM, then leaves; the daemon ends once no client uses it.",
  options: { ...VOICE_FLAG_OPTIONS, wait: WAIT_OPTION },
  positionals: [1, 1],
  async run(ctx, values, positionals) {
    const flags = parseVoiceFlags(values);
    if (ctx.io.signal.aborted) return;
    const client = await openClient(ctx);
    const voice = new VoiceSession(client, flags, ctx.io.env);
    try {
      const wait = waitMs(values);
      const channel = await client.resolveChannel(positionals[0]!, wait);
      const renderer = new VoiceRenderer(ctx, client, channel.id);
      let ended: (why: "left" | "interrupted" | "stopped") => void = () => {};
      const end = new Promise<"left" | "interrupted" | "stopped">((resolve) => (ended = resolve));
      let joined = false;
      voice.on("update", (u) => {
        if (renderer.update(u) === "left" && joined) ended("left");
        // The session forgets the state when the daemon goes away (its error notice says so).
        if (u.kind === "error" && voice.state === undefined && joined) ended("stopped");
      });
      const onAbort = () => ended("interrupted");
      ctx.io.signal.addEventListener("abort", onAbort, { once: true });
      if (voice.logFile) emit(ctx, `* voice log: ${voice.logFile}`, { type: "voice_log", path: voice.logFile }, true);
      await voice.join(channel.id, wait);
      joined = true;
      if (ctx.io.signal.aborted) ended("interrupted");
      const why = await end;
      ctx.io.signal.removeEventListener("abort", onAbort);
      if (why === "stopped") throw new VoiceDaemonError("not-running", "the voice daemon stopped");
      if (why === "interrupted") {
        const spawned = voice.spawnedDaemon;
        await voice.leave().catch((err: unknown) => warn(ctx, `voice leave: ${err instanceof Error ? err.message : String(err)}`));
        if (spawned) await voice.shutdown().catch(() => {});
      }
      print(ctx, `* left voice in ${channelLabel(client.channel(channel.id), channel.id)}`, { type: "voice_left", channel_id: channel.id });
    } finally {
      await voice.close();
      await client.close();
    }
  },
};

/** The running daemon, or undefined (commands that only talk to one never start it). */
const runningDaemon = (ctx: Ctx) => VoiceDaemon.connect(voicedSocketPath(ctx.io.env));

export const voiceLeaveCommand: Command = {
  name: "voice leave",
  args: "",
  summary: "leave the voice room the voice daemon is in",
  options: {},
  positionals: [0, 0],
  async run(ctx) {
    const d = await runningDaemon(ctx);
    const before = d ? await d.state() : undefined;
    if (d && before?.channelId) await d.leave();
    print(ctx, before?.channelId ? "* left voice" : "not in a voice room", {
      left: Boolean(before?.channelId),
      channel_id: before?.channelId || null,
    });
  },
};

function muteCommand(muted: boolean): Command {
  return {
    name: muted ? "voice mute" : "voice unmute",
    args: "",
    summary: muted ? "stop sending your microphone" : "send your microphone again",
    options: {},
    positionals: [0, 0],
    async run(ctx) {
      const d = await runningDaemon(ctx);
      if (!d) throw new VoiceDaemonError("not-running", "no voice daemon is running: dialtone voice join CHANNEL starts one");
      await d.setMuted(muted);
      print(ctx, `* ${muted ? "muted" : "unmuted"}`, { muted });
    },
  };
}

export const voiceMuteCommand = muteCommand(true);
export const voiceUnmuteCommand = muteCommand(false);

function deafenCommand(deafened: boolean): Command {
  return {
    name: deafened ? "voice deafen" : "voice undeafen",
    args: "",
    summary: deafened
      ? "play nothing and mute your microphone"
      : "play voice again; your microphone is as muted or open as before deafening",
    options: {},
    positionals: [0, 0],
    async run(ctx) {
      const d = await runningDaemon(ctx);
      if (!d) throw new VoiceDaemonError("not-running", "no voice daemon is running: dialtone voice join CHANNEL starts one");
      await d.setDeafened(deafened);
      const s = await d.state();
      print(ctx, deafened ? "* deafened (nothing played, microphone muted)" : `* undeafened${s.muted ? " (still muted)" : ""}`, {
        deafened: s.deafened,
        muted: s.muted,
      });
    },
  };
}

export const voiceDeafenCommand = deafenCommand(true);
export const voiceUndeafenCommand = deafenCommand(false);

export const voiceVolumeCommand: Command = {
  name: "voice volume",
  args: "NAME PERCENT",
  summary: "play one person louder or quieter (0-200 %, 100 = as received), remembered",
  details:
    "NAME is a display name (any case), a marked label such as bob#1a2b, or a user id prefix.\n" +
    "The volume is remembered for this server in the config dir (by user id) and handed to the voice\n" +
    "daemon now if one runs, else at the next voice join.",
  options: {},
  positionals: [2, 2],
  async run(ctx, _values, positionals) {
    const percent = parseVolumePercent(positionals[1]!, "PERCENT");
    const client = await openClient(ctx, { reconcile: false, notices: false });
    try {
      let user: ReturnType<typeof resolveVolumeUser>;
      try {
        user = resolveVolumeUser(client, positionals[0]!, "NAME");
      } catch (err) {
        // A name this install has not seen yet: fetch the directory once, then ask again.
        if (!(err instanceof UsageError && err.code === "unknown-user")) throw err;
        await client.directory.refresh();
        user = resolveVolumeUser(client, positionals[0]!, "NAME");
      }
      const voice = new VoiceSession(client, {}, ctx.io.env);
      const { applied } = await voice.setVolume(user.userId, percent);
      await voice.close();
      print(ctx, `* ${user.label}: volume ${percent} %${applied ? "" : " (no voice daemon is running: applied at the next voice join)"}`, {
        user_id: user.userId,
        user: user.label,
        percent,
        applied,
      });
    } finally {
      await client.close();
    }
  },
};

export const voiceStatusCommand: Command = {
  name: "voice status",
  args: "",
  summary: "show the voice daemon's room, members and settings",
  details:
    "Channel and people by name, opened with this config dir's keystore (--server, or the single server;\n" +
    "the passphrase from DIALTONE_PASSPHRASE or the terminal). Without the keystore: ids, and a note why.",
  options: {},
  positionals: [0, 0],
  async run(ctx) {
    const d = await runningDaemon(ctx);
    if (!d) {
      print(ctx, "no voice daemon is running", { running: false });
      return;
    }
    const s = await d.state();
    const names = s.channelId ? await namesIfAvailable(ctx) : undefined;
    const user = (id: string) => names?.directory.labelOf(id) ?? shortId(id);
    const channel = s.channelId ? channelLabel(names?.channel(s.channelId), s.channelId) : null;
    try {
      const lines = [
        `voice daemon pid ${d.info.pid} (${d.info.audioBackend}${d.info.logFile ? `, log ${d.info.logFile}` : ""})`,
        s.channelId
          ? `in ${channel}: ${STATUS[s.status]}${s.deafened ? ", deafened" : ""}${s.muted ? ", muted" : ""}${s.relayOnly ? ", relay only" : ""}`
          : "not in a voice room",
        `speaking by ${s.pushToTalkKey ? `push-to-talk (${s.pushToTalkKey})` : `voice activity (threshold ${s.vadThreshold})`}`,
        ...s.members.map(
          (m) =>
            `  ${`${user(m.userId)} (${shortId(m.deviceId)})`.padEnd(30)} ${m.ready ? `connected${m.candidateType ? ` via ${m.candidateType}` : ""}` : m.connectionState}` +
            `${m.speaking ? ", speaking" : ""}${s.volumes[m.userId] !== undefined ? `, volume ${s.volumes[m.userId]} %` : ""}  ${m.packetsReceived} packets, ${m.packetsLost} lost, jitter ${m.jitterMs} ms`,
        ),
      ];
      print(ctx, lines, {
        running: true,
        pid: d.info.pid,
        version: d.info.version,
        audio_backend: d.info.audioBackend,
        log_file: d.info.logFile || null,
        channel_id: s.channelId || null,
        channel: s.channelId ? (names?.channel(s.channelId)?.name ?? null) : null,
        status: STATUS[s.status],
        muted: s.muted,
        deafened: s.deafened,
        speaking: s.speaking,
        push_to_talk_key: s.pushToTalkKey || null,
        vad_threshold: s.vadThreshold,
        relay_only: s.relayOnly,
        members: s.members.map((m) => memberJson(m, user(m.userId), s)),
      });
    } finally {
      await names?.close();
    }
  },
};

/** A client for names (asking for the passphrase like any command); ids and a note when none opens. */
async function namesIfAvailable(ctx: Ctx): Promise<DialtoneClient | undefined> {
  try {
    return await openClient(ctx, { reconcile: false, notices: false });
  } catch (err) {
    warn(ctx, `voice status: showing ids, not names (${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
}

export const VOICE_COMMANDS: readonly Command[] = [
  voiceJoinCommand,
  voiceLeaveCommand,
  voiceStatusCommand,
  voiceMuteCommand,
  voiceUnmuteCommand,
  voiceDeafenCommand,
  voiceUndeafenCommand,
  voiceVolumeCommand,
];
