// The media loop, one 20 ms slot at a time: capture → noise suppression and automatic gain →
// speaking gate (PTT/VAD/mute, with the VAD's attack frames sent as pre-roll) → Opus → RTP to
// every ready peer; and per remote device: jitter buffer → decode/conceal → mix of all speakers
// → per-user volume and mix of all speakers (silence while deafened) → playback and --record.
import type { AudioEncoder, Codec } from "../codec/codec.js";
import { mixFrames } from "../codec/mixer.js";
import { PeerPlayout, type PlayoutStats } from "../codec/playout.js";
import type { Logger } from "../log.js";
import type { SpeakingControl } from "../ptt/speaking.js";
import type { RtpIn } from "../rtc/peer.js";
import type { AudioBackend, AudioOutput } from "./backend.js";
import { nullOutput } from "./backend.js";
import { AutoGain } from "./agc.js";
import { Capture } from "./capture.js";
import type { Denoiser, DenoiserFactory } from "./denoise.js";
import { MediaClock } from "./clock.js";
import { FRAME_MS, FRAME_SAMPLES, frameLevel, silentFrame, type Frame } from "./format.js";
import { WavRecorder } from "./wav.js";

/** A remote device counts as speaking this long after its last audio packet. */
const SPEAKING_HOLD_MS = 400;

/**
 * While not speaking (VAD or PTT silence, or muted) a keep-alive goes out this often: a
 * TOC-only Opus packet (a DTX frame, RFC 6716 §3.2.1: no audio), so that the receiving side can
 * tell a silent peer from a broken path (its watchdog restarts ICE after ~3 s of nothing).
 */
export const KEEPALIVE_MS = 300;
const KEEPALIVE_SLOTS = KEEPALIVE_MS / FRAME_MS;
/** TOC byte: config 9 (SILK WB, 20 ms), mono, one frame; with no frame data it decodes as nothing. */
const KEEPALIVE_PAYLOAD = new Uint8Array([9 << 3]);
/** Packets this short carry no audio: keep-alives (and other senders' DTX frames). */
export const isKeepAlive = (payload: Uint8Array): boolean => payload.length <= 2;

export interface EngineCounters {
  framesSent: number;
  /** Opus bytes encoded and sent (once per frame, however many peers). */
  bytesSent: number;
  /** Opus bytes put on the wire: each frame once per peer that got it (the mesh's upload). */
  bytesSentToPeers: number;
  /** Frames not sent because we were not speaking (or muted). */
  framesGated: number;
  packetsReceived: number;
  bytesReceived: number;
  captureUnderruns: number;
  keepAlivesSent: number;
  keepAlivesReceived: number;
}

export interface EngineOptions {
  backend: AudioBackend;
  codec: Codec;
  speaking: SpeakingControl;
  log: Logger;
  recordPath?: string;
  /** Noise suppression for the microphone (none: frames go out as captured). */
  denoiser?: DenoiserFactory;
  /** Automatic gain after the suppressor (it adapts on the suppressor's voice probability). */
  autoGain?: boolean;
  /** Sends one packet to every ready peer; returns how many got it. */
  send(payload: Uint8Array, seq: number, timestamp: number, marker: boolean): number;
  /** Our speaking flag or a remote speaking flag changed. */
  onSpeakingChange(): void;
  onError(msg: string): void;
  /** Good news, such as a capture device that works again. */
  onInfo?(msg: string): void;
  /** The playback gain of a remote device's audio (its user's volume; default 1). */
  gainOf?(deviceId: string): number;
  /** Reopening delays of a failed capture device (default CAPTURE_RETRY_MS). */
  captureRetryMs?: readonly number[];
  now?: () => number;
}

