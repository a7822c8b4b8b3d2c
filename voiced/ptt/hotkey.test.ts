// The X11 hotkey backend against a real X server (Xvfb): a key typed through XTEST from another
// X connection turns push-to-talk on while held and off when let go, through SpeakingControl as
// the daemon uses it; a held key's autorepeat does not chop it; Caps Lock does not disable it;
// "auto" falls back to it without a portal; a key another client holds is refused.
import { afterAll, afterEach, beforeAll, expect, test } from "@jest/globals";
import { setTimeout as sleep } from "node:timers/promises";
import { KEYSYM, keyboard, startXvfb, type Keyboard, type Xvfb } from "../../test/support/xvfb.js";
import { createLogger } from "../log.js";
import { bindHotkey } from "./hotkey.js";
import { SpeakingControl, type PttBackend } from "./speaking.js";

let x: Xvfb;
let kb: Keyboard;
/** What each test grabbed: let go after it, pass or fail, so a failure does not hold the key for the next. */
const open: Array<{ close(): Promise<void> }> = [];
const held = <T extends { close(): Promise<void> }>(b: T): T => (open.push(b), b);

beforeAll(async () => {
  x = await startXvfb();
  kb = await keyboard(x.display);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close().catch(() => {})));
});

afterAll(async () => {
  kb?.close();
  await x?.close();
});

