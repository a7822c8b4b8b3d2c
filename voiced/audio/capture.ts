// The microphone, kept open: a capture device that fails to open, reports an error, or delivers
// nothing for a while (unplugged without an error) is closed and opened again with backoff,
// while the call goes on sending silence. The first failure is an error notice; recovery an info.
import type { Logger } from "../log.js";
import type { AudioBackend, AudioInput } from "./backend.js";
import { FRAME_MS, type Frame } from "./format.js";

/** Delays before each reopening attempt (ms); the last one repeats. */
export const CAPTURE_RETRY_MS: readonly number[] = [500, 1000, 2000, 4000, 8000, 15_000, 30_000];
/** This many slots in a row without a frame (2.5 s) count as a failed device. */
export const CAPTURE_STALL_SLOTS = 125;

export interface CaptureOptions {
  backend: AudioBackend;
  log: Logger;
  onError(msg: string): void;
  onInfo(msg: string): void;
  retryMs?: readonly number[];
  stallSlots?: number;
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class Capture {
  private input: AudioInput | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Failed attempts since the device last worked. */
  private failures = 0;
  private emptySlots = 0;
  /** How many times the device was opened (for the tests and the log). */
  opens = 0;

  constructor(private readonly o: CaptureOptions) {}

  /** Whether a device is open now (else the call sends silence). */
  get isOpen(): boolean {
    return this.input !== undefined;
  }

  /** The first attempt; a failure is reported and retried in the background. */
  async start(): Promise<void> {
    this.running = true;
    await this.attempt();
  }

  /** A captured frame, or null (no device, or none ready). Notices a failed device. */
  read(slot: number): Frame | null {
    const input = this.input;
    if (!input) return null;
    const why = input.failure?.();
    const frame = why ? null : input.read(slot);
    this.emptySlots = frame ? 0 : this.emptySlots + 1;
    const stallSlots = this.o.stallSlots ?? CAPTURE_STALL_SLOTS;
    const stalled = this.emptySlots >= stallSlots;
    if (why || stalled) this.fail(input, why ?? `no audio from the device for ${(stallSlots * FRAME_MS) / 1000} s`);
    return frame;
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    const input = this.input;
    this.input = undefined;
    await input?.close().catch(() => {});
  }

  private async attempt(): Promise<void> {
    this.timer = undefined;
    let input: AudioInput;
    try {
      input = await this.o.backend.openInput();
    } catch (err) {
      this.failed(reasonOf(err));
      return;
    }
    if (!this.running) {
      await input.close().catch(() => {});
      return;
    }
    this.opens++;
    this.input = input;
    this.emptySlots = 0;
    if (this.failures > 0) {
      this.o.onInfo(`audio input back (${this.o.backend.name}) after ${this.failures} failed attempt${this.failures === 1 ? "" : "s"}`);
      this.o.log.info("capture reopened", { attempts: this.failures });
    }
    this.failures = 0;
  }

  /** A device that worked stopped: close it and start over. */
  private fail(input: AudioInput, why: string): void {
    this.input = undefined;
    void input.close().catch(() => {});
    this.failed(why);
  }

  private failed(why: string): void {
    if (!this.running) return;
    const delays = this.o.retryMs ?? CAPTURE_RETRY_MS;
    const ms = delays[Math.min(this.failures, delays.length - 1)]!;
    if (this.failures === 0) {
      this.o.onError(`audio input unavailable (${this.o.backend.name}): ${why}; sending silence, retrying in ${ms / 1000} s`);
    }
    this.o.log.warn("capture failed", { error: why, attempt: this.failures + 1, retry_ms: ms });
    this.failures++;
    this.timer = setTimeout(() => void this.attempt(), ms);
  }
}
