// The daemon's behaviour behind the IPC: join (validate, resolve and check ICE, join the room,
// start the media loop), leave, mute, deafen, volumes, push-to-talk, state for WatchState, stats and shutdown.
// Everything hardware- or network-shaped comes in through DaemonDeps.
import { Code, ConnectError } from "@connectrpc/connect";
import type { JoinRequest, SetVolumesRequest } from "../gen/dialtone/voiced/v1/voiced_service_pb.js";
import type { AudioBackend } from "./audio/backend.js";
import type { DenoiserFactory } from "./audio/denoise.js";
import { AudioEngine, KEEPALIVE_MS } from "./audio/engine.js";
import type { Codec } from "./codec/codec.js";
import type { VoicedConfig } from "./config.js";
import type { Logger } from "./log.js";
import type { PortalBus } from "./ptt/portal.js";
import { SpeakingControl } from "./ptt/speaking.js";
import { describeIce, describeIceList, IceConfigError, resolveIceConfig, type IceConfig, type IceServer } from "./rtc/ice-config.js";
import { NoUsableTurnError, selectIce, type Probes } from "./rtc/ice-select.js";
import type { PeerFactory } from "./rtc/peer.js";
import { VoiceRoom, type RoomStatus as RoomPhase } from "./session/room.js";
import { serverApi as defaultServerApi, type ServerApi } from "./session/server-api.js";
import { RoomStatus, SpeakingMode, StateStore } from "./state.js";
import { statsFields, type StatsSample } from "./stats.js";

export interface DaemonDeps {
  config: VoicedConfig;
  log: Logger;
  peerFactory: PeerFactory;
  codec: Codec;
  backend: AudioBackend;
  openPortalBus: () => Promise<PortalBus>;
  /** Noise suppression, used unless the config turns it off. */
  denoiser?: DenoiserFactory;
  env: NodeJS.ProcessEnv;
  /** Reachability checks of one TURN / STUN URL (the first working one of each is used). */
  probes: Probes;
  serverApi?: (url: string, token: string) => ServerApi;
}

/** The loudest playback volume, in percent of the received level (+6 dB). */
export const MAX_VOLUME_PERCENT = 200;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const invalid = (field: string, why: string) => new ConnectError(`${field}: ${why}`, Code.InvalidArgument);
const STATUS: Record<RoomPhase, RoomStatus> = {
  joining: RoomStatus.JOINING,
  joined: RoomStatus.JOINED,
  reconnecting: RoomStatus.RECONNECTING,
  idle: RoomStatus.IDLE,
};

export class Daemon {
  readonly state = new StateStore();
  private readonly speaking: SpeakingControl;
  private readonly engine: AudioEngine;
  private room: VoiceRoom | undefined;
  private ops: Promise<unknown> = Promise.resolve();
  private ticker: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private iceTimer: NodeJS.Timeout | undefined;
  private lastStats: StatsSample | undefined;
  private lastMeter = 0;
  /** The mute the user chose (deafening mutes too, without changing it). */
  private muted = false;
  /** Playback gain per user id (absent: 1). */
  private readonly gains = new Map<string, number>();

  constructor(private readonly d: DaemonDeps) {
    const { log } = d;
    this.speaking = new SpeakingControl({
      backend: d.config.pttBackend,
      vadThreshold: d.config.vadThreshold,
      openPortalBus: d.openPortalBus,
      env: d.env,
      log,
      onInfo: (m) => this.state.info(m, "speaking-mode"),
      onError: (m) => this.notifyError(m),
      onChange: () =>
        this.state.update((s) => {
          s.pushToTalkKey = this.speaking.key;
          s.speakingMode = this.speaking.mode === "ptt" ? SpeakingMode.PUSH_TO_TALK : SpeakingMode.VOICE_ACTIVITY;
        }),
    });
    this.engine = new AudioEngine({
      backend: d.backend,
      codec: d.codec,
      speaking: this.speaking,
      log,
      ...(d.config.recordPath ? { recordPath: d.config.recordPath } : {}),
      ...(d.config.denoise && d.denoiser ? { denoiser: d.denoiser, autoGain: true } : {}),
      send: (payload, seq, ts, marker) => this.room?.sendRtp(payload, seq, ts, marker) ?? 0,
      gainOf: (deviceId) => {
        const userId = this.room?.userOf(deviceId);
        return userId === undefined ? 1 : (this.gains.get(userId) ?? 1);
      },
      onSpeakingChange: () => this.refresh(),
      onError: (m) => this.notifyError(m),
      onInfo: (m) => {
        log.info("notice", { info: m });
        this.state.info(m);
      },
    });
    this.state.update((s) => {
      s.vadThreshold = d.config.vadThreshold;
      s.relayOnly = d.config.relayOnly;
    });
  }

