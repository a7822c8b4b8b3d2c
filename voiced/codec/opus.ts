// Opus through @discordjs/opus (libopus): 48 kHz mono, 20 ms frames, VoIP mode, in-band FEC on.
import { requireNative } from "../native.js";
import { FRAME_SAMPLES, SAMPLE_RATE, bytesToFrame, frameToBytes, type Frame } from "../audio/format.js";
import type { AudioDecoder, AudioEncoder, Codec } from "./codec.js";

// libopus CTL request numbers (opus_defines.h); the binding takes them raw.
const OPUS_SET_APPLICATION = 4000;
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SIGNAL_VOICE = 3001;

interface OpusBinding {
  encode(pcm: Buffer): Buffer;
  decode(packet: Buffer): Buffer;
  applyEncoderCTL(ctl: number, value: number): void;
  setBitrate(bps: number): void;
  getBitrate(): number;
}
type OpusCtor = new (rate: number, channels: number) => OpusBinding;

let ctor: OpusCtor | undefined;
function opusCtor(): OpusCtor {
  // A CommonJS native addon: load it on first use only.
  ctor ??= requireNative<{ OpusEncoder: OpusCtor }>("@discordjs/opus", "Voice (the Opus codec)").OpusEncoder;
  return ctor;
}

export interface OpusOptions {
  /** Target bitrate in bit/s (default 32 kbit/s: wideband speech with room for FEC). */
  bitrate?: number;
  /** Expected packet loss in percent; in-band FEC is only emitted when this is above 0. */
  expectedLossPercent?: number;
}

/** Frames of exactly FRAME_SAMPLES: other packet durations are cut or padded (we only send 20 ms). */
function fit(frame: Frame): Frame {
  if (frame.length === FRAME_SAMPLES) return frame;
  const out = new Int16Array(FRAME_SAMPLES);
  out.set(frame.subarray(0, FRAME_SAMPLES));
  return out;
}

class OpusEncoderImpl implements AudioEncoder {
  private readonly enc: OpusBinding;
  constructor(o: OpusOptions) {
    this.enc = new (opusCtor())(SAMPLE_RATE, 1);
    this.enc.applyEncoderCTL(OPUS_SET_APPLICATION, OPUS_APPLICATION_VOIP);
    this.enc.applyEncoderCTL(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
    this.enc.applyEncoderCTL(OPUS_SET_INBAND_FEC, 1);
    this.enc.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC, o.expectedLossPercent ?? 10);
    this.enc.setBitrate(o.bitrate ?? 32_000);
  }
  encode(frame: Frame): Uint8Array {
    return this.enc.encode(frameToBytes(frame));
  }
}

class OpusDecoderImpl implements AudioDecoder {
  private readonly dec: OpusBinding = new (opusCtor())(SAMPLE_RATE, 1);
  private lastToc: number | undefined;

  decode(packet: Uint8Array): Frame {
    const pcm = this.dec.decode(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
    if (packet.length) this.lastToc = packet[0]!;
    return fit(bytesToFrame(pcm));
  }

  // No decodeFec: @discordjs/opus calls opus_decode with decode_fec = 0 and offers no way to
  // set it, so the LBRR data our encoder sends helps other decoders only. Loss uses PLC.

  conceal(): Frame {
    if (this.lastToc === undefined) return new Int16Array(FRAME_SAMPLES);
    // A packet of just the TOC byte (code 0: one frame, no data) makes libopus run its PLC for
    // exactly one frame of that configuration (20 ms). An empty buffer would conceal 120 ms.
    return fit(bytesToFrame(this.dec.decode(Buffer.from([this.lastToc & 0xfc]))));
  }
}

export function opusCodec(o: OpusOptions = {}): Codec {
  return {
    name: "opus",
    createEncoder: () => new OpusEncoderImpl(o),
    createDecoder: () => new OpusDecoderImpl(),
  };
}
