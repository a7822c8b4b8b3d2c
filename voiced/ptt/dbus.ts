// PortalBus over dbus-next on the session bus. Without a session bus it fails at once (no
// address to dial) or within the connect timeout: push-to-talk then falls back to VAD.
import { createRequire } from "node:module";
import type { PortalBus, PortalSignal } from "./portal.js";

interface DbusMessage {
  type: number;
  path: string;
  interface: string;
  member: string;
  body: unknown[];
  errorName?: string;
}
interface DbusNext {
  sessionBus(): {
    name: string | null;
    on(ev: string, cb: (x: unknown) => void): void;
    call(msg: unknown): Promise<DbusMessage>;
    disconnect(): void;
  };
  Message: new (o: Record<string, unknown>) => unknown;
  Variant: new (sig: string, value: unknown) => unknown;
  MessageType: { SIGNAL: number };
}

const PORTAL = "org.freedesktop.portal.Desktop";
const DESKTOP = "/org/freedesktop/portal/desktop";

export async function openPortalBus(connectTimeoutMs = 2000): Promise<PortalBus> {
  const dbus = createRequire(import.meta.url)("dbus-next") as DbusNext;
  const bus = dbus.sessionBus(); // throws when no session bus address can be found
  const listeners = new Set<(m: DbusMessage) => void>();
  const failed = new Promise<never>((_, reject) => bus.on("error", (e) => reject(e instanceof Error ? e : new Error(String(e)))));
  failed.catch(() => {});
  bus.on("message", (m) => {
    const msg = m as DbusMessage;
    if (msg.type === dbus.MessageType.SIGNAL) for (const l of listeners) l(msg);
  });
  const call = (destination: string, path: string, iface: string, member: string, signature: string, body: unknown[]) =>
    bus.call(new dbus.Message({ destination, path, interface: iface, member, signature, body })).then((r) => r.body);
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no session bus answer in ${connectTimeoutMs} ms`)), connectTimeoutMs).unref(),
  );
  try {
    // Proves the bus and the portal both exist (and completes the Hello that names us).
    await Promise.race([
      call(PORTAL, DESKTOP, "org.freedesktop.DBus.Properties", "Get", "ss", ["org.freedesktop.portal.GlobalShortcuts", "version"]),
      failed,
      timeout,
    ]);
  } catch (err) {
    bus.disconnect();
    throw err;
  }
  return {
    get uniqueName() {
      return bus.name ?? "";
    },
    call: (iface, member, signature, body, path = DESKTOP) => call(PORTAL, path, iface, member, signature, body),
    async subscribe(rule, onSignal) {
      await call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", [rule]);
      const l = (m: DbusMessage) =>
        onSignal({ path: m.path, interface: m.interface, member: m.member, body: m.body } satisfies PortalSignal);
      listeners.add(l);
      return () => {
        listeners.delete(l);
        void call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RemoveMatch", "s", [rule]).catch(() => {});
      };
    },
    variant: (sig, value) => new dbus.Variant(sig, value),
    close: () => bus.disconnect(),
  };
}