export class AudioEngine {
  readonly counters: EngineCounters = {
    framesSent: 0,
    bytesSent: 0,
    bytesSentToPeers: 0,
    framesGated: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    captureUnderruns: 0,
    keepAlivesSent: 0,
    keepAlivesReceived: 0,
  };
  /**
   * Our speaking flag: audio goes out and it carries voice (the VAD on the frame as sent, after
   * suppression and gain), so a push-to-talk key held over a silent microphone is not speaking.
   */
  speaking = false;
  inputLevel = 0;
  /**
   * Deafened: silence goes to the output and the recording. The peers' audio is still received
   * and decoded (their speaking flags and stats stay live, and undeafening is heard at once).
   */
  deafened = false;
  private readonly capture: Capture;
  /** Whether the gate let the last frame out (for the talkspurt's marker bit). */
  private sending = false;
  private output: AudioOutput = nullOutput();
  private recorder: WavRecorder | undefined;
  private encoder: AudioEncoder;
  private denoiser: Denoiser | undefined;
  private agc: AutoGain | undefined;
  private readonly playouts = new Map<string, PeerPlayout>();
  private readonly remoteSpeaking = new Set<string>();
  private readonly clock: MediaClock;
  private readonly preRoll: Array<{ frame: Frame; slot: number }> = [];
  private seq = Math.floor(Math.random() * 0x10000);
  /** The slot of the last packet sent (audio or keep-alive). */
  private lastSentSlot = -Infinity;
  private readonly tsOffset = Math.floor(Math.random() * 0x1_0000_0000);
  private readonly now: () => number;
  private running = false;

  constructor(private readonly o: EngineOptions) {
    this.now = o.now ?? Date.now;
    this.encoder = o.codec.createEncoder();
    this.clock = new MediaClock((slot) => this.tick(slot), this.now);
    this.capture = new Capture({
      backend: o.backend,
      log: o.log,
      onError: (m) => o.onError(m),
      onInfo: (m) => o.onInfo?.(m),
      ...(o.captureRetryMs ? { retryMs: o.captureRetryMs } : {}),
    });
  }

  /**
   * Opens the devices and starts the clock. A failed capture device is retried with backoff
   * (silence is sent meanwhile); a failed output is reported and that direction stays silent.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.capture.start();
    try {
      this.output = await this.o.backend.openOutput();
    } catch (err) {
      this.output = nullOutput();
      this.o.onError(`audio output unavailable (${this.o.backend.name}): ${err instanceof Error ? err.message : String(err)}`);
    }
    if (this.o.denoiser && !this.o.backend.clean) {
      try {
        this.denoiser = await this.o.denoiser();
        if (this.o.autoGain) this.agc = new AutoGain();
      } catch (err) {
        this.o.onError(
          `noise suppression unavailable: ${err instanceof Error ? err.message : String(err)}; sending the microphone as it is`,
        );
      }
    }
    if (this.o.recordPath && !this.recorder) this.recorder = new WavRecorder(this.o.recordPath);
    this.clock.start();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.clock.stop();
    this.recorder?.flush();
    await this.capture.stop();
    await this.output.close().catch(() => {});
    this.output = nullOutput();
    this.denoiser?.close();
    this.denoiser = undefined;
    this.agc = undefined;
    this.playouts.clear();
    this.remoteSpeaking.clear();
    this.speaking = false;
    this.sending = false;
    this.o.speaking.vad.reset();
  }

  /** Closes the recording (daemon exit). */
  async close(): Promise<void> {
    await this.stop();
    this.recorder?.close();
  }

  receive(from: string, p: RtpIn): void {
    if (!this.running) return;
    let playout = this.playouts.get(from);
    if (!playout) this.playouts.set(from, (playout = new PeerPlayout(this.o.codec.createDecoder())));
    if (isKeepAlive(p.payload)) {
      // Not audio: it only says the path works (the mesh's watchdog saw it) and takes its seq.
      this.counters.keepAlivesReceived++;
      playout.skip(p.seq);
      return;
    }
    this.counters.packetsReceived++;
    this.counters.bytesReceived += p.payload.length;
    playout.push(p.seq, p.timestamp, p.payload, this.now(), p.marker);
  }

  removePeer(deviceId: string): void {
    this.playouts.delete(deviceId);
    if (this.remoteSpeaking.delete(deviceId)) this.o.onSpeakingChange();
  }

  /** Forgets the receive state of devices that left. */
  retainPeers(present: ReadonlySet<string>): void {
    for (const id of [...this.playouts.keys()]) if (!present.has(id)) this.removePeer(id);
  }

