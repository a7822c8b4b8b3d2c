import { expect, test } from "@jest/globals";
import { iceServersFromFlags, parseIceUrl, resolveIceConfig } from "./ice-config.js";

test("flags: comma lists, schemes added when missing (the earlier daemon's rule)", () => {
  expect(
    iceServersFromFlags({
      stun: "a.example:3478, stun:b.example",
      turn: "t.example:3478,turns:u.example:5349",
      turnUser: "u",
      turnPass: "p",
    }),
  ).toEqual([
    { urls: ["stun:a.example:3478", "stun:b.example"] },
    { urls: ["turn:t.example:3478", "turns:u.example:5349"], username: "u", credential: "p" },
  ]);
  expect(iceServersFromFlags({ stun: "", turn: "", turnUser: "", turnPass: "" })).toEqual([]);
});

test("URLs: scheme, host, default ports, transport", () => {
  expect(parseIceUrl("turn:127.0.0.1:3478?transport=tcp")).toMatchObject({
    kind: "turn",
    secure: false,
    host: "127.0.0.1",
    port: 3478,
    transport: "tcp",
  });
  expect(parseIceUrl("turns:turn.example")).toMatchObject({ kind: "turn", secure: true, port: 5349 });
  expect(parseIceUrl("stun:[::1]:19302")).toMatchObject({ kind: "stun", host: "::1", port: 19302 });
  expect(parseIceUrl("http://x")).toBeUndefined();
  expect(parseIceUrl("turn:host:99999")).toBeUndefined();
});

test("werift gets one STUN and one TURN; the rest are reported, not silently dropped", () => {
  const c = resolveIceConfig(
    [
      { urls: ["stun:s1:3478", "stun:s2:3478"] },
      { urls: ["turn:t1:3478", "turn:t2:3478"], username: "u", credential: "p" },
      { urls: ["bogus"] },
    ],
    false,
  );
  expect(c.servers).toEqual([{ urls: ["stun:s1:3478"] }, { urls: ["turn:t1:3478"], username: "u", credential: "p" }]);
  expect(c.warnings).toHaveLength(3);
});

test("relay-only without a usable TURN server is an error, not a quiet fallback to host candidates", () => {
  expect(() => resolveIceConfig([], true)).toThrow(/relay-only needs a TURN server/);
  expect(() => resolveIceConfig([{ urls: ["turn:t:3478"] }], true)).toThrow(/relay-only/); // no credentials
  expect(() => resolveIceConfig([{ urls: ["stun:s:3478"] }], true)).toThrow(/relay-only/);
  const c = resolveIceConfig([{ urls: ["stun:s:3478"] }, { urls: ["turn:t:3478"], username: "u", credential: "p" }], true);
  expect(c.servers).toEqual([{ urls: ["turn:t:3478"], username: "u", credential: "p" }]); // no STUN when relaying only
});
