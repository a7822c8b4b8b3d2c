// The codec seen by the rest of the daemon: whole 20 ms frames in, packets out, and back.
// The Opus binding lives behind it (codec/opus.ts), so tests and the jitter logic never load it.
import type { Frame } from "../audio/format.js";

export interface AudioEncoder {
  /** One 20 ms frame in, one packet out. */
  encode(frame: Frame): Uint8Array;
}

export interface AudioDecoder {
  decode(packet: Uint8Array): Frame;
  /**
   * Rebuilds the frame before `next` from the in-band FEC data `next` carries. Optional: a
   * decoder that cannot (see codec/opus.ts) leaves it out and loss falls to `conceal`.
   */
  decodeFec?(next: Uint8Array): Frame;
  /** Packet loss concealment: a plausible continuation of the last decoded audio. */
  conceal(): Frame;
}

export interface Codec {
  readonly name: string;
  createEncoder(): AudioEncoder;
  createDecoder(): AudioDecoder;
}
