import { expect, test } from "@jest/globals";
import { resolveIceConfig, type ParsedIceUrl, type TurnServer } from "./ice-config.js";
import { firstWorking, NoUsableTurnError, selectIce } from "./ice-select.js";

/** A probe that fails for the listed URLs (after `ms`), and records what it was asked. */
function probe(failing: Record<string, number>, asked: string[]) {
  return async (u: ParsedIceUrl | TurnServer) => {
    asked.push(u.url);
    const ms = failing[u.url];
    if (ms === undefined) return;
    await new Promise((r) => setTimeout(r, ms));
    throw new Error(`${u.url} did not answer`);
  };
}

const servers = [
  { urls: ["stun:s1:3478", "stun:s2:3478"] },
  { urls: ["turn:t:3478", "turn:t:3478?transport=tcp", "turns:t:5349"], username: "u", credential: "p" },
];

test("firstWorking: the first in order that passed, not the first to answer; earlier failures listed", async () => {
  const order: string[] = [];
  const p = (x: string) =>
    new Promise<void>((resolve, reject) =>
      // b answers at once, a fails later: a comes first in the order, so b wins only after a failed.
      setTimeout(() => (order.push(x), x === "a" ? reject(new Error("a down")) : resolve()), x === "a" ? 30 : 0),
    );
  await expect(firstWorking(["a", "b", "c"], p)).resolves.toEqual({ chosen: "b", failed: [{ item: "a", reason: "a down" }] });
  expect(order.indexOf("b")).toBeLessThan(order.indexOf("a")); // b answered first, yet a was waited for
  await expect(firstWorking(["a"], p)).resolves.toEqual({ chosen: undefined, failed: [{ item: "a", reason: "a down" }] });
  await expect(firstWorking([], p)).resolves.toEqual({ chosen: undefined, failed: [] });
});

test("an unreachable UDP TURN URL is skipped for the TCP one after it, with a notice; all URLs are probed at once", async () => {
  const asked: string[] = [];
  const { ice, notices } = await selectIce(resolveIceConfig(servers, true), {
    turn: probe({ "turn:t:3478": 5 }, asked),
    stun: probe({}, asked),
  });
  expect(ice.servers).toEqual([{ urls: ["turn:t:3478?transport=tcp"], username: "u", credential: "p" }]);
  expect(asked).toEqual(["turn:t:3478", "turn:t:3478?transport=tcp", "turns:t:5349"]); // relay-only: no STUN
  expect(notices).toEqual(["turn:t:3478 did not answer; using TURN server turn:t:3478?transport=tcp"]);
});

test("STUN falls back the same way; with every TURN URL down the call goes on without TURN unless relay-only", async () => {
  const down = { "turn:t:3478": 1, "turn:t:3478?transport=tcp": 1, "turns:t:5349": 1, "stun:s1:3478": 1 };
  const { ice, notices } = await selectIce(resolveIceConfig(servers, false), { turn: probe(down, []), stun: probe(down, []) });
  expect(ice.servers).toEqual([{ urls: ["stun:s2:3478"] }]);
  expect(ice.turn).toBeUndefined();
  expect(notices).toEqual([
    "turn:t:3478 did not answer; turn:t:3478?transport=tcp did not answer; turns:t:5349 did not answer; continuing without TURN",
    "stun:s1:3478 did not answer; using STUN server stun:s2:3478",
  ]);
  await expect(selectIce(resolveIceConfig(servers, true), { turn: probe(down, []), stun: probe(down, []) })).rejects.toThrow(
    new NoUsableTurnError("turn:t:3478 did not answer; turn:t:3478?transport=tcp did not answer; turns:t:5349 did not answer"),
  );
});
