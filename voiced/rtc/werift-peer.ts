// Peer over werift: one sendrecv Opus transceiver, trickle candidates out, RTP in and out, and
// ICE restarts in place (werift 0.25 needs a nudge for those: see resumeIce).
import type { IceServer } from "./ice-config.js";
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket, useOPUS, type RTCRtpTransceiver } from "werift";
import type { CandidateInit, Peer, PeerFactory, PeerOptions, PeerState, RtpIn } from "./peer.js";
import { permitOwnRelay, releaseTurnAllocations } from "./turn.js";

class WeriftPeer implements Peer {
  private readonly pc: RTCPeerConnection;
  private readonly track = new MediaStreamTrack({ kind: "audio" });
  private transceiver: RTCRtpTransceiver | undefined;
  private payloadType = 111;
  private closed = false;
  private restarting = false;
  private ownState: PeerState = "new";
  private readonly stateCbs: Array<(s: PeerState) => void> = [];

  constructor(o: PeerOptions) {
    this.pc = new RTCPeerConnection({
      // Always our own list: werift's default is a public STUN server.
      iceServers: weriftIceServers(o.iceServers),
      iceTransportPolicy: o.relayOnly ? "relay" : "all",
      codecs: { audio: [useOPUS()], video: [] },
      ...(o.portRange ? { icePortRange: o.portRange } : {}),
    });
    this.pc.connectionStateChange.subscribe((st) => this.setState(st));
  }

  private setState(st: PeerState, always = false) {
    if (st === this.ownState && !always) return;
    this.ownState = st;
    for (const cb of this.stateCbs) cb(st);
  }

  private attach(t: RTCRtpTransceiver) {
    this.transceiver = t;
    this.payloadType = t.sender.codec?.payloadType ?? this.payloadType;
  }

  async createOffer(): Promise<string> {
    this.attach(this.pc.addTransceiver(this.track, { direction: "sendrecv" }));
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await permitOwnRelay(this.pc);
    return this.pc.localDescription!.sdp;
  }

  async acceptOffer(sdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: "offer", sdp });
    const t = this.pc.getTransceivers().find((x) => x.kind === "audio");
    if (!t) throw new Error("offer has no audio section");
    await t.sender.replaceTrack(this.track);
    t.setDirection("sendrecv");
    this.attach(t);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await permitOwnRelay(this.pc);
    this.payloadType = t.sender.codec?.payloadType ?? this.payloadType;
    return this.pc.localDescription!.sdp;
  }

  async acceptAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    if (this.transceiver) this.payloadType = this.transceiver.sender.codec?.payloadType ?? this.payloadType;
    if (this.restarting) this.resumeIce();
  }

  async restartIce(iceServers?: IceServer[]): Promise<string> {
    this.restarting = true;
    const offer = await this.pc.createOffer({ iceRestart: true });
    // werift applies new ICE servers only to a gatherer that has not gathered in this
    // generation: after createOffer reset it, before setLocalDescription gathers again.
    if (iceServers) this.pc.setConfiguration({ iceServers: weriftIceServers(iceServers) });
    await this.pc.setLocalDescription(offer);
    await permitOwnRelay(this.pc);
    return this.pc.localDescription!.sdp;
  }

  async acceptRestart(sdp: string, iceServers?: IceServer[]): Promise<string> {
    this.restarting = true;
    await this.pc.setRemoteDescription({ type: "offer", sdp }); // new ufrag: werift restarts ICE here
    if (iceServers) this.pc.setConfiguration({ iceServers: weriftIceServers(iceServers) });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await permitOwnRelay(this.pc);
    this.resumeIce();
    return this.pc.localDescription!.sdp;
  }

  /**
   * werift 0.25 restarts the ICE agent on a restart but its connect() returns early while DTLS
   * is up, so no connectivity checks run and media stops: start the checks on each transport
   * ourselves. DTLS carries on over the newly nominated pair.
   */
  private resumeIce(): void {
    this.restarting = false;
    for (const t of this.pc.iceTransports) {
      // Started already (werift does when DTLS is not up), or never restarted: leave it.
      if (t.state === "closed" || t.state === "checking" || t.state === "connected") continue;
      t.start().then(
        () => !this.closed && this.setState("connected", true),
        () => !this.closed && this.setState("failed", true),
      );
    }
  }

  async addRemoteCandidate(c: CandidateInit): Promise<void> {
    await this.pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null });
  }

  onLocalCandidate(cb: (c: CandidateInit) => void): void {
    this.pc.onIceCandidate.subscribe((c) => {
      if (!c?.candidate) return;
      const j = c.toJSON();
      cb({
        candidate: j.candidate,
        ...(j.sdpMid ? { sdpMid: j.sdpMid } : {}),
        ...(typeof j.sdpMLineIndex === "number" ? { sdpMLineIndex: j.sdpMLineIndex } : {}),
      });
    });
  }

  onStateChange(cb: (s: PeerState) => void): void {
    this.stateCbs.push(cb);
  }

  onRtp(cb: (p: RtpIn) => void): void {
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((p) =>
        cb({ seq: p.header.sequenceNumber, timestamp: p.header.timestamp, marker: p.header.marker, payload: p.payload }),
      );
    });
  }

  sendRtp(payload: Uint8Array, seq: number, timestamp: number, marker: boolean): void {
    if (this.closed) return;
    const header = new RtpHeader({ payloadType: this.payloadType, sequenceNumber: seq & 0xffff, timestamp: timestamp >>> 0, marker });
    this.track.writeRtp(new RtpPacket(header, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)));
  }

  get state(): PeerState {
    return this.ownState;
  }

  async selectedCandidateType(): Promise<string | undefined> {
    const report = await this.pc.getStats();
    const stats = [...report.values()] as unknown as Array<Record<string, unknown>>;
    const pair =
      stats.find((s) => s.type === "candidate-pair" && (s.nominated === true || s.selected === true) && s.state === "succeeded") ??
      stats.find((s) => s.type === "candidate-pair" && s.nominated === true);
    const local = pair && stats.find((s) => s.id === pair.localCandidateId);
    return local ? String(local.candidateType) : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await releaseTurnAllocations(this.pc).catch(() => {});
    await this.pc.close();
  }
}

function weriftIceServers(servers: readonly IceServer[]) {
  return servers.map((s) => ({
    urls: s.urls,
    ...(s.username ? { username: s.username } : {}),
    ...(s.credential ? { credential: s.credential } : {}),
  }));
}

export const weriftPeerFactory: PeerFactory = (o) => new WeriftPeer(o);
