import { expect, test } from "@jest/globals";
import { createLogger, heldWriter } from "./log.js";

test("json: one object per line; text: time, level, message, key=value (quoted when needed)", () => {
  const lines: string[] = [];
  const json = createLogger("info", (l) => void lines.push(l), "json");
  json.info("listening", { url: "http://127.0.0.1:8080", tls: false, seq: 5n });
  json.debug("hidden");
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(rec).toMatchObject({ level: "info", msg: "listening", url: "http://127.0.0.1:8080", tls: false, seq: "5" });
  expect(lines).toHaveLength(1);

  const text = createLogger("info", (l) => void lines.push(l), "text");
  text.warn("tls reload failed", { name: "Error", reason: "two words", empty: "", n: 3, skipped: undefined });
  expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d warn {2}tls reload failed name=Error reason="two words" empty="" n=3\n$/);
});

test("heldWriter keeps lines until release, in order, then passes them straight on", () => {
  const out: string[] = [];
  const held = heldWriter((l) => void out.push(l));
  held.write("a\n");
  held.write("b\n");
  expect(out).toEqual([]);
  held.release();
  held.write("c\n");
  expect(out).toEqual(["a\n", "b\n", "c\n"]);
  held.release(); // twice: nothing repeated
  expect(out).toHaveLength(3);
});
