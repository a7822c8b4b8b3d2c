// Push-to-talk through an X11 global key grab (the "hotkey" backend of the earlier Go client), in
// pure JS over the X protocol with the `x11` package: GrabKey on the root window for the key with
// every combination of Caps Lock and Num Lock (so those do not disable it), then KeyPress and
// KeyRelease drive the key state. X autorepeat would turn a held key into release/press pairs:
// XKB "detectable autorepeat" (a per-client flag) makes the server send repeats as presses only;
// on a server without XKB a release is believed only once a round trip shows no press after it.
import { createRequire } from "node:module";
import type { PushToTalkBinding } from "./portal.js";
import { MOD, parseHotkey } from "./x11-keys.js";

interface XEvent {
  name: string;
  keycode: number;
  time: number;
}
interface XExtension {
  majorOpcode: number;
}
/** The part of the `x11` package's client used here (it ships no types). */
interface XClient {
  seq_num: number;
  replies: Record<number, [(buf: Buffer, opt: number) => unknown, (err: Error | null, v?: unknown) => unknown]>;
  pack_stream: { put(b: Buffer): void; submit(withReply?: boolean): void };
  GrabKey(
    wid: number,
    ownerEvents: number,
    modifiers: number,
    key: number,
    pointerMode: number,
    keybMode: number,
    cb: (err: Error | null) => void,
  ): void;
  UngrabKey(wid: number, key: number, modifiers: number): void;
  GetKeyboardMapping(start: number, count: number, cb: (err: Error | null, rows: number[][]) => void): void;
  /** A round trip: calls back once the server has handled everything sent before. */
  sync(cb: (err: Error | null) => void): void;
  require(name: "xkb", cb: (err: Error | null, ext: XExtension) => void): void;
  on(ev: "event", cb: (e: XEvent) => void): void;
  on(ev: "error" | "end", cb: (e?: Error) => void): void;
  close(cb?: (err?: Error) => void): void;
  terminate(): void;
}
interface XDisplay {
  client: XClient;
  screen: Array<{ root: number }>;
  min_keycode: number;
  max_keycode: number;
}
interface X11Module {
  createClient(o: { display: string }, cb: (err: Error | null, display: XDisplay) => void): XClient;
}

export interface HotkeyOptions {
  /** The X display to grab on ($DISPLAY). */
  display: string;
  /** e.g. "F12", "ctrl+space" (see x11-keys.ts). */
  key: string;
  onChange: (pressed: boolean) => void;
  /** How long to wait for the X server to accept the connection. */
  connectTimeoutMs?: number;
  /** false: do not ask for XKB detectable autorepeat (what a server without XKB gives; tests). */
  xkb?: boolean;
}

const GRAB_MODE_ASYNC = 1;
/** Caps Lock and Num Lock (Mod2 on every common keymap) must not turn the grab off. */
const LOCK_COMBOS = [0, MOD.lock, MOD.mod2, MOD.lock | MOD.mod2];
/** XkbPerClientFlags (xkbproto): request 21; XkbPCF_DetectableAutoRepeatMask = 1; UseCoreKbd = 0x100. */
const XKB_PER_CLIENT_FLAGS = 21;

