// The full mesh: one Peer per remote device of the room. Glare-free (the device with the lower
// id offers, the other only answers), trickle ICE with remote candidates buffered until the
// remote description is set, a "ready" handshake before audio is sent. A failed connection first
// gets an ICE restart in place (same connection and DTLS session, new ICE credentials and TURN
// allocation); when that does not bring it back, a fresh connection with backoff replaces it.
// Fresh TURN credentials reach new peers at once and connected ones through an ICE restart.
import { randomBytes } from "node:crypto";
import type { IceServer } from "./ice-config.js";
import type { CandidateInit, Peer, PeerFactory, PeerOptions, PeerState, RtpIn } from "./peer.js";
import type { SignalMessage } from "./signal.js";

export interface MeshEvents {
  /** Sends a signal to one device (sealed and relayed by the caller). */
  send(to: string, msg: SignalMessage): Promise<void>;
  onRtp(from: string, p: RtpIn): void;
  /** Something about a peer changed (state, readiness, candidate type): refresh the roster. */
  onChange(deviceId: string): void;
  log(level: "debug" | "info" | "warn", msg: string, fields?: Record<string, unknown>): void;
}

export interface MeshOptions {
  localDeviceId: string;
  factory: PeerFactory;
  peerOptions: PeerOptions;
  /** How long "disconnected" may last before reconnecting (default 5 s). */
  disconnectGraceMs?: number;
  /** How long an offer may wait for its answer, or a connection for "connected" (default 15 s). */
  connectTimeoutMs?: number;
  /**
   * At most one in-place ICE restart per peer in this window (default 30 s); other failures get a
   * fresh connection with backoff. Without it, a restart whose checks fail at once (a loaded
   * machine, candidates not trickled in yet) was answered by another restart, in a loop.
   */
  iceRestartIntervalMs?: number;
  /**
   * The keep-alive interval we promise in "ready": while not speaking we still send a small
   * packet this often, so that a peer hearing nothing knows the path is broken. 0: we do not.
   */
  keepAliveMs?: number;
  /**
   * A ready peer that promised keep-alives and sent nothing for this long gets an ICE restart
   * (default 3 s; at least 3 of its keep-alive intervals). werift itself notices a dead path
   * only when ICE consent expires, 30 s later.
   */
  stallTimeoutMs?: number;
  /** How often the receive watchdog looks (default 500 ms). */
  watchdogIntervalMs?: number;
  now?: () => number;
}

/**
 * The receive watchdog's rule: a peer is stalled when both sides are ready, it promised
 * keep-alives, and nothing came from it for `timeoutMs` since it became ready or since its last
 * packet, whichever is later.
 */
export function receiveStalled(x: {
  ready: boolean;
  remoteKeepAliveMs: number;
  readyAt: number;
  lastRtpAt: number;
  now: number;
  timeoutMs: number;
}): boolean {
  if (!x.ready || !(x.remoteKeepAliveMs > 0)) return false;
  const timeout = Math.max(x.timeoutMs, 3 * x.remoteKeepAliveMs);
  return x.now - Math.max(x.readyAt, x.lastRtpAt) >= timeout;
}

export interface PeerSnapshot {
  deviceId: string;
  state: PeerState | "waiting";
  ready: boolean;
  candidateType: string | undefined;
}

const newSid = () => randomBytes(12).toString("base64url");

/**
 * The candidates a description already carries ("candidate:…", as trickled). werift puts every
 * candidate it gathered into the description and also reports each one, and it pairs a
 * candidate added twice twice (it compares candidate objects): the duplicate pair's checks and
 * the nominating ones then land on different pairs. So those are not trickled again, nor added.
 */
export function sdpCandidates(sdp: string): Set<string> {
  return new Set([...sdp.matchAll(/^a=(candidate:[^\r\n]*)/gm)].map((m) => m[1]!.trim()));
}
const MAX_EARLY = 64;

