// Who decides that we speak: push-to-talk through the portal when configured and available,
// else voice activity detection; mute overrides both. A push-to-talk that cannot start falls
// back to VAD with a notice saying why (the earlier daemon's behaviour, kept).
import type { Logger } from "../log.js";
import { parentWindow, bindPushToTalk, type PortalBus, type PushToTalkBinding } from "./portal.js";
import { Vad } from "./vad.js";

export type PttBackend = "auto" | "portal" | "none";
export type SpeakingMode = "vad" | "ptt";

export interface SpeakingOptions {
  backend: PttBackend;
  vadThreshold: number;
  openPortalBus: () => Promise<PortalBus>;
  env: NodeJS.ProcessEnv;
  log: Logger;
  onInfo(msg: string): void;
  onError(msg: string): void;
  /** Mode, key or PTT press changed. */
  onChange(): void;
}

export class SpeakingControl {
  readonly vad: Vad;
  mode: SpeakingMode = "vad";
  key = "";
  muted = false;
  private pressed = false;
  private binding: PushToTalkBinding | undefined;
  private generation = 0;

  constructor(private readonly o: SpeakingOptions) {
    this.vad = new Vad({ threshold: o.vadThreshold });
  }

  /** Selects push-to-talk with `key` ("" = VAD); resolves once the choice is made. */
  async configure(key: string): Promise<void> {
    const gen = ++this.generation;
    await this.binding?.close().catch(() => {});
    this.binding = undefined;
    this.pressed = false;
    this.key = key;
    this.vad.reset();
    if (!key) return this.useVad("push-to-talk off");
    if (this.o.backend === "none") return this.useVad(`push-to-talk backend is "none"`);
    try {
      const bus = await this.o.openPortalBus();
      const binding = await bindPushToTalk(bus, {
        key,
        parentWindow: parentWindow(this.o.env),
        onChange: (down) => {
          if (gen !== this.generation) return;
          this.pressed = down;
          this.o.onChange();
        },
      });
      if (gen !== this.generation) {
        await binding.close();
        return;
      }
      this.binding = binding;
      this.mode = "ptt";
      const msg = `push-to-talk on ${binding.trigger ?? key} through the GlobalShortcuts portal`;
      this.o.log.info("speaking mode", { mode: "ptt", backend: "portal", key });
      this.o.onInfo(msg);
      this.o.onChange();
    } catch (err) {
      if (gen !== this.generation) return;
      const reason = err instanceof Error ? err.message : String(err);
      if (this.o.backend === "portal") this.o.onError(`push-to-talk portal failed: ${reason}`);
      this.useVad(`push-to-talk unavailable (portal: ${reason})`);
    }
  }

  private useVad(why: string): void {
    this.mode = "vad";
    this.o.log.info("speaking mode", { mode: "vad", threshold: this.vad.threshold, reason: why });
    this.o.onInfo(`${why}; using voice activity detection (threshold ${this.vad.threshold})`);
    this.o.onChange();
  }

  /** Whether this frame (of the given level) is sent. The VAD runs even in PTT mode for the meter. */
  update(level: number): boolean {
    const voiced = this.vad.update(level);
    if (this.muted) return false;
    return this.mode === "ptt" ? this.pressed : voiced;
  }

  async close(): Promise<void> {
    this.generation++;
    await this.binding?.close().catch(() => {});
    this.binding = undefined;
  }
}