/** Resolves at the next call of the returned callback (key state changes arrive asynchronously). */
function changes() {
  const seen: boolean[] = [];
  const waiters: Array<() => void> = [];
  return {
    seen,
    on: (pressed: boolean) => {
      seen.push(pressed);
      for (const w of waiters.splice(0)) w();
    },
    /** Waits until `n` changes have been seen. */
    async count(n: number) {
      while (seen.length < n) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

function control(backend: PttBackend, env: NodeJS.ProcessEnv) {
  const info: string[] = [];
  const errors: string[] = [];
  const ch = changes();
  const c = new SpeakingControl({
    backend,
    vadThreshold: 500,
    openPortalBus: () => Promise.reject(new Error("no session bus")),
    env,
    log: createLogger({ level: "error", write: () => {} }),
    onInfo: (m) => info.push(m),
    onError: (m) => errors.push(m),
    onChange: () => ch.on(true),
  });
  held(c);
  return { c, info, errors, ch };
}

test("hotkey: ctrl+space pressed on the X server turns speaking on, released turns it off (VAD silent all along)", async () => {
  const { c, info, errors, ch } = control("hotkey", { DISPLAY: x.display });
  await c.configure("ctrl+space");
  expect(errors).toEqual([]);
  expect(c.mode).toBe("ptt");
  expect(c.pttBackend).toBe("hotkey");
  expect(info).toEqual([`push-to-talk on ctrl+space (X11 space) through an X11 key grab on ${x.display}`]);
  const before = ch.seen.length;
  expect(c.update(0)).toBe(false);

  await kb.press(KEYSYM.Control_L, KEYSYM.space);
  await ch.count(before + 1);
  expect(c.update(0)).toBe(true); // a silent microphone: speaking comes from the key alone
  c.muted = true;
  expect(c.update(0)).toBe(false); // mute still wins
  c.muted = false;

  await kb.release(KEYSYM.space, KEYSYM.Control_L);
  await ch.count(before + 2);
  expect(c.update(0)).toBe(false);

  // space without ctrl is not the shortcut.
  await kb.press(KEYSYM.space);
  await kb.release(KEYSYM.space);
  await kb.press(KEYSYM.Control_L, KEYSYM.space);
  await ch.count(before + 3);
  expect(ch.seen.length).toBe(before + 3);
  await kb.release(KEYSYM.space, KEYSYM.Control_L);
  await ch.count(before + 4);
  expect(c.update(0)).toBe(false);
  await c.close();
});

test.each([
  ["XKB detectable autorepeat", true],
  ["the round-trip check (a server without XKB)", false],
])("a held key's autorepeat is one press and one release, with %s", async (_name, xkb) => {
  const ch = changes();
  const b = held(await bindHotkey({ display: x.display, key: "F12", onChange: ch.on, xkb }));
  const { delayMs, intervalMs } = await kb.repeat();
  expect(delayMs).toBeGreaterThan(0);
  await kb.press(KEYSYM.F12);
  await ch.count(1);
  // Held through the server's repeat delay and several repeats.
  await sleep(delayMs + 8 * intervalMs);
  await kb.release(KEYSYM.F12);
  await ch.count(2);
  await kb.press(KEYSYM.F12); // a later press is seen: nothing is stuck
  await ch.count(3);
  await kb.release(KEYSYM.F12);
  await ch.count(4);
  expect(ch.seen).toEqual([true, false, true, false]);
  await b.close();
});

test("Caps Lock on does not disable the grab", async () => {
  const ch = changes();
  const b = held(await bindHotkey({ display: x.display, key: "F12", onChange: ch.on }));
  await kb.press(KEYSYM.Caps_Lock);
  await kb.release(KEYSYM.Caps_Lock); // Caps Lock is now locked on
  await kb.press(KEYSYM.F12);
  await kb.release(KEYSYM.F12);
  await ch.count(2);
  expect(ch.seen).toEqual([true, false]);
  await kb.press(KEYSYM.Caps_Lock);
  await kb.release(KEYSYM.Caps_Lock);
  await b.close();
});

test("auto: without a portal, an X11 session gets the key grab, and the notice says so and why", async () => {
  const { c, info, errors } = control("auto", { DISPLAY: x.display });
  await c.configure("F12");
  expect(c.mode).toBe("ptt");
  expect(c.pttBackend).toBe("hotkey");
  expect(info).toEqual([`push-to-talk on F12 (X11 F12) through an X11 key grab on ${x.display} (portal: no session bus)`]);
  expect(errors).toEqual([]);
  await c.close();

  // Under Wayland $DISPLAY is XWayland, whose grab would miss most keys: auto goes to VAD.
  const w = control("auto", { DISPLAY: x.display, WAYLAND_DISPLAY: "wayland-0" });
  await w.c.configure("F12");
  expect(w.c.mode).toBe("vad");
  expect(w.info).toEqual([
    "push-to-talk unavailable (portal: no session bus; hotkey: not an X11 session); using voice activity detection (threshold 500)",
  ]);
});

test("a key another X client holds is refused: hotkey says so as an error and falls back to VAD; it is free again once closed", async () => {
  const first = held(await bindHotkey({ display: x.display, key: "F12", onChange: () => {} }));
  await expect(bindHotkey({ display: x.display, key: "F12", onChange: () => {} })).rejects.toThrow(
    /push-to-talk key "F12" is taken by another X client/,
  );
  const { c, info, errors } = control("hotkey", { DISPLAY: x.display });
  await c.configure("F12");
  expect(c.mode).toBe("vad");
  expect(errors).toEqual([expect.stringMatching(/^push-to-talk hotkey failed: push-to-talk key "F12" is taken by another X client/)]);
  expect(info.join()).toMatch(/using voice activity detection/);
  await first.close();
  await c.configure("F12");
  expect(c.mode).toBe("ptt");
  await c.close();
});

test("no display, or a display nobody serves: a clear reason, quickly", async () => {
  await expect(bindHotkey({ display: "", key: "F12", onChange: () => {} })).rejects.toThrow(/no X11 display \(\$DISPLAY is not set\)/);
  await expect(bindHotkey({ display: ":987", key: "F12", onChange: () => {} })).rejects.toThrow(/X display :987: /);
  await expect(bindHotkey({ display: x.display, key: "hyper+F12", onChange: () => {} })).rejects.toThrow(/"hyper" is not a modifier/);
});
