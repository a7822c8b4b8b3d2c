import { afterEach, beforeEach, expect, jest, test } from "@jest/globals";
import { UseTracker } from "./lifetime.js";

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

function tracker(idle = { value: true }) {
  const exits: number[] = [];
  const t = new UseTracker({ graceMs: 1000, startGraceMs: 10_000, idle: () => idle.value, onUnused: () => exits.push(Date.now()) });
  return { t, exits, idle };
}

test("a daemon nobody connects to goes after the start grace; one that a client watches stays", () => {
  const a = tracker();
  jest.advanceTimersByTime(10_000);
  expect(a.exits).toHaveLength(1);

  const b = tracker();
  const release = b.t.hold(); // the client that started it watches
  jest.advanceTimersByTime(60_000);
  expect(b.exits).toHaveLength(0);
  release();
  jest.advanceTimersByTime(999);
  expect(b.exits).toHaveLength(0);
  jest.advanceTimersByTime(1);
  expect(b.exits).toHaveLength(1);
});

test("in a room it stays without watchers; leaving the room with nobody watching ends it", () => {
  const idle = { value: true };
  const { t, exits } = tracker(idle);
  const release = t.hold();
  idle.value = false; // joined
  t.check();
  release(); // the client went away, the call goes on
  jest.advanceTimersByTime(60_000);
  expect(exits).toHaveLength(0);
  idle.value = true; // left
  t.check();
  jest.advanceTimersByTime(1000);
  expect(exits).toHaveLength(1);
});

test("another client's watch keeps it; a use within the grace cancels the exit; onUnused fires once", () => {
  const { t, exits } = tracker();
  const other = t.hold();
  const mine = t.hold();
  mine();
  mine(); // a second release of the same use changes nothing
  jest.advanceTimersByTime(30_000);
  expect(exits).toHaveLength(0);
  other();
  jest.advanceTimersByTime(500);
  const again = t.hold(); // a join right after a leave
  jest.advanceTimersByTime(30_000);
  expect(exits).toHaveLength(0);
  again();
  t.check();
  jest.advanceTimersByTime(5000);
  t.check();
  jest.advanceTimersByTime(5000);
  expect(exits).toHaveLength(1);
});
