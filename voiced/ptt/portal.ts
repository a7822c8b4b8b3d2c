// Push-to-talk through the XDG GlobalShortcuts portal (org.freedesktop.portal.GlobalShortcuts):
// CreateSession, BindShortcuts, then Activated/Deactivated signals. The D-Bus connection sits
// behind PortalBus (dbus-next in ptt/dbus.ts, a fake in tests).

export interface PortalSignal {
  path: string;
  interface: string;
  member: string;
  body: unknown[];
}

export interface PortalBus {
  /** Our unique bus name (":1.42"), which request object paths are derived from. */
  readonly uniqueName: string;
  /** A method call on the portal's desktop object; resolves with the reply body. */
  call(iface: string, member: string, signature: string, body: unknown[], path?: string): Promise<unknown[]>;
  /** Subscribes to signals matching a rule; returns an unsubscribe function. */
  subscribe(rule: string, onSignal: (s: PortalSignal) => void): Promise<() => void>;
  /** A D-Bus variant of the given signature (a{sv} values). */
  variant(signature: string, value: unknown): unknown;
  close(): void;
}

export interface PushToTalkBinding {
  /** The trigger the desktop actually bound, when it says. */
  readonly trigger: string | undefined;
  close(): Promise<void>;
}

export interface PortalOptions {
  /** e.g. "ctrl+v" (our notation), turned into the shortcuts-spec form "CTRL+v". */
  key: string;
  /** DIALTONE_PORTAL_PARENT_WINDOW / WINDOWID, as the earlier daemon. */
  parentWindow?: string;
  onChange: (pressed: boolean) => void;
  /** How long to wait for each portal request's Response (the bind may show a dialog). */
  requestTimeoutMs?: number;
  random?: () => string;
}

const DESKTOP = "/org/freedesktop/portal/desktop";
const SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts";
const REQUEST = "org.freedesktop.portal.Request";
export const SHORTCUT_ID = "dialtone_ptt";

const MODIFIERS: Record<string, string> = {
  ctrl: "CTRL",
  control: "CTRL",
  shift: "SHIFT",
  alt: "ALT",
  super: "LOGO",
  logo: "LOGO",
  meta: "LOGO",
};

/** "ctrl+shift+v" → "CTRL+SHIFT+v" (XDG shortcuts specification trigger). */
export function portalTrigger(key: string): string {
  const parts = key
    .split("+")
    .map((p) => p.trim())
    .filter(Boolean);
  if (!parts.length) throw new Error("push-to-talk key is empty");
  const last = parts.pop()!;
  return [
    ...parts.map((p) => MODIFIERS[p.toLowerCase()] ?? p.toUpperCase()),
    last === "capslock" || last === "caps" ? "Caps_Lock" : last,
  ].join("+");
}

/** The earlier daemon's parent-window rule: explicit, else an X11 window id from the terminal. */
export function parentWindow(env: NodeJS.ProcessEnv): string {
  if (env.DIALTONE_PORTAL_PARENT_WINDOW) return env.DIALTONE_PORTAL_PARENT_WINDOW;
  const id = env.WINDOWID ?? env.ALACRITTY_WINDOW_ID;
  const n = id ? Number(id) : NaN;
  return Number.isInteger(n) && n > 0 ? `x11:0x${n.toString(16)}` : "";
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

/** Runs one portal request: subscribes to its Response first (no race), then calls. */
async function request(
  bus: PortalBus,
  member: string,
  signature: string,
  body: (token: string) => unknown[],
  o: PortalOptions,
): Promise<Record<string, unknown>> {
  const token = `dialtone_${(o.random ?? (() => Math.random().toString(36).slice(2)))()}`;
  const sender = bus.uniqueName.replace(/^:/, "").replace(/\./g, "_");
  const path = `${DESKTOP}/request/${sender}/${token}`;
  let settle: (r: Record<string, unknown>) => void = () => {};
  let fail: (e: Error) => void = () => {};
  const answered = new Promise<Record<string, unknown>>((resolve, reject) => ((settle = resolve), (fail = reject)));
  const unsubscribe = await bus.subscribe(`type='signal',interface='${REQUEST}',member='Response',path='${path}'`, (s) => {
    if (s.path !== path || s.member !== "Response") return;
    const [code, results] = s.body as [number, Record<string, unknown>];
    if (code === 0) settle(results ?? {});
    else fail(new Error(`${member} ${code === 1 ? "was cancelled by the user" : "failed"} (response ${code})`));
  });
  try {
    await bus.call(SHORTCUTS, member, signature, body(token));
    return await withTimeout(answered, o.requestTimeoutMs ?? 45_000, member);
  } finally {
    unsubscribe();
  }
}

const unwrap = (v: unknown): unknown => (v !== null && typeof v === "object" && "value" in v ? (v as { value: unknown }).value : v);

/** Binds the push-to-talk shortcut; rejects with a reason when the portal is not usable. */
export async function bindPushToTalk(bus: PortalBus, o: PortalOptions): Promise<PushToTalkBinding> {
  const session = await request(
    bus,
    "CreateSession",
    "a{sv}",
    (token) => [{ handle_token: bus.variant("s", token), session_handle_token: bus.variant("s", `dialtone_session_${token.slice(9)}`) }],
    o,
  );
  const handle = String(unwrap(session.session_handle) ?? "");
  if (!handle) throw new Error("CreateSession returned no session handle");

  const shortcut = (withTrigger: boolean) => [
    SHORTCUT_ID,
    {
      description: bus.variant("s", "Dialtone push-to-talk"),
      ...(withTrigger ? { preferred_trigger: bus.variant("s", portalTrigger(o.key)) } : {}),
    },
  ];
  const bind = (withTrigger: boolean) =>
    request(
      bus,
      "BindShortcuts",
      "oa(sa{sv})sa{sv}",
      (token) => [handle, [shortcut(withTrigger)], o.parentWindow ?? "", { handle_token: bus.variant("s", token) }],
      o,
    );
  let bound: Record<string, unknown>;
  try {
    bound = await bind(true);
  } catch {
    bound = await bind(false); // some desktops refuse a preferred trigger they cannot grant
  }
  const shortcuts = (unwrap(bound.shortcuts) ?? []) as Array<[string, Record<string, unknown>]>;
  const mine = shortcuts.find((s) => s[0] === SHORTCUT_ID);
  const trigger = mine ? (unwrap(mine[1]?.trigger_description) as string | undefined) : undefined;

  const stop = await bus.subscribe(`type='signal',interface='${SHORTCUTS}',path='${DESKTOP}'`, (s) => {
    if (s.interface !== SHORTCUTS || (s.member !== "Activated" && s.member !== "Deactivated")) return;
    const [sessionHandle, id] = s.body as [string, string];
    if (sessionHandle === handle && id === SHORTCUT_ID) o.onChange(s.member === "Activated");
  });
  return {
    trigger,
    async close() {
      stop();
      await bus.call("org.freedesktop.portal.Session", "Close", "", [], handle).catch(() => {});
      bus.close();
    },
  };
}