function connect(display: string, timeoutMs: number): Promise<XDisplay> {
  const x11 = createRequire(import.meta.url)("x11") as X11Module;
  return new Promise((resolve, reject) => {
    let late = false;
    const t = setTimeout(() => {
      late = true;
      reject(new Error(`X display ${display}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      const client = x11.createClient({ display }, (err, d) => {
        clearTimeout(t);
        if (late) return err ? undefined : d.client.terminate(); // given up on: do not leave it open
        if (err) reject(new Error(`X display ${display}: ${err.message}`));
        else resolve(d);
      });
      // Errors nobody claimed (after set-up) must not crash the daemon.
      client.on("error", () => {});
    } catch (err) {
      clearTimeout(t);
      reject(new Error(`X display ${display}: ${err instanceof Error ? err.message : String(err)}`));
    }
  });
}

/** The keycode that produces `keysym`, preferring its unshifted level. */
function keycodeOf(d: XDisplay, keysym: number): Promise<number | undefined> {
  const count = d.max_keycode - d.min_keycode + 1;
  return new Promise((resolve, reject) =>
    d.client.GetKeyboardMapping(d.min_keycode, count, (err, rows) => {
      if (err) return reject(err);
      for (let level = 0; level < (rows[0]?.length ?? 0); level++) {
        const i = rows.findIndex((r) => r[level] === keysym);
        if (i >= 0) return resolve(d.min_keycode + i);
      }
      resolve(undefined);
    }),
  );
}

/**
 * Asks for XKB detectable autorepeat; resolves whether the server granted it. The `x11` package
 * has no PerClientFlags request, so it is sent the way the package's own extension modules send
 * theirs (xkbproto: 28 bytes, reply with the flags in force).
 */
function detectableAutorepeat(X: XClient): Promise<boolean> {
  return new Promise((resolve) => {
    X.require("xkb", (err, xkb) => {
      if (err) return resolve(false);
      const b = Buffer.alloc(28);
      b.writeUInt8(xkb.majorOpcode, 0);
      b.writeUInt8(XKB_PER_CLIENT_FLAGS, 1);
      b.writeUInt16LE(7, 2); // length in 4-byte units
      b.writeUInt16LE(0x100, 4); // the core keyboard
      b.writeUInt32LE(1, 8); // change: DetectableAutoRepeat
      b.writeUInt32LE(1, 12); // value: on
      X.seq_num++;
      X.replies[X.seq_num] = [
        (buf) => buf.readUInt32LE(4), // the "value" field: flags now set for us
        (e, value) => {
          resolve(!e && ((value as number) & 1) === 1);
          return true;
        },
      ];
      X.pack_stream.put(b);
      X.pack_stream.submit(true);
    });
  });
}

/** Grabs the push-to-talk key on the X display; rejects with a reason when it cannot. */
export async function bindHotkey(o: HotkeyOptions): Promise<PushToTalkBinding> {
  const key = parseHotkey(o.key);
  if (!o.display) throw new Error("no X11 display ($DISPLAY is not set)");
  // A local X server answers in milliseconds; seconds only when the machine is very loaded.
  const d = await connect(o.display, o.connectTimeoutMs ?? 5000);
  const X = d.client;
  const root = d.screen[0]!.root;
  let grabbed: number[] = [];
  let keycode = 0;
  const release = () => {
    for (const m of grabbed) X.UngrabKey(root, keycode, m);
    grabbed = [];
  };
  try {
    keycode = (await keycodeOf(d, key.keysym)) ?? 0;
    if (!keycode) throw new Error(`push-to-talk key "${o.key}": no key on this keyboard produces ${key.keysymName}`);
    const detectable = o.xkb !== false && (await detectableAutorepeat(X));
    const results = await Promise.all(
      LOCK_COMBOS.map(
        (lock) =>
          new Promise<{ mods: number; err: Error | null }>((resolve) =>
            X.GrabKey(root, 0, key.modifiers | lock, keycode, GRAB_MODE_ASYNC, GRAB_MODE_ASYNC, (err) =>
              resolve({ mods: key.modifiers | lock, err }),
            ),
          ),
      ),
    );
    grabbed = results.filter((r) => !r.err).map((r) => r.mods);
    const failed = results.find((r) => r.err);
    if (failed) throw new Error(`push-to-talk key "${o.key}" is taken by another X client (${failed.err!.message || "BadAccess"})`);

    let pressed = false;
    let pendingRelease: object | undefined;
    const set = (down: boolean) => {
      if (down === pressed) return;
      pressed = down;
      o.onChange(down);
    };
    X.on("event", (ev) => {
      if (ev.keycode !== keycode) return;
      if (ev.name === "KeyPress") {
        pendingRelease = undefined; // a repeat's press, or a new press: the key is down
        set(true);
      } else if (ev.name === "KeyRelease") {
        if (detectable) return set(false);
        // Without detectable autorepeat a repeat is a release and a press with the same time,
        // made in one go by the server but not always delivered in one read (seen under load).
        // A round trip settles it: the server has made the press, if any, before it answers,
        // and the stream keeps order, so an answer with no press before it means the key is up.
        const p = {};
        pendingRelease = p;
        X.sync(() => {
          if (pendingRelease !== p) return;
          pendingRelease = undefined;
          set(false);
        });
      }
    });
    let closed = false;
    X.on("end", () => {
      // The X server went away (session ended): a held key is let go.
      if (!closed) set(false);
    });
    return {
      trigger: `${key.spec} (X11 ${key.keysymName})`,
      async close() {
        if (closed) return;
        closed = true;
        pendingRelease = undefined;
        release();
        await new Promise<void>((resolve) => X.close(() => resolve()));
      },
    };
  } catch (err) {
    release();
    X.terminate();
    throw err;
  }
}
