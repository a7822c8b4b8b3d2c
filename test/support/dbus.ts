// A real D-Bus session bus for tests (dbus-daemon --session on a private socket), and a stand-in
// org.freedesktop.Notifications service on it that records what it is asked to show, as a
// notification daemon would. dbus-daemon missing is a clear failure naming the package.
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";

export interface SessionBus {
  address: string;
  close(): Promise<void>;
}

export async function startSessionBus(): Promise<SessionBus> {
  let child: ChildProcess;
  const address = await new Promise<string>((resolve, reject) => {
    child = spawn("dbus-daemon", ["--session", "--nofork", "--nopidfile", "--print-address=1"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "ENOENT" ? new Error("dbus-daemon is not installed (apt-get install -y dbus-daemon): the D-Bus tests need it") : e),
    );
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("\n")) resolve(out.trim());
    });
    child.on("exit", (code) => reject(new Error(`dbus-daemon exited (${code}) before it was ready: ${err.slice(-500)}`)));
  });
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export interface ShownNotice {
  appName: string;
  summary: string;
  body: string;
}

interface Msg {
  type: number;
  serial: number;
  sender: string;
  interface: string;
  member: string;
  body: unknown[];
}
interface DbusNext {
  sessionBus(opts: { busAddress: string }): {
    requestName(name: string, flags: number): Promise<number>;
    addMethodHandler(fn: (m: Msg) => boolean): void;
    send(m: unknown): void;
    disconnect(): void;
  };
  Message: { newMethodReturn(m: Msg, signature: string, body: unknown[]): unknown };
}

/** Claims org.freedesktop.Notifications on the bus and records each Notify call. */
export async function standInNotifications(address: string): Promise<{ shown: ShownNotice[]; close(): void }> {
  const dbus = createRequire(import.meta.url)("dbus-next") as DbusNext;
  const bus = dbus.sessionBus({ busAddress: address });
  const shown: ShownNotice[] = [];
  let id = 0;
  bus.addMethodHandler((m) => {
    if (m.interface !== "org.freedesktop.Notifications" || m.member !== "Notify") return false;
    shown.push({ appName: String(m.body[0]), summary: String(m.body[3]), body: String(m.body[4]) });
    bus.send(dbus.Message.newMethodReturn(m, "u", [++id]));
    return true;
  });
  await bus.requestName("org.freedesktop.Notifications", 0);
  return { shown, close: () => bus.disconnect() };
}
