import { expect, test } from "@jest/globals";
import { NativeModuleError, requireNative } from "./native.js";

test("a missing native addon names itself, what needs it, and how to get it", () => {
  let caught: unknown;
  try {
    requireNative("@dialtone/no-such-addon", "Voice (the test codec)");
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(NativeModuleError);
  const message = (caught as Error).message;
  expect(message).toContain("Voice (the test codec) needs the native module @dialtone/no-such-addon, which is missing or not built");
  expect(message).toContain("build-essential");
  expect(message).toContain("Text chat works without it");
  expect(message).not.toContain("Require stack");
});

test("an installed addon loads", () => {
  const opus = requireNative<{ OpusEncoder: unknown }>("@discordjs/opus", "Voice");
  expect(typeof opus.OpusEncoder).toBe("function");
});
