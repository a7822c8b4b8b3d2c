// Who decides that we speak: push-to-talk when configured and a backend can deliver it (the XDG
// GlobalShortcuts portal, or a global key grab on an X11 display), else voice activity
// detection; mute overrides both. A push-to-talk that cannot start falls back to VAD with a
// notice saying why (the earlier daemon's behaviour, kept), and the notice of a working one says
// which backend holds the key.
import type { Logger } from "../log.js";
import { bindHotkey as bindX11Hotkey, type HotkeyOptions } from "./hotkey.js";
import { parentWindow, bindPushToTalk, type PortalBus, type PushToTalkBinding } from "./portal.js";
import { Vad } from "./vad.js";

export type PttBackend = "auto" | "portal" | "hotkey" | "none";
export type SpeakingMode = "vad" | "ptt";
export const PTT_BACKENDS: readonly PttBackend[] = ["auto", "portal", "hotkey", "none"];

export interface SpeakingOptions {
  backend: PttBackend;
  vadThreshold: number;
  openPortalBus: () => Promise<PortalBus>;
  /** The X11 key grab (default: ptt/hotkey.ts on $DISPLAY). */
  bindHotkey?: (o: HotkeyOptions) => Promise<PushToTalkBinding>;
  env: NodeJS.ProcessEnv;
  log: Logger;
  onInfo(msg: string): void;
  onError(msg: string): void;
  /** Mode, key or PTT press changed. */
  onChange(): void;
}

/**
 * An X11 session, where a grab on $DISPLAY sees every key. Under Wayland $DISPLAY is XWayland,
 * whose grabs only see keys typed into X windows: "auto" does not take that for push-to-talk.
 */
export function onX11(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.DISPLAY) && !env.WAYLAND_DISPLAY && env.XDG_SESSION_TYPE !== "wayland";
}

export class SpeakingControl {
  readonly vad: Vad;
  mode: SpeakingMode = "vad";
  /** The backend holding the push-to-talk key, while mode is "ptt". */
  pttBackend: "portal" | "hotkey" | undefined;
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
    this.pttBackend = undefined;
    this.pressed = false;
    this.key = key;
    this.vad.reset();
    if (!key) return this.useVad("push-to-talk off");
    const { backend, env } = this.o;
    if (backend === "none") return this.useVad(`push-to-talk backend is "none"`);
    const onChange = (down: boolean) => {
      if (gen !== this.generation) return;
      this.pressed = down;
      this.o.onChange();
    };
    // auto: the portal, then a key grab on X11, then VAD; each failure is part of the notice.
    const tried: string[] = [];
    for (const b of backend === "auto" ? (["portal", "hotkey"] as const) : [backend]) {
      if (b === "hotkey" && backend === "auto" && !onX11(env)) {
        tried.push(`hotkey: ${env.DISPLAY ? "not an X11 session" : "no X11 display"}`);
        continue;
      }
      try {
        const binding =
          b === "portal"
            ? await bindPushToTalk(await this.o.openPortalBus(), { key, parentWindow: parentWindow(env), onChange })
            : await (this.o.bindHotkey ?? bindX11Hotkey)({ display: env.DISPLAY ?? "", key, onChange });
        if (gen !== this.generation) {
          await binding.close();
          return;
        }
        this.binding = binding;
        this.mode = "ptt";
        this.pttBackend = b;
        const via = b === "portal" ? "the GlobalShortcuts portal" : `an X11 key grab on ${env.DISPLAY}`;
        this.o.log.info("speaking mode", { mode: "ptt", backend: b, key });
        this.o.onInfo(`push-to-talk on ${binding.trigger ?? key} through ${via}${tried.length ? ` (${tried.join("; ")})` : ""}`);
        this.o.onChange();
        return;
      } catch (err) {
        if (gen !== this.generation) return;
        const reason = err instanceof Error ? err.message : String(err);
        if (backend === b) this.o.onError(`push-to-talk ${b} failed: ${reason}`);
        tried.push(`${b}: ${reason}`);
      }
    }
    this.useVad(`push-to-talk unavailable (${tried.join("; ")})`);
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
