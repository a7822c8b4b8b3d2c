import { expect, test } from "@jest/globals";
import { Vad } from "./vad.js";

const run = (vad: Vad, levels: number[]) => levels.map((l) => (vad.update(l) ? 1 : 0)).join("");

test("attack: the gate opens after enough loud frames in a row, not on a single click", () => {
  const vad = new Vad({ threshold: 500, attackFrames: 2, hangoverFrames: 3 });
  expect(run(vad, [900, 0, 900, 0])).toBe("0000");
  expect(run(vad, [900, 900, 900])).toBe("011");
});

test("hangover: the gate stays open through short pauses, then closes", () => {
  const vad = new Vad({ threshold: 500, attackFrames: 1, hangoverFrames: 3 });
  expect(run(vad, [600, 100, 100, 100, 100, 100])).toBe("111100");
  expect(run(vad, [600, 100, 600, 100, 100, 100, 100])).toBe("1111110");
});

test("the threshold is inclusive and adjustable; reset closes the gate", () => {
  const vad = new Vad({ threshold: 500, attackFrames: 1, hangoverFrames: 0 });
  expect(run(vad, [499, 500, 499])).toBe("010");
  vad.threshold = 100;
  expect(run(vad, [150])).toBe("1");
  vad.reset();
  expect(vad.isOpen).toBe(false);
});
