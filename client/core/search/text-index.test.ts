import { expect, test } from "@jest/globals";
import { TextIndex, foldTerm, queryTerms } from "./text-index.js";

test("words are split at spaces and punctuation and folded: case, accents and ligatures do not matter", () => {
  expect(queryTerms("Grüße, CAFÉ! ﬁne-tuned café")).toEqual(["gruße", "cafe", "fine", "tuned"]);
  expect(foldTerm("Åse")).toBe("ase");
  expect(foldTerm("")).toBeNull();
  expect(queryTerms(" ,.;: ")).toEqual([]);
});

test("every word must match; a replaced text and a deleted message leave no trace", () => {
  const index = new TextIndex();
  index.set("a", "the red kite flies");
  index.set("b", "a red balloon");
  index.set("c", "kites are red, the kite is red");
  expect(index.find("red").sort()).toEqual(["a", "b", "c"]);
  expect(index.find("RED kite").sort()).toEqual(["a", "c"]);
  expect(index.find("red kite balloon")).toEqual([]);
  expect(index.find("nothing")).toEqual([]);
  expect(index.find("")).toEqual([]);
  index.set("a", "the blue kite");
  expect(index.find("red kite")).toEqual(["c"]);
  expect(index.find("blue")).toEqual(["a"]);
  index.delete("c");
  index.delete("c");
  expect(index.find("kite")).toEqual(["a"]);
  expect(index.find("kites")).toEqual([]);
});
