import { expect, test } from "@jest/globals";
import { chooseIce, iceServersFromFlags, parseIceUrl, resolveIceConfig } from "./ice-config.js";

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

test("every STUN and TURN URL is kept in order; werift gets the first of each until a probe picks another", () => {
  const c = resolveIceConfig(
    [
      { urls: ["stun:s1:3478", "stun:s2:3478"] },
      { urls: ["turn:t1:3478", "turn:t1:3478?transport=tcp", "turns:t1:5349"], username: "u", credential: "p" },
      { urls: ["turn:t2:3478"] },
      { urls: ["bogus"] },
    ],
    false,
  );
  expect(c.stuns.map((s) => s.url)).toEqual(["stun:s1:3478", "stun:s2:3478"]);
  expect(c.turns.map((t) => t.url)).toEqual(["turn:t1:3478", "turn:t1:3478?transport=tcp", "turns:t1:5349"]);
  expect(c.servers).toEqual([{ urls: ["stun:s1:3478"] }, { urls: ["turn:t1:3478"], username: "u", credential: "p" }]);
  // The URL without credentials and the bogus one are reported, not silently dropped.
  expect(c.warnings).toEqual([expect.stringContaining("turn:t2:3478: no username/credential"), expect.stringContaining('"bogus"')]);
  const picked = chooseIce(c, c.stuns[1], c.turns[1]);
  expect(picked.servers).toEqual([{ urls: ["stun:s2:3478"] }, { urls: ["turn:t1:3478?transport=tcp"], username: "u", credential: "p" }]);
  expect(chooseIce(c, undefined, undefined).servers).toEqual([]);
});

test("relay-only without a usable TURN server is an error, not a quiet fallback to host candidates", () => {
  expect(() => resolveIceConfig([], true)).toThrow(/relay-only needs a TURN server/);
  expect(() => resolveIceConfig([{ urls: ["turn:t:3478"] }], true)).toThrow(/relay-only/); // no credentials
  expect(() => resolveIceConfig([{ urls: ["stun:s:3478"] }], true)).toThrow(/relay-only/);
  const c = resolveIceConfig([{ urls: ["stun:s:3478"] }, { urls: ["turn:t:3478"], username: "u", credential: "p" }], true);
  expect(c.servers).toEqual([{ urls: ["turn:t:3478"], username: "u", credential: "p" }]); // no STUN when relaying only
});