class RemotePeer {
  sid: string | undefined;
  peer: Peer | undefined;
  remoteDescriptionSet = false;
  descriptionSent = false;
  pendingRemote: CandidateInit[] = [];
  pendingLocal: CandidateInit[] = [];
  /** Candidates in the description we sent, and in the one we received (see sdpCandidates). */
  localInSdp = new Set<string>();
  remoteInSdp = new Set<string>();
  /** Candidates for a connection whose offer has not arrived yet, by sid. */
  early = new Map<string, CandidateInit[]>();
  localConnected = false;
  remoteReady = false;
  candidateType: string | undefined;
  /** The keep-alive interval the remote promised in its "ready" (0: none, an older daemon). */
  remoteKeepAliveMs = 0;
  /** When the connection last became ready (either side's readiness), and when RTP last came. */
  readyAt = 0;
  lastRtpAt = 0;
  /** The watchdog acted on this readiness already: not again until the connection is ready anew. */
  stallHandled = false;
  attempts = 0;
  /** In-place ICE restarts tried since the connection was last up (one is tried, then a fresh connection). */
  iceRestarts = 0;
  /** An ICE restart is under way: the connection is not usable until it reports "connected" again. */
  restarting = false;
  /** When the last in-place ICE restart began (either side); kept across fresh connections. */
  lastIceRestartAt = 0;
  timer: NodeJS.Timeout | undefined;
  closed = false;
  /** Signals are handled one at a time, in order. */
  queue: Promise<void> = Promise.resolve();

  constructor(
    readonly deviceId: string,
    readonly offerer: boolean,
  ) {}

  get ready(): boolean {
    return this.localConnected && this.remoteReady && this.peer?.state === "connected";
  }
}

export class Mesh {
  private readonly peers = new Map<string, RemotePeer>();
  private closed = false;
  private peerOptions: PeerOptions;
  private readonly now: () => number;
  private readonly watchdog: NodeJS.Timeout;

  constructor(
    private readonly o: MeshOptions,
    private readonly ev: MeshEvents,
  ) {
    this.peerOptions = o.peerOptions;
    this.now = o.now ?? Date.now;
    this.watchdog = setInterval(() => this.checkStalls(), o.watchdogIntervalMs ?? 500);
    this.watchdog.unref();
  }

  /**
   * New ICE servers (fresh TURN credentials): used by every connection made from now on and,
   * with `restart`, brought to the connected ones by an ICE restart (the answerer asks the
   * offerer for one) before the credentials their allocations were made with expire.
   */
  updateIceServers(servers: IceServer[], restart: boolean): void {
    this.peerOptions = { ...this.peerOptions, iceServers: servers };
    if (!restart || this.closed) return;
    for (const r of this.peers.values()) {
      if (!r.peer || !r.remoteDescriptionSet || r.restarting || !r.sid) continue;
      if (r.offerer) this.enqueue(r, () => this.restartIce(r, "fresh TURN credentials"));
      else void this.signal(r, { t: "restart", sid: r.sid, reason: "refresh" });
    }
  }

  /** Makes the set of remote devices exactly `deviceIds` (ours is skipped). */
  setMembers(deviceIds: Iterable<string>): void {
    const want = new Set([...deviceIds].filter((d) => d !== this.o.localDeviceId));
    for (const id of [...this.peers.keys()]) if (!want.has(id)) this.remove(id);
    for (const id of want) this.add(id);
  }

  add(deviceId: string): void {
    if (this.closed || deviceId === this.o.localDeviceId || this.peers.has(deviceId)) return;
    const r = new RemotePeer(deviceId, this.o.localDeviceId < deviceId);
    this.peers.set(deviceId, r);
    this.ev.onChange(deviceId);
    if (r.offerer) this.enqueue(r, () => this.offer(r));
  }

  remove(deviceId: string): void {
    const r = this.peers.get(deviceId);
    if (!r) return;
    this.peers.delete(deviceId);
    r.closed = true;
    clearTimeout(r.timer);
    void this.teardown(r);
    this.ev.onChange(deviceId);
  }

  handleSignal(from: string, msg: SignalMessage): void {
    if (this.closed || from === this.o.localDeviceId) return;
    let r = this.peers.get(from);
    if (!r) {
      // An offer may beat the roster event that announces its sender; the server has already
      // checked that the sender is in our room.
      if (msg.t !== "offer") return;
      this.add(from);
      r = this.peers.get(from)!;
    }
    const peer = r;
    this.enqueue(peer, () => this.onSignal(peer, msg));
  }

  /** Sends one Opus packet to every peer that is ready for it. */
  sendRtp(payload: Uint8Array, seq: number, timestamp: number, marker: boolean): number {
    let n = 0;
    for (const r of this.peers.values()) {
      if (!r.ready) continue;
      r.peer!.sendRtp(payload, seq, timestamp, marker);
      n++;
    }
    return n;
  }

