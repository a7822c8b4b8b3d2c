import { expect, test } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../gen/dialtone/v1/event_pb.js";
import { Outbox } from "./outbox.js";
import { Subscriber } from "./subscriber.js";

const durable = (seq: bigint): Event => create(EventSchema, { seq, payload: { case: "channelDeleted", value: { channelId: `c${seq}` } } });
const ephemeral = (tag: string): Event => create(EventSchema, { seq: 0n, payload: { case: "channelDeleted", value: { channelId: tag } } });
const label = (e: Event) => (e.payload.case === "channelDeleted" ? e.payload.value.channelId : "?");

/** Real subscribers, attached to sinks that record what they were handed. */
function streams(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const got: string[] = [];
    const sub = new Subscriber(`s${i}`, "u", `d${i}`, 0n, 100);
    sub.attach({ write: (e) => (got.push(label(e)), true), end: () => {} });
    return { sub, got };
  });
}
const turn = () => new Promise((r) => setImmediate(r));

test("a slice at a time: the rest waits for the next event-loop turn, and every stream gets all, in order", async () => {
  const s = streams(5);
  const box = new Outbox(2);
  box.push(
    durable(1n),
    s.map((x) => x.sub),
  );
  box.push(ephemeral("e"), [s[4]!.sub, s[0]!.sub]);
  box.push(
    durable(2n),
    s.map((x) => x.sub),
  );
  expect(s.map((x) => x.got.length)).toEqual([1, 1, 0, 0, 0]);
  expect(box.backlog).toBe(3 + 2 + 5);
  for (let i = 0; i < 10 && box.backlog > 0; i++) await turn();
  expect(box.backlog).toBe(0);
  expect(s[0]!.got).toEqual(["c1", "e", "c2"]);
  expect(s[4]!.got).toEqual(["c1", "e", "c2"]);
  expect(s[2]!.got).toEqual(["c1", "c2"]);
});

test("`then` runs once every recipient has the event; a push from inside a delivery waits its turn", async () => {
  const s = streams(3);
  const box = new Outbox(10);
  const order: string[] = [];
  box.push(
    durable(1n),
    s.map((x) => x.sub),
    () => {
      order.push(`then:${s.map((x) => x.got.length).join("")}`);
      box.push(
        durable(2n),
        s.map((x) => x.sub),
        () => order.push("then2"),
      );
      order.push("pushed");
    },
  );
  for (let i = 0; i < 5 && box.backlog > 0; i++) await turn();
  expect(order).toEqual(["then:111", "pushed", "then2"]);
  expect(s.map((x) => x.got)).toEqual([
    ["c1", "c2"],
    ["c1", "c2"],
    ["c1", "c2"],
  ]);
});

test("clear drops what is queued (shutdown)", async () => {
  const s = streams(4);
  const box = new Outbox(1);
  box.push(
    durable(1n),
    s.map((x) => x.sub),
  );
  box.clear();
  await turn();
  await turn();
  expect(s.map((x) => x.got.length)).toEqual([1, 0, 0, 0]);
  expect(box.backlog).toBe(0);
});

test("past the backlog bound everything queued is handed over at once, where the streams' own bound applies", () => {
  const s = streams(3);
  const box = new Outbox(1, 4);
  box.push(
    durable(1n),
    s.map((x) => x.sub),
  ); // 1 handed, 2 queued
  expect(box.backlog).toBe(2);
  box.push(
    durable(2n),
    s.map((x) => x.sub),
  ); // 5 queued > 4: all at once
  expect(box.backlog).toBe(0);
  expect(s.map((x) => x.got)).toEqual([
    ["c1", "c2"],
    ["c1", "c2"],
    ["c1", "c2"],
  ]);
});