  /** Chooses PTT or VAD at start-up (the portal attempt fails fast without a session bus). */
  async init(): Promise<void> {
    await this.speaking.configure(this.d.config.pttKey);
  }

  private notifyError(m: string) {
    this.d.log.warn("notice", { error: m });
    this.state.error(m);
  }

  /** Operations that change the room run one after another. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.ops.then(op, op);
    this.ops = run.catch(() => {});
    return run;
  }

  join(req: JoinRequest): Promise<void> {
    return this.serial(() => this.doJoin(req));
  }

  leave(): Promise<void> {
    return this.serial(() => this.doLeave());
  }

  private async doJoin(req: JoinRequest): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.serverUrl);
    } catch {
      throw invalid("server_url", "not a URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw invalid("server_url", "must be http:// or https://");
    if (!req.sessionToken) throw invalid("session_token", "required");
    if (!UUID.test(req.channelId)) throw invalid("channel_id", "not a UUID");
    if (req.channelKey.length !== 32) throw invalid("channel_key", "must be 32 bytes");
    if (req.keyEpoch < 1) throw invalid("key_epoch", "must be at least 1");
    const { log, config } = this.d;
    log.redact(req.sessionToken);
    log.redact(Buffer.from(req.channelKey).toString("base64"));
    log.redact(Buffer.from(req.channelKey).toString("hex"));

    if (this.room) await this.doLeave();
    const relayOnly = req.relayOnly || config.relayOnly;
    this.state.update((s) => {
      s.channelId = req.channelId;
      s.status = RoomStatus.JOINING;
      s.relayOnly = relayOnly;
      s.members = [];
    });
    try {
      const api = (this.d.serverApi ?? defaultServerApi)(url.origin, req.sessionToken);
      const { ice, source, ttlSeconds } = await this.iceConfig(api, req.iceServers, relayOnly);
      const room = new VoiceRoom({
        api,
        channelId: req.channelId,
        channelKey: req.channelKey,
        keyEpoch: req.keyEpoch,
        peerFactory: this.d.peerFactory,
        peerOptions: { iceServers: ice.servers, relayOnly },
        answerDelayMs: Number(this.d.env.DIALTONE_VOICED_TEST_ANSWER_DELAY_MS) || 0,
        keepAliveMs: KEEPALIVE_MS,
        log,
        onRtp: (from, p) => this.engine.receive(from, p),
        onChange: () => this.refresh(),
        onStatus: (st, detail) => {
          if (this.room !== room) return;
          this.state.update((s) => (s.status = STATUS[st]));
          if (st === "idle") {
            // The server ended the membership for good (session refused, room gone).
            void this.serial(async () => this.room === room && this.doLeave());
          } else if (st === "reconnecting" && detail) this.state.info(`server connection lost (${detail}); reconnecting`);
        },
        onError: (m) => this.notifyError(m),
      });
      this.room = room;
      await room.start();
      this.state.update((s) => {
        s.userId = room.userId;
        s.deviceId = room.deviceId;
      });
      await this.engine.start();
      this.startTimers();
      // The server's TURN credentials expire: fetch fresh ones at half their lifetime.
      if (source === "server" && ttlSeconds > 0) this.scheduleIceRefresh(room, api, relayOnly, ttlSeconds / 2);
      log.info("voice joined", { channel: req.channelId, ice: describeIce(ice), relay_only: relayOnly });
    } catch (err) {
      this.room = undefined;
      await this.engine.stop();
      this.state.update((s) => {
        s.channelId = "";
        s.status = RoomStatus.IDLE;
        s.members = [];
      });
      const ce = err instanceof ConnectError ? err : ConnectError.from(err);
      this.notifyError(`join failed: ${ce.rawMessage}`);
      throw ce;
    }
  }

  /** Join's ICE servers, else the flags', else the server's; checked, and TURN probed. */
  private async iceConfig(
    api: ServerApi,
    fromJoin: readonly IceServer[],
    relayOnly: boolean,
  ): Promise<{ ice: IceConfig; source: "join" | "flags" | "server"; ttlSeconds: number }> {
    const { log, config } = this.d;
    let servers: IceServer[] = fromJoin.map((s) => ({ urls: [...s.urls], username: s.username, credential: s.credential }));
    let source: "join" | "flags" | "server" = "join";
    let ttlSeconds = 0;
    if (!servers.length && config.iceServers.length) [servers, source] = [config.iceServers, "flags"];
    if (!servers.length) {
      const res = await api.voice.getIceServers({});
      [servers, source, ttlSeconds] = [
        res.iceServers.map((s) => ({ urls: [...s.urls], username: s.username, credential: s.credential })),
        "server",
        res.ttlSeconds,
      ];
    }
    let ice: IceConfig;
    try {
      ice = resolveIceConfig(servers, relayOnly);
    } catch (err) {
      throw new ConnectError(err instanceof IceConfigError ? err.message : String(err), Code.FailedPrecondition);
    }
    for (const w of ice.warnings) {
      log.warn("ice config", { warning: w });
      this.state.info(w);
    }
    try {
      const picked = await selectIce(ice, this.d.probes);
      ice = picked.ice;
      for (const n of picked.notices) {
        log.warn("ice servers skipped", { notice: n });
        this.state.info(n);
      }
    } catch (err) {
      if (err instanceof NoUsableTurnError) throw new ConnectError(`relay-only: ${err.message}`, Code.FailedPrecondition);
      throw err;
    }
    log.info("ice config", {
      source,
      servers: describeIce(ice),
      candidates: describeIceList(ice),
      relay_only: relayOnly,
      ...(ttlSeconds ? { ttl_seconds: ttlSeconds } : {}),
    });
    return { ice, source, ttlSeconds };
  }

