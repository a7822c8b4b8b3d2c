import { describe, expect, test } from "@jest/globals";
import { incompleteUtf8, InputFilter, type FilterOutput } from "./input-filter.js";

const keys = (outs: FilterOutput[]) =>
  outs
    .filter((o) => o.kind === "keys")
    .map((o) => (o.kind === "keys" ? o.data.toString("utf8") : ""))
    .join("");
const pastes = (outs: FilterOutput[]) => outs.flatMap((o) => (o.kind === "paste" ? [o.text] : []));

describe("InputFilter", () => {
  test("plain keys pass through unchanged", () => {
    const f = new InputFilter();
    expect(keys(f.push(Buffer.from("hello\r\x1b[A")))).toBe("hello\r\x1b[A");
    expect(f.holding).toBe(false);
  });

  test("a bracketed paste is one string with its newlines (CR and CRLF made LF), keys around it stay keys", () => {
    const f = new InputFilter();
    const out = f.push(Buffer.from("a\x1b[200~line one\r\nline two\rthree\x1b[201~b"));
    expect(keys(out)).toBe("ab");
    expect(pastes(out)).toEqual(["line one\nline two\nthree"]);
  });

  test("paste markers and pasted text split across reads are joined", () => {
    const f = new InputFilter();
    const chunks = ["x\x1b[2", "00~first ", "half\x1b[20", "1~y"];
    const out = chunks.flatMap((c) => f.push(Buffer.from(c)));
    expect(pastes(out)).toEqual(["first half"]);
    expect(keys(out)).toBe("xy");
  });

  test("a character split across reads is held back until it is whole", () => {
    const f = new InputFilter();
    const bytes = Buffer.from("日🎉");
    const first = f.push(bytes.subarray(0, 2));
    expect(keys(first)).toBe("");
    expect(f.holding).toBe(false); // not flushed after a pause: the rest of a character always follows
    expect(f.flush()).toEqual([]);
    const rest = f.push(bytes.subarray(2, 5));
    expect(keys(rest)).toBe("日");
    expect(keys(f.push(bytes.subarray(5)))).toBe("🎉");
  });

  test("a lone escape is the escape key, not held back; a dangling half sequence is flushed after a pause", () => {
    const f = new InputFilter();
    expect(keys(f.push(Buffer.from("\x1b")))).toBe("\x1b");
    expect(keys(f.push(Buffer.from("\x1b[")))).toBe("");
    expect(keys(f.flush())).toBe("\x1b[");
  });

  test("stray continuation bytes become U+FFFD (terminal-kit would loop on them)", () => {
    const f = new InputFilter();
    expect(keys(f.push(Buffer.from([0x61, 0x80, 0x62])))).toBe("a\ufffdb");
  });

  test("incompleteUtf8 counts the bytes of an unfinished last character", () => {
    expect(incompleteUtf8(Buffer.from("ab"))).toBe(0);
    expect(incompleteUtf8(Buffer.from("日").subarray(0, 2))).toBe(2);
    expect(incompleteUtf8(Buffer.from("🎉").subarray(0, 3))).toBe(3);
    expect(incompleteUtf8(Buffer.from("🎉"))).toBe(0);
  });
});
