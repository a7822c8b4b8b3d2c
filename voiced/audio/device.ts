// The sound card through naudiodon (PortAudio): default capture and playback devices at
// 48 kHz mono s16. The native module loads only when this backend opens.
import type { Readable, Writable } from "node:stream";
import { FRAME_SAMPLES, SAMPLE_RATE, bytesToFrame, frameToBytes, type Frame } from "./format.js";
import type { AudioBackend, AudioInput, AudioOutput } from "./backend.js";
import { requireNative } from "../native.js";

interface DeviceInfo {
  id: number;
  name: string;
  maxInputChannels: number;
  maxOutputChannels: number;
}
interface AudioIOStream {
  start(): void;
  quit(cb?: () => void): void;
  on(event: string, cb: (arg: unknown) => void): void;
}
interface Naudiodon {
  SampleFormat16Bit: number;
  getDevices(): DeviceInfo[];
  AudioIO: new (o: Record<string, unknown>) => AudioIOStream & (Readable | Writable);
}

function loadNaudiodon(): Naudiodon {
  return requireNative<Naudiodon>("naudiodon", "The sound card backend");
}

/** Capture keeps at most this much queued (ms); older audio is dropped to bound latency. */
const MAX_QUEUED_MS = 200;
const FRAME_BYTES = FRAME_SAMPLES * 2;

export function deviceBackend(): AudioBackend {
  const options = (na: Naudiodon) => ({
    channelCount: 1,
    sampleFormat: na.SampleFormat16Bit,
    sampleRate: SAMPLE_RATE,
    deviceId: -1, // the default device
    framesPerBuffer: FRAME_SAMPLES,
    closeOnError: false,
  });
  return {
    name: "device",
    async openInput(): Promise<AudioInput> {
      const na = loadNaudiodon();
      if (!na.getDevices().some((d) => d.maxInputChannels > 0)) throw new Error("no audio capture device");
      const io = new na.AudioIO({ inOptions: options(na) }) as AudioIOStream & Readable;
      let queued: Buffer[] = [];
      let bytes = 0;
      const max = (MAX_QUEUED_MS / 20) * FRAME_BYTES;
      io.on("data", (chunk) => {
        queued.push(chunk as Buffer);
        bytes += (chunk as Buffer).length;
        while (bytes > max && queued.length > 1) bytes -= queued.shift()!.length;
      });
      io.on("error", () => {});
      io.start();
      return {
        read(): Frame | null {
          if (bytes < FRAME_BYTES) return null;
          const all = Buffer.concat(queued);
          const frame = bytesToFrame(all.subarray(0, FRAME_BYTES));
          queued = [all.subarray(FRAME_BYTES)];
          bytes = all.length - FRAME_BYTES;
          return frame;
        },
        close: () => new Promise<void>((resolve) => io.quit(() => resolve())),
      };
    },
    async openOutput(): Promise<AudioOutput> {
      const na = loadNaudiodon();
      if (!na.getDevices().some((d) => d.maxOutputChannels > 0)) throw new Error("no audio playback device");
      const io = new na.AudioIO({ outOptions: options(na) }) as AudioIOStream & Writable;
      io.on("error", () => {});
      io.start();
      return {
        write(frame) {
          // A full queue means the card is behind: drop rather than add latency.
          if (io.writableLength < 4 * FRAME_BYTES) io.write(frameToBytes(frame));
        },
        close: () => new Promise<void>((resolve) => io.quit(() => resolve())),
      };
    },
  };
}
