import { expect, test } from "@jest/globals";
import { bindPushToTalk, parentWindow, portalTrigger, SHORTCUT_ID, type PortalBus, type PortalSignal } from "./portal.js";

/** A scripted GlobalShortcuts portal: answers each request with a Response signal. */
function fakeBus(o: { createCode?: number; bindCodes?: number[] } = {}) {
  const subs = new Set<(s: PortalSignal) => void>();
  const calls: Array<{ member: string; body: unknown[] }> = [];
  const bindCodes = [...(o.bindCodes ?? [0])];
  const emit = (s: PortalSignal) => setImmediate(() => subs.forEach((f) => f(s)));
  const requestPath = (token: unknown) => `/org/freedesktop/portal/desktop/request/1_42/${(token as { value: string }).value}`;
  const bus: PortalBus & { emit: typeof emit; calls: typeof calls; closed: boolean } = {
    uniqueName: ":1.42",
    calls,
    closed: false,
    emit,
    variant: (_sig, value) => ({ value }),
    async subscribe(_rule, on) {
      subs.add(on);
      return () => subs.delete(on);
    },
    async call(_iface, member, _sig, body) {
      calls.push({ member, body });
      if (member === "CreateSession") {
        const opts = body[0] as Record<string, unknown>;
        emit({
          path: requestPath(opts.handle_token),
          interface: "org.freedesktop.portal.Request",
          member: "Response",
          body: [o.createCode ?? 0, { session_handle: { value: "/org/freedesktop/portal/desktop/session/1_42/s" } }],
        });
      } else if (member === "BindShortcuts") {
        const opts = body[3] as Record<string, unknown>;
        const code = bindCodes.shift() ?? 0;
        emit({
          path: requestPath(opts.handle_token),
          interface: "org.freedesktop.portal.Request",
          member: "Response",
          body: [code, { shortcuts: { value: [[SHORTCUT_ID, { trigger_description: { value: "Ctrl+V" } }]] } }],
        });
      }
      return [];
    },
    close() {
      bus.closed = true;
    },
  };
  return bus;
}

const SESSION = "/org/freedesktop/portal/desktop/session/1_42/s";
const shortcut = (member: string, session = SESSION, id = SHORTCUT_ID): PortalSignal => ({
  path: "/org/freedesktop/portal/desktop",
  interface: "org.freedesktop.portal.GlobalShortcuts",
  member,
  body: [session, id, 0n, {}],
});

test("CreateSession, BindShortcuts, then Activated/Deactivated drive the key state", async () => {
  const bus = fakeBus();
  const presses: boolean[] = [];
  const binding = await bindPushToTalk(bus, { key: "ctrl+v", onChange: (d) => presses.push(d), requestTimeoutMs: 1000 });
  expect(binding.trigger).toBe("Ctrl+V");
  expect(bus.calls.map((c) => c.member)).toEqual(["CreateSession", "BindShortcuts"]);
  const bind = bus.calls[1]!.body as [string, Array<[string, Record<string, { value: string }>]>, string, unknown];
  expect(bind[0]).toBe(SESSION);
  expect(bind[1][0]![1].preferred_trigger!.value).toBe("CTRL+v");
  bus.emit(shortcut("Activated"));
  bus.emit(shortcut("Activated", "/other/session"));
  bus.emit(shortcut("Deactivated", SESSION, "someone_else"));
  bus.emit(shortcut("Deactivated"));
  await new Promise((r) => setTimeout(r, 20));
  expect(presses).toEqual([true, false]);
  await binding.close();
  expect(bus.calls.at(-1)!.member).toBe("Close");
  expect(bus.closed).toBe(true);
});

test("a refused preferred trigger is retried without one; a cancelled session is an error", async () => {
  const retry = fakeBus({ bindCodes: [2, 0] });
  await bindPushToTalk(retry, { key: "ctrl+v", onChange: () => {}, requestTimeoutMs: 1000 });
  const binds = retry.calls.filter((c) => c.member === "BindShortcuts");
  expect(binds).toHaveLength(2);
  expect((binds[1]!.body[1] as Array<[string, Record<string, unknown>]>)[0]![1].preferred_trigger).toBeUndefined();
  await expect(bindPushToTalk(fakeBus({ createCode: 1 }), { key: "ctrl+v", onChange: () => {}, requestTimeoutMs: 1000 })).rejects.toThrow(
    /cancelled/,
  );
});

test("no Response in time is an error (not a hang)", async () => {
  const bus = fakeBus();
  bus.call = async () => [];
  await expect(bindPushToTalk(bus, { key: "v", onChange: () => {}, requestTimeoutMs: 50 })).rejects.toThrow(/no answer/);
});

test("triggers and parent windows", () => {
  expect(portalTrigger("ctrl+shift+space")).toBe("CTRL+SHIFT+space");
  expect(portalTrigger("caps")).toBe("Caps_Lock");
  expect(portalTrigger("F9")).toBe("F9");
  expect(() => portalTrigger("")).toThrow();
  expect(parentWindow({ WINDOWID: "4194311" })).toBe("x11:0x400007");
  expect(parentWindow({ DIALTONE_PORTAL_PARENT_WINDOW: "wayland:abc", WINDOWID: "1" })).toBe("wayland:abc");
  expect(parentWindow({})).toBe("");
});
