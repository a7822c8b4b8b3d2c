import { expect, test } from "@jest/globals";
import { FRAME_SAMPLES } from "../audio/format.js";
import type { AudioDecoder } from "./codec.js";
import { PeerPlayout } from "./playout.js";

const filled = (v: number) => new Int16Array(FRAME_SAMPLES).fill(v);

function decoder(o: { fec?: boolean; concealThrows?: boolean }) {
  const calls: string[] = [];
  const d: AudioDecoder = {
    decode: (p) => (calls.push(`decode ${p[0]}`), filled(p[0]! * 100)),
    conceal: () => {
      calls.push("conceal");
      if (o.concealThrows) throw new Error("no PLC");
      return filled(7);
    },
    ...(o.fec ? { decodeFec: (next: Uint8Array) => (calls.push(`fec ${next[0]}`), filled(9)) } : {}),
  };
  return { d, calls };
}

function run(p: PeerPlayout) {
  p.push(1, 0, new Uint8Array([1]), 0);
  p.push(3, 1920, new Uint8Array([3]), 40);
  return [p.next(40), p.next(60), p.next(80)];
}

test("a loss is rebuilt from the next packet's FEC when the decoder can", () => {
  const { d, calls } = decoder({ fec: true });
  const [f1, f2, f3] = run(new PeerPlayout(d));
  expect([f1![0], f2![0], f3![0]]).toEqual([100, 9, 300]);
  expect(calls).toEqual(["decode 1", "fec 3", "decode 3"]);
});

test("else the codec's PLC conceals it", () => {
  const { d, calls } = decoder({});
  const [, f2] = run(new PeerPlayout(d));
  expect(f2![0]).toBe(7);
  expect(calls).toContain("conceal");
});

test("else the last frame is repeated, fading", () => {
  const { d } = decoder({ concealThrows: true });
  const p = new PeerPlayout(d);
  const [f1, f2] = run(p);
  expect(f1![0]).toBe(100);
  expect(f2![0]).toBe(50);
  // After the next real frame (300), repeats halve each time.
  expect(p.repeatFade()[0]).toBe(150);
  expect(p.repeatFade()[0]).toBe(75);
  expect(p.stats().concealed).toBe(1);
});

test("silent while idle", () => {
  const { d } = decoder({});
  expect(new PeerPlayout(d).next(0)).toBeNull();
});
