import { expect, test } from "@jest/globals";
import { createLogger } from "../log.js";
import { openPortalBus } from "./dbus.js";
import { SpeakingControl, type PttBackend } from "./speaking.js";

function control(backend: PttBackend, openPortalBus: () => Promise<never>) {
  const info: string[] = [];
  const errors: string[] = [];
  const c = new SpeakingControl({
    backend,
    vadThreshold: 500,
    openPortalBus,
    env: {},
    log: createLogger({ level: "error", write: () => {} }),
    onInfo: (m) => info.push(m),
    onError: (m) => errors.push(m),
    onChange: () => {},
  });
  return { c, info, errors };
}

test("without a session bus the real portal attempt fails fast, and push-to-talk falls back to VAD saying why", async () => {
  const started = Date.now();
  const { c, info, errors } = control("auto", () => openPortalBus(2000) as Promise<never>);
  const env = { ...process.env };
  delete process.env.DBUS_SESSION_BUS_ADDRESS;
  delete process.env.DISPLAY;
  try {
    await c.configure("ctrl+v");
  } finally {
    Object.assign(process.env, env);
  }
  expect(Date.now() - started).toBeLessThan(3000);
  expect(c.mode).toBe("vad");
  expect(info.join()).toMatch(/push-to-talk unavailable \(portal: .+\); using voice activity detection \(threshold 500\)/);
  expect(errors).toEqual([]); // "auto": a notice, not an error
});

test("backend portal reports its failure as an error; backend none and an empty key mean VAD", async () => {
  const fail = () => Promise.reject(new Error("no bus"));
  const p = control("portal", fail as () => Promise<never>);
  await p.c.configure("ctrl+v");
  expect(p.errors.join()).toMatch(/portal failed: no bus/);
  const n = control("none", fail as () => Promise<never>);
  await n.c.configure("ctrl+v");
  expect(n.info.join()).toMatch(/backend is "none"/);
  const v = control("auto", fail as () => Promise<never>);
  await v.c.configure("");
  expect(v.info).toEqual(["push-to-talk off; using voice activity detection (threshold 500)"]);
  expect(v.c.mode).toBe("vad");
});

test("mute overrides the VAD", async () => {
  const { c } = control("none", (() => Promise.reject(new Error("x"))) as () => Promise<never>);
  await c.configure("");
  expect([1000, 1000, 1000].map((l) => c.update(l))).toEqual([false, true, true]);
  c.muted = true;
  expect(c.update(1000)).toBe(false);
});
