import { expect, test } from "@jest/globals";
import { MESH_COMFORTABLE_PEOPLE, MeshSizeWatch, meshSizeNotice } from "./mesh.js";

test("the notice comes once when a room grows past the mesh's comfortable size, again after it shrank back", () => {
  const w = new MeshSizeWatch();
  const max = MESH_COMFORTABLE_PEOPLE;
  expect(w.update("a", max)).toBe(false);
  expect(w.update("a", max + 1)).toBe(true);
  expect(w.update("a", max + 2)).toBe(false); // said already
  expect(w.update("a", max)).toBe(false);
  expect(w.update("a", max + 1)).toBe(true); // grew past it again
  expect(w.update("b", max + 3)).toBe(true); // another room
  expect(w.update(undefined, 0)).toBe(false); // left voice
  expect(w.update("b", max + 3)).toBe(true);
  expect(meshSizeNotice(max + 2, "#standup")).toMatch(new RegExp(`^${max + 2} people in voice in #standup: .*works well up to ${max};`));
});
