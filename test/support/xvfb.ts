// A real X server for tests: Xvfb on a display number it picks itself (-displayfd), and an XTEST
// client that types on it, as a person at the keyboard would (XTestFakeInput from a second
// connection). Xvfb missing is a clear failure naming the package, never a skip.
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import type { Readable } from "node:stream";

export interface Xvfb {
  display: string;
  close(): Promise<void>;
}

export async function startXvfb(): Promise<Xvfb> {
  let child: ChildProcess;
  const display = await new Promise<string>((resolve, reject) => {
    // -noreset: the server must not reset between the tests' connections.
    child = spawn("Xvfb", ["-displayfd", "3", "-nolisten", "tcp", "-noreset", "-screen", "0", "320x240x24"], {
      stdio: ["ignore", "ignore", "pipe", "pipe"],
    });
    let err = "";
    let out = "";
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "ENOENT" ? new Error("Xvfb is not installed (apt-get install -y xvfb): the X11 tests need it") : e),
    );
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    (child.stdio[3] as Readable).on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("\n")) resolve(`:${out.trim()}`);
    });
    child.on("exit", (code) => reject(new Error(`Xvfb exited (${code}) before it was ready: ${err.slice(-500)}`)));
  });
  return {
    display,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

interface XDisplay {
  client: {
    require(name: string, cb: (err: Error | null, ext: XTest & XKb) => void): void;
    GetKeyboardMapping(start: number, n: number, cb: (err: Error | null, rows: number[][]) => void): void;
    sync(): Promise<void>;
    terminate(): void;
    on(ev: "error", cb: (e: Error) => void): void;
  };
  screen: Array<{ root: number }>;
  min_keycode: number;
  max_keycode: number;
}
interface XTest {
  KeyPress: number;
  KeyRelease: number;
  FakeInput(type: number, keycode: number, time: number, wid: number, x: number, y: number): void;
}
interface XKb {
  GetControls(device: number, cb: (err: Error | null, c: { repeatDelay: number; repeatInterval: number }) => void): void;
}

export interface Keyboard {
  /** Presses the keys of an X keysym (e.g. 0xffe3 Control_L), in order; resolves once the server has them. */
  press(...keysyms: number[]): Promise<void>;
  release(...keysyms: number[]): Promise<void>;
  /** The server's autorepeat delay and interval (ms), from XKB. */
  repeat(): Promise<{ delayMs: number; intervalMs: number }>;
  close(): void;
}

export const KEYSYM = { Control_L: 0xffe3, space: 0x20, F12: 0xffc9, Caps_Lock: 0xffe5 } as const;

/** A second X connection that types through XTEST. */
export async function keyboard(display: string): Promise<Keyboard> {
  const x11 = createRequire(import.meta.url)("x11") as {
    createClient(o: { display: string }, cb: (err: Error | null, d: XDisplay) => void): XDisplay["client"];
  };
  const d = await new Promise<XDisplay>((resolve, reject) => x11.createClient({ display }, (e, d) => (e ? reject(e) : resolve(d))));
  const X = d.client;
  X.on("error", () => {});
  const ext = (name: string) => new Promise<XTest & XKb>((resolve, reject) => X.require(name, (e, x) => (e ? reject(e) : resolve(x))));
  const xtest = await ext("xtest");
  const rows = await new Promise<number[][]>((resolve, reject) =>
    X.GetKeyboardMapping(d.min_keycode, d.max_keycode - d.min_keycode + 1, (e, r) => (e ? reject(e) : resolve(r))),
  );
  const keycode = (keysym: number) => {
    const i = rows.findIndex((r) => r[0] === keysym);
    if (i < 0) throw new Error(`no key for keysym 0x${keysym.toString(16)}`);
    return d.min_keycode + i;
  };
  const root = d.screen[0]!.root;
  const send = async (type: number, keysyms: number[]) => {
    for (const k of keysyms) xtest.FakeInput(type, keycode(k), 0, root, 0, 0);
    await X.sync();
  };
  return {
    press: (...k) => send(xtest.KeyPress, k),
    release: (...k) => send(xtest.KeyRelease, k),
    async repeat() {
      const xkb = await ext("xkb");
      const c = await new Promise<{ repeatDelay: number; repeatInterval: number }>((resolve, reject) =>
        xkb.GetControls(0x100, (e, c) => (e ? reject(e) : resolve(c))),
      );
      return { delayMs: c.repeatDelay, intervalMs: c.repeatInterval };
    },
    close: () => X.terminate(),
  };
}