  isSpeaking(deviceId: string): boolean {
    return this.remoteSpeaking.has(deviceId);
  }

  peerStats(deviceId: string): PlayoutStats | undefined {
    return this.playouts.get(deviceId)?.stats();
  }

  allPeerStats(): PlayoutStats[] {
    return [...this.playouts.values()].map((p) => p.stats());
  }

  get clockSkips(): number {
    return this.clock.skipped;
  }

  private tick(slot: number): void {
    try {
      this.sendSide(slot);
      this.receiveSide(slot);
    } catch (err) {
      this.o.log.error("media tick failed", { error: err instanceof Error ? err.message : String(err) });
    }
  }

  private sendSide(slot: number): void {
    const open = this.capture.isOpen;
    let frame = this.capture.read(slot);
    if (!frame) {
      if (open) this.counters.captureUnderruns++;
      frame = silentFrame();
    } else if (this.denoiser) {
      frame = this.denoiser.process(frame);
      if (this.agc) frame = this.agc.process(frame, this.denoiser.voiceProbability);
    }
    // The level (VAD, meter) is of what would be sent: background noise does not open the gate.
    this.inputLevel = frameLevel(frame);
    const on = this.o.speaking.update(this.inputLevel);
    const opened = on && !this.sending;
    this.sending = on;
    const talking = on && this.o.speaking.vad.isOpen;
    if (talking !== this.speaking) {
      this.speaking = talking;
      this.o.onSpeakingChange();
    }
    if (!on) {
      this.counters.framesGated++;
      // Keep the frames that may open the gate, to send them once it opens (no clipped onsets).
      this.preRoll.push({ frame, slot });
      while (this.preRoll.length > this.o.speaking.vad.attackFrames - 1) this.preRoll.shift();
      if (slot - this.lastSentSlot >= KEEPALIVE_SLOTS) this.sendKeepAlive(slot);
      return;
    }
    const frames = this.preRoll.splice(0);
    frames.push({ frame, slot });
    // The marker bit flags the first packet of a talkspurt (RFC 3551 §4.1).
    frames.forEach((f, i) => this.encodeAndSend(f.frame, f.slot, opened && i === 0));
  }

  private sendKeepAlive(slot: number): void {
    const ts = (slot * FRAME_SAMPLES + this.tsOffset) >>> 0;
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    this.lastSentSlot = slot;
    if (this.o.send(KEEPALIVE_PAYLOAD, seq, ts, false) > 0) this.counters.keepAlivesSent++;
  }

  private encodeAndSend(frame: Frame, slot: number, marker: boolean): void {
    const packet = this.encoder.encode(frame);
    // RTP time runs with the wall clock (960 per slot), through silences too (RFC 3551 §4.1).
    const ts = (slot * FRAME_SAMPLES + this.tsOffset) >>> 0;
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    this.lastSentSlot = slot;
    const peers = this.o.send(packet, seq, ts, marker);
    if (peers > 0) {
      this.counters.framesSent++;
      this.counters.bytesSent += packet.length;
      this.counters.bytesSentToPeers += packet.length * peers;
    }
  }

  private receiveSide(slot: number): void {
    const nowMs = slot * FRAME_MS;
    const frames: Frame[] = [];
    const gains: number[] = [];
    let changed = false;
    const wall = this.now();
    for (const [id, p] of this.playouts) {
      const f = p.next(nowMs);
      if (f) {
        frames.push(f);
        gains.push(this.o.gainOf?.(id) ?? 1);
      }
      const talking = wall - p.lastPacketAt < SPEAKING_HOLD_MS;
      if (talking !== this.remoteSpeaking.has(id)) {
        if (talking) this.remoteSpeaking.add(id);
        else this.remoteSpeaking.delete(id);
        changed = true;
      }
    }
    const mixed = this.deafened ? silentFrame() : mixFrames(frames, gains);
    this.output.write(mixed, slot);
    this.recorder?.write(mixed, slot);
    if (changed) this.o.onSpeakingChange();
  }
}
