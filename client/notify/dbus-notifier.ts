// Notifier over the freedesktop Notifications service (org.freedesktop.Notifications.Notify on
// the session bus, as every desktop and notification daemon provides), through dbus-next. It
// connects on first use; without a session bus the first notice fails and says why.
import { createRequire } from "node:module";
import type { DesktopNotice, Notifier } from "./notifier.js";

interface Bus {
  call(msg: unknown): Promise<{ body: unknown[] }>;
  on(ev: "error", cb: (e: unknown) => void): void;
  disconnect(): void;
}
interface DbusNext {
  sessionBus(opts?: { busAddress?: string }): Bus;
  Message: new (o: Record<string, unknown>) => unknown;
}

const SERVICE = "org.freedesktop.Notifications";
const PATH = "/org/freedesktop/Notifications";
/** How long a notice may take to be accepted before it counts as failed. */
const CALL_TIMEOUT_MS = 3_000;

export class DbusNotifier implements Notifier {
  readonly #appName: string;
  readonly #busAddress: string | undefined;
  #bus: Bus | undefined;
  #lastError: string | undefined;

  /** `busAddress`: a session bus to use instead of the environment's (tests). */
  constructor(appName = "dialtone", busAddress?: string) {
    this.#appName = appName;
    this.#busAddress = busAddress;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  async notify(notice: DesktopNotice): Promise<void> {
    try {
      const dbus = createRequire(import.meta.url)("dbus-next") as DbusNext;
      if (!this.#bus) {
        const bus = dbus.sessionBus(this.#busAddress ? { busAddress: this.#busAddress } : undefined); // throws without a bus address
        bus.on("error", (e) => {
          this.#lastError = `the session bus failed: ${e instanceof Error ? e.message : String(e)}`;
          this.#bus = undefined;
        });
        this.#bus = bus;
      }
      // Notify(app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout)
      const call = this.#bus.call(
        new dbus.Message({
          destination: SERVICE,
          path: PATH,
          interface: SERVICE,
          member: "Notify",
          signature: "susssasa{sv}i",
          body: [this.#appName, 0, "", notice.title, notice.body, [], {}, -1],
        }),
      );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from ${SERVICE} in ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
      });
      try {
        await Promise.race([call, timeout]);
      } finally {
        clearTimeout(timer);
      }
      this.#lastError = undefined;
    } catch (err) {
      this.#lastError = `desktop notifications are unavailable: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  close(): void {
    this.#bus?.disconnect();
    this.#bus = undefined;
  }
}
