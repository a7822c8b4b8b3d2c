// One voice room from join to leave: who we are (GetSession), our own feed, VoiceService.Join
// tied to the feed's stream, the roster from the join answer and VoiceJoined/VoiceLeft, and the
// mesh that those drive. After a feed reconnect it joins again with the new stream id and
// renegotiates every peer (the others see us leave and come back, and do the same).
import { Code, ConnectError } from "@connectrpc/connect";
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import type { Logger } from "../log.js";
import { Mesh, type PeerSnapshot } from "../rtc/mesh.js";
import type { PeerFactory, PeerOptions, RtpIn } from "../rtc/peer.js";
import { Feed } from "./feed.js";
import type { ServerApi } from "./server-api.js";
import { SignalSealer } from "./signaling.js";

export interface RosterMember {
  userId: string;
  deviceId: string;
}

export type RoomStatus = "joining" | "joined" | "reconnecting" | "idle";

export interface RoomOptions {
  api: ServerApi;
  channelId: string;
  channelKey: Uint8Array;
  keyEpoch: number;
  peerFactory: PeerFactory;
  peerOptions: PeerOptions;
  log: Logger;
  onRtp(from: string, p: RtpIn): void;
  /** The roster or a peer changed. */
  onChange(): void;
  onStatus(s: RoomStatus, detail?: string): void;
  onError(message: string): void;
  /** How long to wait for the feed's first hello (default 10 s). */
  helloTimeoutMs?: number;
  /**
   * Tests only: hold each SDP answer this long before sending it, as a slow server or network
   * would (the offerer's relay then hears nothing from it for that long).
   */
  answerDelayMs?: number;
  /** The keep-alive interval of our media loop while silent, promised to peers (see Mesh). */
  keepAliveMs?: number;
}

export class VoiceRoom {
  userId = "";
  deviceId = "";
  private readonly roster = new Map<string, RosterMember>();
  private mesh: Mesh | undefined;
  private sealer: SignalSealer | undefined;
  private feed: Feed | undefined;
  private streamId: string | undefined;
  private leaving = false;
  private rejoinTimer: NodeJS.Timeout | undefined;
  private helloWaiter: ((id: string) => void) | undefined;
  private joinChain: Promise<void> = Promise.resolve();
  private peerOptions: PeerOptions;

  constructor(private readonly o: RoomOptions) {
    this.peerOptions = o.peerOptions;
  }

  /** Fresh ICE servers (TURN credentials): for every connection from now on, and by ICE restart for the current ones. */
  updateIceServers(servers: PeerOptions["iceServers"]): void {
    this.peerOptions = { ...this.peerOptions, iceServers: servers };
    this.mesh?.updateIceServers(servers, true);
  }

  get channelId(): string {
    return this.o.channelId;
  }

  /** Resolves once the room is joined; rejects with a ConnectError the IPC can pass on. */
  async start(): Promise<void> {
    const me = await this.o.api.auth.getSession({});
    this.userId = me.userId;
    this.deviceId = me.deviceId;
    this.sealer = new SignalSealer({ epoch: this.o.keyEpoch, key: this.o.channelKey }, this.o.channelId, this.deviceId);
    this.o.onStatus("joining");
    const firstHello = new Promise<string>((resolve, reject) => {
      this.helloWaiter = resolve;
      setTimeout(
        () => reject(new ConnectError("the server's event stream did not open in time", Code.Unavailable)),
        this.o.helloTimeoutMs ?? 10_000,
      ).unref();
    });
    let fatal: ((e: Error) => void) | undefined;
    const failed = new Promise<never>((_, reject) => (fatal = reject));
    failed.catch(() => {});
    this.feed = new Feed(this.o.api, {
      onHello: (id) => {
        if (this.helloWaiter) {
          const w = this.helloWaiter;
          this.helloWaiter = undefined;
          w(id);
        } else {
          this.o.log.info("feed reconnected: joining again");
          this.enqueueJoin(id);
        }
      },
      onEvent: (e) => this.onEvent(e),
      onDown: (reason, retryInMs) => {
        if (this.leaving) return;
        this.o.log.warn("feed down", { reason, retry_in_ms: retryInMs });
        this.o.onStatus("reconnecting", reason);
      },
      onFatal: (reason) => {
        this.o.log.warn("feed refused", { reason });
        this.o.onError(`the server refused the session: ${reason}`);
        this.o.onStatus("idle", reason);
        fatal?.(new ConnectError(`the server refused the session: ${reason}`, Code.Unauthenticated));
        void this.shutdown();
      },
    });
    try {
      const id = await Promise.race([firstHello, failed]);
      await this.join(id);
    } catch (err) {
      await this.shutdown();
      throw err;
    }
  }

  private enqueueJoin(streamId: string) {
    this.joinChain = this.joinChain
      .then(() => this.join(streamId))
      .catch((err: unknown) => {
        const ce = ConnectError.from(err);
        this.o.log.warn("join failed", { code: Code[ce.code], error: ce.rawMessage });
        this.o.onError(`joining the voice room failed: ${ce.rawMessage}`);
        if (ce.code === Code.NotFound || ce.code === Code.PermissionDenied) {
          this.o.onStatus("idle", ce.rawMessage);
          void this.shutdown();
        }
      });
  }

