import { expect, test } from "@jest/globals";
import { JitterBuffer, type Playout } from "./jitter-buffer.js";

const pkt = (n: number) => new Uint8Array([n & 0xff]);
const kinds = (ps: Playout[]) =>
  ps.map((p) => (p.kind === "packet" ? `p${p.payload[0]}` : p.kind === "lost" ? (p.next ? `L>${p.next[0]}` : "L") : "-"));

/** Pulls one frame per 20 ms from `from` to `to` (ms). */
function pullRange(jb: JitterBuffer, from: number, to: number): Playout[] {
  const out: Playout[] = [];
  for (let t = from; t < to; t += 20) out.push(jb.pull(t));
  return out;
}

test("holds the target delay, then plays in sequence order", () => {
  const jb = new JitterBuffer({ minTargetMs: 40 });
  jb.push(100, 0, pkt(0), 0);
  expect(jb.pull(0).kind).toBe("idle");
  expect(jb.pull(20).kind).toBe("idle");
  jb.push(101, 960, pkt(1), 20);
  jb.push(102, 1920, pkt(2), 40);
  expect(kinds(pullRange(jb, 40, 100))).toEqual(["p0", "p1", "p2"]);
});

test("reorders packets that arrive out of order within the delay", () => {
  const jb = new JitterBuffer({ minTargetMs: 60 });
  for (const [seq, at] of [
    [10, 0],
    [12, 5],
    [11, 8],
    [14, 30],
    [13, 31],
  ] as const)
    jb.push(seq, (seq - 10) * 960, pkt(seq), at);
  expect(kinds(pullRange(jb, 60, 160))).toEqual(["p10", "p11", "p12", "p13", "p14"]);
  expect(jb.stats()).toMatchObject({ received: 5, lost: 0, late: 0 });
});

test("a missing packet is reported lost, with the next one offered for FEC; when it comes late it is dropped", () => {
  const jb = new JitterBuffer({ minTargetMs: 40 });
  jb.push(1, 0, pkt(1), 0);
  jb.push(3, 1920, pkt(3), 40);
  jb.push(4, 2880, pkt(4), 60);
  const out = pullRange(jb, 40, 120);
  expect(kinds(out)).toEqual(["p1", "L>3", "p3", "p4"]);
  jb.push(2, 960, pkt(2), 130); // too late
  expect(jb.stats()).toMatchObject({ received: 4, late: 1 });
});

test("RFC 3550 loss counts packets that never came", () => {
  const jb = new JitterBuffer();
  for (const seq of [1, 2, 4, 5, 8]) jb.push(seq, seq * 960, pkt(seq), seq * 20);
  expect(jb.stats().lost).toBe(3);
});

test("an empty buffer conceals a few frames and then goes idle; the next talkspurt buffers again", () => {
  const jb = new JitterBuffer({ minTargetMs: 40, maxConcealFrames: 3 });
  jb.push(1, 0, pkt(1), 0);
  jb.push(2, 960, pkt(2), 20);
  const out = pullRange(jb, 40, 160);
  expect(kinds(out)).toEqual(["p1", "p2", "L", "L", "L", "-"]);
  expect(jb.active).toBe(false);
  // Same sequence continues (the sender stopped while silent): no loss, buffering anew.
  jb.push(3, 50 * 960, pkt(3), 1000);
  expect(jb.pull(1000).kind).toBe("idle");
  const later = pullRange(jb, 1060, 1100);
  expect(kinds(later)[0]).toBe("p3");
  expect(jb.stats().lost).toBe(0);
});

test("a packet delayed past an empty pull still plays (the delay grows instead)", () => {
  const jb = new JitterBuffer({ minTargetMs: 40 });
  jb.push(1, 0, pkt(1), 0);
  expect(kinds(pullRange(jb, 40, 80))).toEqual(["p1", "L"]);
  jb.push(2, 960, pkt(2), 75);
  expect(kinds([jb.pull(80)])).toEqual(["p2"]);
  expect(jb.stats().late).toBe(0);
});

test("sequence numbers wrap around 65535", () => {
  const jb = new JitterBuffer({ minTargetMs: 40 });
  [65534, 65535, 0, 1].forEach((seq, i) => jb.push(seq, i * 960, pkt(i), i * 20));
  expect(kinds(pullRange(jb, 60, 140))).toEqual(["p0", "p1", "p2", "p3"]);
  expect(jb.stats().lost).toBe(0);
});

test("an overgrown queue is trimmed back to the target delay", () => {
  const jb = new JitterBuffer({ minTargetMs: 40 });
  for (let i = 0; i < 30; i++) jb.push(i, i * 960, pkt(i), 0); // a burst of 600 ms at once
  const first = jb.pull(40);
  expect(first.kind).toBe("packet");
  expect(first.kind === "packet" && first.payload[0]).toBeGreaterThan(20);
  expect(jb.stats().trimmed).toBeGreaterThan(20);
});

test("jitter follows RFC 3550 and raises the next talkspurt's target delay", () => {
  const jb = new JitterBuffer({ minTargetMs: 40, maxTargetMs: 200 });
  // Packets every 20 ms of RTP time arriving alternately 0 and 30 ms late.
  for (let i = 0; i < 200; i++) jb.push(i, i * 960, pkt(i), i * 20 + (i % 2 ? 30 : 0));
  expect(jb.stats().jitterMs).toBeGreaterThan(20);
  const fresh = new JitterBuffer({ minTargetMs: 40 });
  expect(fresh.stats().targetMs).toBe(40);
});

test("the end of a talkspurt does not grow the delay; an underrun (the awaited packet arriving just after) does", () => {
  const jb = new JitterBuffer({ minTargetMs: 40, maxConcealFrames: 2 });
  let seq = 0;
  let t = 0;
  // Ten talkspurts of 5 packets, each starting with the marker bit, 1 s apart.
  for (let k = 0; k < 10; k++, t += 1000) {
    for (let i = 0; i < 5; i++) jb.push(seq++, (t / 20 + i) * 960, pkt(i), t + i * 20, i === 0);
    pullRange(jb, t, t + 300);
  }
  expect(jb.stats().targetMs).toBe(40);
  // Now the next packet of a talkspurt comes 70 ms late, after the buffer gave up on it.
  jb.push(seq++, (t / 20) * 960, pkt(0), t, true);
  pullRange(jb, t, t + 140); // plays 1, conceals 2, goes idle
  jb.push(seq++, (t / 20 + 1) * 960, pkt(1), t + 150);
  expect(jb.stats().targetMs).toBe(60);
});