  snapshot(): PeerSnapshot[] {
    return [...this.peers.values()].map((r) => ({
      deviceId: r.deviceId,
      state: r.peer ? r.peer.state : "waiting",
      ready: r.ready,
      candidateType: r.candidateType,
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    const all = [...this.peers.values()];
    this.peers.clear();
    await Promise.all(
      all.map((r) => {
        r.closed = true;
        clearTimeout(r.timer);
        return this.teardown(r);
      }),
    );
  }

  private enqueue(r: RemotePeer, job: () => Promise<void>): void {
    r.queue = r.queue.then(job).catch((err: unknown) => {
      this.ev.log("warn", "peer negotiation failed", { peer: r.deviceId, error: err instanceof Error ? err.message : String(err) });
      this.scheduleReconnect(r);
    });
  }

  private async teardown(r: RemotePeer): Promise<void> {
    const peer = r.peer;
    r.peer = undefined;
    r.sid = undefined;
    r.remoteDescriptionSet = false;
    r.descriptionSent = false;
    r.pendingRemote = [];
    r.pendingLocal = [];
    r.localInSdp = new Set();
    r.remoteInSdp = new Set();
    r.localConnected = false;
    r.remoteReady = false;
    r.candidateType = undefined;
    r.restarting = false;
    r.iceRestarts = 0;
    r.remoteKeepAliveMs = 0;
    r.stallHandled = false;
    await peer?.close().catch(() => {});
  }

  private createPeer(r: RemotePeer, sid: string): Peer {
    const peer = this.o.factory(this.peerOptions);
    r.peer = peer;
    r.sid = sid;
    const current = () => r.peer === peer && !r.closed;
    peer.onLocalCandidate((c) => {
      if (!current()) return;
      // Trickled candidates wait until our description is on its way (werift finds some
      // while setLocalDescription is still running).
      if (!r.descriptionSent) r.pendingLocal.push(c);
      else if (!r.localInSdp.has(c.candidate.trim())) void this.signal(r, { t: "candidate", sid, c });
    });
    peer.onRtp((p) => {
      if (!current()) return;
      r.lastRtpAt = this.now();
      this.ev.onRtp(r.deviceId, p);
    });
    peer.onStateChange((s) => {
      if (!current()) return;
      this.ev.log("info", "peer state", { peer: r.deviceId, state: s });
      this.onState(r, peer, sid, s);
      this.ev.onChange(r.deviceId);
    });
    return peer;
  }

  private onState(r: RemotePeer, peer: Peer, sid: string, s: PeerState): void {
    clearTimeout(r.timer);
    r.timer = undefined;
    if (s === "connected") {
      if (r.restarting || r.iceRestarts > 0) this.ev.log("info", "ICE restart completed", { peer: r.deviceId });
      r.localConnected = true;
      r.attempts = 0;
      r.iceRestarts = 0;
      r.restarting = false;
      this.readied(r);
      void this.signal(r, { t: "ready", sid, ...(this.o.keepAliveMs ? { ka: this.o.keepAliveMs } : {}) });
      void peer.selectedCandidateType().then(
        (t) => {
          if (r.peer !== peer) return;
          r.candidateType = t;
          if (this.peerOptions.relayOnly && t && t !== "relay") {
            this.ev.log("warn", "relay-only connection selected a non-relay candidate", { peer: r.deviceId, type: t });
          }
          this.ev.onChange(r.deviceId);
        },
        () => {},
      );
    } else if (s === "failed") {
      r.localConnected = false;
      r.restarting = false;
      this.reconnect(r, peer);
    } else if (s === "disconnected") {
      r.localConnected = false;
      r.timer = setTimeout(
        () => r.peer === peer && peer.state !== "connected" && this.reconnect(r, peer),
        this.o.disconnectGraceMs ?? 5000,
      );
    }
  }

  /** One side became ready: the watchdog's silence is counted from now. */
  private readied(r: RemotePeer): void {
    r.readyAt = this.now();
    r.stallHandled = false;
  }

  /**
   * The receive watchdog: a path through TURN can die without werift noticing for 30 s (until
   * ICE consent expires), the connection still "connected". A ready peer that promised
   * keep-alives and sent nothing for the stall timeout is handled as a failed connection.
   */
  private checkStalls(): void {
    if (this.closed) return;
    const now = this.now();
    for (const r of this.peers.values()) {
      if (r.stallHandled || r.closed || !r.peer) continue;
      const stalled = receiveStalled({
        ready: r.ready && !r.restarting,
        remoteKeepAliveMs: r.remoteKeepAliveMs,
        readyAt: r.readyAt,
        lastRtpAt: r.lastRtpAt,
        now,
        timeoutMs: this.o.stallTimeoutMs ?? 3000,
      });
      if (!stalled) continue;
      r.stallHandled = true;
      this.ev.log("warn", "peer sends nothing: restarting ICE", { peer: r.deviceId, silent_ms: now - Math.max(r.readyAt, r.lastRtpAt) });
      this.reconnect(r, r.peer);
    }
  }

  /** A failed connection: the offerer restarts ICE (or starts afresh); the answerer asks it to. */
  private reconnect(r: RemotePeer, peer: Peer): void {
    if (r.closed || r.peer !== peer) return;
    if (r.offerer) {
      if (this.canRestartIce(r)) this.enqueue(r, () => this.restartIce(r, "connection failed"));
      else this.scheduleReconnect(r);
    } else if (r.sid) {
      void this.signal(r, { t: "restart", sid: r.sid });
      this.armTimeout(r, peer);
    }
  }

  private scheduleReconnect(r: RemotePeer): void {
    if (r.closed || this.closed) return;
    clearTimeout(r.timer);
    const delay = Math.min(30_000, 500 * 2 ** r.attempts++);
    this.ev.log("info", "peer reconnect scheduled", { peer: r.deviceId, in_ms: delay, offerer: r.offerer });
    r.timer = setTimeout(() => {
      if (r.closed) return;
      if (r.offerer) this.enqueue(r, () => this.offer(r));
      else if (r.sid) void this.signal(r, { t: "restart", sid: r.sid });
    }, delay);
  }

  /** Reconnects when a connection is not up in time (lost offer, unreachable TURN, ...). */
  private armTimeout(r: RemotePeer, peer: Peer): void {
    clearTimeout(r.timer);
    r.timer = setTimeout(() => {
      if (r.peer !== peer || r.closed || (peer.state === "connected" && !r.restarting)) return;
      this.ev.log("info", "peer connection timed out", { peer: r.deviceId, state: peer.state });
      if (r.offerer) this.scheduleReconnect(r);
      else if (r.sid) {
        void this.signal(r, { t: "restart", sid: r.sid });
        this.armTimeout(r, peer);
      }
    }, this.o.connectTimeoutMs ?? 15_000);
  }

  private canRestartIce(r: RemotePeer): boolean {
    const recent = Date.now() - r.lastIceRestartAt < (this.o.iceRestartIntervalMs ?? 30_000);
    return !!r.peer && !!r.sid && r.remoteDescriptionSet && !r.restarting && r.iceRestarts === 0 && !recent;
  }

  /** ICE restart in place (offerer): a new offer for the same sid, on the same connection. */
  private async restartIce(r: RemotePeer, why: string): Promise<void> {
    const peer = r.peer;
    const sid = r.sid;
    if (r.closed || !peer || !sid || r.restarting) return;
    this.beginRestart(r);
    r.iceRestarts++;
    r.remoteDescriptionSet = false;
    r.pendingRemote = [];
    this.ev.log("info", "ICE restart", { peer: r.deviceId, reason: why });
    this.armTimeout(r, peer);
    const sdp = await peer.restartIce(this.peerOptions.iceServers);
    if (r.peer !== peer) return;
    this.checkRelay(sdp, r);
    await this.describe(r, { t: "offer", sid, sdp });
    this.ev.onChange(r.deviceId);
  }

  /** No audio and no trickling until the restarted connection is described and up again. */
  private beginRestart(r: RemotePeer): void {
    r.restarting = true;
    r.lastIceRestartAt = Date.now();
    r.descriptionSent = false;
    r.pendingLocal = [];
    r.localConnected = false;
    r.remoteReady = false;
    this.ev.onChange(r.deviceId);
  }

  private async offer(r: RemotePeer): Promise<void> {
    if (r.closed) return;
    await this.teardown(r);
    const sid = newSid();
    const peer = this.createPeer(r, sid);
    this.armTimeout(r, peer);
    const sdp = await peer.createOffer();
    if (r.peer !== peer) return;
    this.checkRelay(sdp, r);
    await this.describe(r, { t: "offer", sid, sdp });
    this.ev.onChange(r.deviceId);
  }

  /** Sends our description, then the candidates found meanwhile. */
  private async describe(r: RemotePeer, msg: SignalMessage & { sid: string }): Promise<void> {
    await this.signal(r, msg);
    r.descriptionSent = true;
    r.localInSdp = msg.t === "offer" || msg.t === "answer" ? sdpCandidates(msg.sdp) : new Set();
    const queued = r.pendingLocal.filter((c) => !r.localInSdp.has(c.candidate.trim()));
    r.pendingLocal = [];
    for (const c of queued) await this.signal(r, { t: "candidate", sid: msg.sid, c });
  }

  /** werift falls back to host candidates when TURN fails, even when told relay only: refuse that. */
  private checkRelay(sdp: string, r: RemotePeer): void {
    if (!this.peerOptions.relayOnly) return;
    if (!/ typ relay/.test(sdp) && !r.pendingLocal.some((c) => / typ relay/.test(c.candidate))) {
      throw new Error("relay-only: no relay candidate was gathered (is the TURN server reachable and are its credentials valid?)");
    }
  }

  private async onSignal(r: RemotePeer, msg: SignalMessage): Promise<void> {
    if (r.closed) return;
    switch (msg.t) {
      case "offer": {
        if (r.offerer) {
          // Both sides think they offer: cannot happen with the id rule unless ids disagree.
          this.ev.log("warn", "ignoring an offer from a device we offer to", { peer: r.deviceId });
          return;
        }
        if (r.peer && msg.sid === r.sid && r.remoteDescriptionSet) {
          // The same connection again: an ICE restart.
          const peer = r.peer;
          this.beginRestart(r);
          this.ev.log("info", "ICE restart", { peer: r.deviceId, reason: "asked by the offerer" });
          this.armTimeout(r, peer);
          r.remoteInSdp = sdpCandidates(msg.sdp);
          const answer = await peer.acceptRestart(msg.sdp, this.peerOptions.iceServers);
          if (r.peer !== peer) return;
          this.checkRelay(answer, r);
          await this.describe(r, { t: "answer", sid: msg.sid, sdp: answer });
          this.ev.onChange(r.deviceId);
          return;
        }
        await this.teardown(r);
        const peer = this.createPeer(r, msg.sid);
        this.armTimeout(r, peer);
        r.remoteInSdp = sdpCandidates(msg.sdp);
        const answer = await peer.acceptOffer(msg.sdp);
        if (r.peer !== peer) return;
        r.remoteDescriptionSet = true;
        const early = (r.early.get(msg.sid) ?? []).filter((c) => !r.remoteInSdp.has(c.candidate.trim()));
        r.early.clear();
        for (const c of early) await peer.addRemoteCandidate(c).catch(() => {});
        this.checkRelay(answer, r);
        await this.describe(r, { t: "answer", sid: msg.sid, sdp: answer });
        this.ev.onChange(r.deviceId);
        return;
      }
      case "answer": {
        if (!r.offerer || msg.sid !== r.sid || !r.peer || r.remoteDescriptionSet) return;
        r.remoteInSdp = sdpCandidates(msg.sdp);
        await r.peer.acceptAnswer(msg.sdp);
        r.remoteDescriptionSet = true;
        const buffered = r.pendingRemote.filter((c) => !r.remoteInSdp.has(c.candidate.trim()));
        r.pendingRemote = [];
        for (const c of buffered) await r.peer.addRemoteCandidate(c).catch(() => {});
        return;
      }
      case "candidate": {
        if (msg.sid === r.sid && r.peer) {
          if (!r.remoteDescriptionSet) r.pendingRemote.push(msg.c);
          else if (!r.remoteInSdp.has(msg.c.candidate.trim())) await r.peer.addRemoteCandidate(msg.c).catch(() => {});
        } else if (!r.offerer) {
          // For an offer still on its way: keep them until it arrives.
          const list = r.early.get(msg.sid) ?? [];
          if (list.length < MAX_EARLY) list.push(msg.c);
          r.early.set(msg.sid, list);
        }
        return;
      }
      case "ready":
        if (msg.sid === r.sid) {
          r.remoteReady = true;
          r.remoteKeepAliveMs = msg.ka ?? 0;
          this.readied(r);
          this.ev.onChange(r.deviceId);
        }
        return;
      case "restart":
        if (!r.offerer || msg.sid !== r.sid || r.restarting) return;
        if (this.canRestartIce(r)) await this.restartIce(r, "asked by the answerer");
        else if (msg.reason === "refresh" && r.peer?.state === "connected") {
          // We restarted moments ago (for our own fresh credentials): the connection is up.
          this.ev.log("info", "ICE restart for fresh credentials skipped: restarted moments ago", { peer: r.deviceId });
        } else {
          this.ev.log("info", "peer asked for a fresh connection", { peer: r.deviceId });
          await this.offer(r);
        }
        return;
    }
  }

  private async signal(r: RemotePeer, msg: SignalMessage): Promise<void> {
    if (r.closed) return;
    try {
      await this.ev.send(r.deviceId, msg);
    } catch (err) {
      this.ev.log("debug", "signal not delivered", {
        peer: r.deviceId,
        type: msg.t,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