  /** Joins with this stream: a fresh mesh, then the roster from the server's answer. */
  private async join(streamId: string): Promise<void> {
    if (this.leaving) return;
    this.streamId = streamId;
    await this.mesh?.close();
    this.mesh = this.newMesh();
    this.roster.clear();
    const res = await this.o.api.voice.join({ channelId: this.o.channelId, streamId });
    if (this.leaving || this.streamId !== streamId) return;
    for (const m of res.members) this.roster.set(m.deviceId, { userId: m.userId, deviceId: m.deviceId });
    this.mesh.setMembers(this.roster.keys());
    this.o.log.info("joined voice room", { channel: this.o.channelId, members: res.members.length });
    this.o.onStatus("joined");
    this.o.onChange();
  }

  private newMesh(): Mesh {
    return new Mesh(
      {
        localDeviceId: this.deviceId,
        factory: this.o.peerFactory,
        peerOptions: this.peerOptions,
        ...(this.o.keepAliveMs ? { keepAliveMs: this.o.keepAliveMs } : {}),
      },
      {
        send: async (to, msg) => {
          if (msg.t === "answer" && this.o.answerDelayMs) await new Promise((r) => setTimeout(r, this.o.answerDelayMs));
          const sealed = await this.sealer!.seal(to, msg);
          await this.o.api.voice.signal({
            channelId: this.o.channelId,
            recipientDeviceId: to,
            encryptedPayload: sealed,
            keyEpoch: this.sealer!.epoch,
          });
        },
        onRtp: (from, p) => this.o.onRtp(from, p),
        onChange: () => this.o.onChange(),
        log: (level, msg, fields) => this.o.log[level](msg, fields),
      },
    );
  }

  private onEvent(e: Event): void {
    const p = e.payload;
    if (p.case === "voiceSignal") {
      const s = p.value;
      if (s.channelId !== this.o.channelId || s.recipientDeviceId !== this.deviceId || !this.sealer) return;
      const mesh = this.mesh;
      this.sealer.open(s.senderDeviceId, s.encryptedPayload).then(
        (msg) => mesh === this.mesh && mesh?.handleSignal(s.senderDeviceId, msg),
        (err: unknown) =>
          this.o.log.warn("dropped a signal that does not open", {
            from: s.senderDeviceId,
            error: err instanceof Error ? err.message : String(err),
          }),
      );
      return;
    }
    if (p.case !== "voiceJoined" && p.case !== "voiceLeft") return;
    const m = p.value.member;
    if (!m || m.channelId !== this.o.channelId) {
      // A device of ours joining another room means this membership moved away.
      if (m && m.deviceId === this.deviceId && p.case === "voiceJoined") this.checkSelf();
      return;
    }
    if (m.deviceId === this.deviceId) {
      if (p.case === "voiceJoined") clearTimeout(this.rejoinTimer);
      else this.checkSelf();
      return;
    }
    if (p.case === "voiceJoined") {
      this.roster.set(m.deviceId, { userId: m.userId, deviceId: m.deviceId });
      this.mesh?.add(m.deviceId);
    } else {
      this.roster.delete(m.deviceId);
      this.mesh?.remove(m.deviceId);
    }
    this.o.onChange();
  }

  /**
   * We were announced as leaving. A re-join announces leave-then-join, so wait a moment: if
   * no join of ours follows, the server dropped us (room closed, joined elsewhere): join again,
   * which also tells us why when it fails.
   */
  private checkSelf(): void {
    if (this.leaving) return;
    clearTimeout(this.rejoinTimer);
    this.rejoinTimer = setTimeout(() => {
      if (this.leaving || !this.streamId) return;
      this.o.log.info("removed from the voice room by the server: joining again");
      this.enqueueJoin(this.streamId);
    }, 1500);
  }

  /** The account of a device in the room (for its playback volume). */
  userOf(deviceId: string): string | undefined {
    return this.roster.get(deviceId)?.userId;
  }

  members(): Array<RosterMember & Partial<PeerSnapshot>> {
    const peers = new Map((this.mesh?.snapshot() ?? []).map((p) => [p.deviceId, p]));
    return [...this.roster.values()].filter((m) => m.deviceId !== this.deviceId).map((m) => ({ ...m, ...peers.get(m.deviceId) }));
  }

  sendRtp(payload: Uint8Array, seq: number, timestamp: number, marker: boolean): number {
    return this.mesh?.sendRtp(payload, seq, timestamp, marker) ?? 0;
  }

  /** Leaves the room on the server (best effort), closes every peer and the feed. */
  async leave(): Promise<void> {
    if (this.leaving) return;
    this.leaving = true;
    clearTimeout(this.rejoinTimer);
    if (this.streamId) await this.o.api.voice.leave({ channelId: this.o.channelId }, { timeoutMs: 3000 }).catch(() => {});
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    this.leaving = true;
    clearTimeout(this.rejoinTimer);
    const mesh = this.mesh;
    this.mesh = undefined;
    await mesh?.close();
    await this.feed?.stop();
    this.roster.clear();
  }
}