  private scheduleIceRefresh(room: VoiceRoom, api: ServerApi, relayOnly: boolean, inSeconds: number): void {
    clearTimeout(this.iceTimer);
    this.iceTimer = setTimeout(() => void this.refreshIce(room, api, relayOnly), Math.max(5, inSeconds) * 1000);
  }

  /**
   * Fresh TURN credentials from the server for new connections and, through an ICE restart,
   * for the connected ones (coturn refuses to refresh an allocation once its REST username
   * has expired, which would end a long call).
   */
  private async refreshIce(room: VoiceRoom, api: ServerApi, relayOnly: boolean): Promise<void> {
    if (this.room !== room) return;
    const { log } = this.d;
    try {
      const res = await api.voice.getIceServers({});
      const { ice, notices } = await selectIce(
        resolveIceConfig(
          res.iceServers.map((s) => ({ urls: [...s.urls], username: s.username, credential: s.credential })),
          relayOnly,
        ),
        this.d.probes,
      );
      if (this.room !== room) return;
      for (const n of notices) log.warn("ice servers skipped", { notice: n });
      room.updateIceServers(ice.servers);
      log.info("TURN credentials refreshed", { servers: describeIce(ice), ttl_seconds: res.ttlSeconds });
      if (res.ttlSeconds > 0) this.scheduleIceRefresh(room, api, relayOnly, res.ttlSeconds / 2);
    } catch (err) {
      const why = err instanceof ConnectError ? err.rawMessage : err instanceof Error ? err.message : String(err);
      log.warn("TURN credential refresh failed: retrying in 30 s", { error: why });
      if (this.room === room) this.scheduleIceRefresh(room, api, relayOnly, 30);
    }
  }

  private async doLeave(): Promise<void> {
    const room = this.room;
    this.room = undefined;
    this.stopTimers();
    await room?.leave();
    await this.engine.stop();
    this.state.update((s) => {
      s.channelId = "";
      s.status = RoomStatus.IDLE;
      s.members = [];
      s.speaking = false;
    });
    if (room) this.d.log.info("voice left", { channel: room.channelId });
  }

  /** Unmuting while deafened undeafens too (as Discord and Mumble do): an open microphone hears. */
  setMuted(muted: boolean): void {
    this.muted = muted;
    if (!muted && this.engine.deafened) this.setDeafened(false);
    this.speaking.muted = muted || this.engine.deafened;
    this.state.update((s) => (s.muted = muted));
    this.d.log.info("mute", { muted });
  }

  /** Deafened: nothing is played and the microphone is muted; undeafened: the chosen mute again. */
  setDeafened(deafened: boolean): void {
    this.engine.deafened = deafened;
    this.speaking.muted = this.muted || deafened;
    this.state.update((s) => (s.deafened = deafened));
    this.d.log.info("deafen", { deafened });
  }

  /** Merges playback volumes (user id → percent); 100 is the received level and is not kept. */
  setVolumes(req: SetVolumesRequest): void {
    const entries = Object.entries(req.percentByUser);
    for (const [userId, percent] of entries) {
      if (!UUID.test(userId)) throw invalid("percent_by_user", `key ${JSON.stringify(userId.slice(0, 40))} is not a user id`);
      if (!Number.isInteger(percent) || percent < 0 || percent > MAX_VOLUME_PERCENT)
        throw invalid(`percent_by_user[${userId}]`, `${percent} is not a percent from 0 to ${MAX_VOLUME_PERCENT}`);
    }
    for (const [userId, percent] of entries) {
      if (percent === 100) this.gains.delete(userId);
      else this.gains.set(userId, percent / 100);
    }
    this.state.update((s) => {
      s.volumes = Object.fromEntries([...this.gains].map(([id, g]) => [id, Math.round(g * 100)]));
    });
    this.d.log.info("volumes", { users: entries.length, set: this.gains.size });
  }

  async setPushToTalk(key: string): Promise<void> {
    await this.speaking.configure(key);
  }

  /** Rebuilds the member list from the room roster, the peers and the audio engine. */
  private refresh(): void {
    const room = this.room;
    const members = room?.members() ?? [];
    this.state.update((s) => {
      s.speaking = this.engine.speaking;
      s.inputLevel = this.engine.inputLevel;
      s.members = members.map((m) => {
        const st = this.engine.peerStats(m.deviceId);
        return {
          $typeName: "dialtone.voiced.v1.Member" as const,
          userId: m.userId,
          deviceId: m.deviceId,
          speaking: this.engine.isSpeaking(m.deviceId),
          connectionState: m.state ?? "waiting",
          candidateType: m.candidateType ?? "",
          ready: m.ready ?? false,
          packetsReceived: BigInt(st?.received ?? 0),
          packetsLost: BigInt(st?.lost ?? 0),
          jitterMs: Math.round(st?.jitterMs ?? 0),
        };
      });
    });
    this.engine.retainPeers(new Set(members.map((m) => m.deviceId)));
  }

  private sample(): StatsSample {
    return { counters: { ...this.engine.counters }, peers: this.engine.allPeerStats(), cpu: process.cpuUsage(), atMs: Date.now() };
  }

  private startTimers(): void {
    this.stopTimers();
    this.lastStats = this.sample();
    this.ticker = setInterval(() => {
      this.refresh();
      if (this.d.config.meter && Date.now() - this.lastMeter >= 1000) {
        this.lastMeter = Date.now();
        this.d.log.info("meter", { level: this.engine.inputLevel, threshold: this.d.config.vadThreshold, speaking: this.engine.speaking });
      }
    }, 1000);
    this.statsTimer = setInterval(() => {
      const cur = this.sample();
      if (this.lastStats) this.d.log.info("stats", statsFields(this.lastStats, cur));
      this.lastStats = cur;
    }, this.d.config.statsIntervalSeconds * 1000);
  }

  private stopTimers(): void {
    clearInterval(this.ticker);
    clearInterval(this.statsTimer);
    clearTimeout(this.iceTimer);
  }

  /** Leaves, closes the recording and the portal session. */
  async shutdown(): Promise<void> {
    await this.serial(() => this.doLeave());
    await this.engine.close();
    await this.speaking.close();
  }
}
