import { describe, expect, test } from "@jest/globals";
import { displayWidth, graphemes, graphemeWidth, padEnd, padStart, sanitize, splitLines, truncate, wrap } from "./text.js";

const FAMILY = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}"; // 👨‍👩‍👧‍👦
const FLAG_JP = "\u{1F1EF}\u{1F1F5}"; // 🇯🇵
const FLAG_ENGLAND = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"; // tag sequence
const HEART_VS16 = "\u2764\uFE0F"; // ❤️
const THUMBS_TONE = "\u{1F44D}\u{1F3FD}"; // 👍🏽
const E_ACUTE = "e\u0301"; // é as e + combining acute
const KEYCAP_1 = "1\uFE0F\u20E3";
const HANGUL_JAMO = "\u1100\u1161\u11A8"; // 각 as conjoining jamo

// Strings that exercise every width rule, for the property tests below.
const CORPUS = [
  "plain ascii words that need wrapping somewhere",
  "漢字かなカナ交じりの文章はスペースなしで続きます",
  `family ${FAMILY} flags ${FLAG_JP}${FLAG_ENGLAND} heart ${HEART_VS16} thumbs ${THUMBS_TONE}`,
  `caf${E_ACUTE} ${E_ACUTE}${E_ACUTE}${E_ACUTE} z\u0335\u0336\u0337algo keycap ${KEYCAP_1}`,
  `mixed 漢字${FAMILY}abc${FLAG_JP}한국어 ${HANGUL_JAMO}`,
  "averyveryveryverylongwordwithoutanyspacesatallthatmustbechunked",
  `${FAMILY}${FAMILY}${FAMILY}${FAMILY}${FAMILY}${FAMILY}`,
  "Ｆｕｌｌｗｉｄｔｈ　ｆｏｒｍｓ and ﾊﾝｶｸ half-width kana",
];

describe("displayWidth", () => {
  test.each([
    ["", 0],
    ["hello", 5],
    ["漢字", 4],
    ["한국어", 6],
    ["ｱｲｳ", 3], // half-width katakana stay narrow
    ["Ａ", 2], // fullwidth Latin
    ["\u3000", 2], // ideographic space
    [FAMILY, 2],
    [FLAG_JP, 2],
    [FLAG_ENGLAND, 2],
    [HEART_VS16, 2],
    ["\u2764", 1], // text presentation without VS16
    ["\u231A\uFE0E", 1], // VS15 forces text presentation
    [THUMBS_TONE, 2],
    [E_ACUTE, 1],
    [KEYCAP_1, 2],
    [HANGUL_JAMO, 2],
    ["\u200B", 0], // zero-width space
    ["\uFEFF", 0], // BOM / zero-width no-break space
    ["\u00AD", 1], // soft hyphen: terminals draw it
    ["\u3164", 2], // Hangul filler: invisible but wide, not zero
    ["\u0301", 0], // a combining mark with nothing to combine with
    ["a\u200Db", 2],
    ["\u0007\u001b\u009b", 0], // controls take no column
    ["\u{1F600}", 2],
    ["\u{20000}", 2], // CJK extension B
    ["🙂 ok", 5],
  ])("%j is %i columns", (s, w) => {
    expect(displayWidth(s)).toBe(w);
  });

  test("a ZWJ family, a flag, a tone-modified emoji are each one grapheme", () => {
    expect(graphemes(`${FAMILY}${FLAG_JP}${THUMBS_TONE}${E_ACUTE}`)).toEqual([FAMILY, FLAG_JP, THUMBS_TONE, E_ACUTE]);
  });

  test("the sum of grapheme widths is the string width", () => {
    for (const s of CORPUS) {
      expect(graphemes(s).reduce((n, g) => n + graphemeWidth(g), 0)).toBe(displayWidth(s));
    }
  });
});

describe("truncate", () => {
  test("leaves text that fits alone, without an ellipsis", () => {
    expect(truncate("hello", 5)).toBe("hello");
    expect(truncate("漢字", 4)).toBe("漢字");
    expect(truncate("", 3)).toBe("");
  });

  test("adds the ellipsis only when something was cut", () => {
    expect(truncate("hello!", 5)).toBe("hell…");
    expect(truncate("hello!", 5, "")).toBe("hello");
    expect(truncate("hello!", 5, "...")).toBe("he...");
  });

  test("does not split a wide character: the half column stays empty", () => {
    expect(truncate("漢字漢字", 5)).toBe("漢字…");
    expect(truncate("漢字漢字", 4)).toBe("漢…");
    expect(truncate("漢字", 2)).toBe("…");
    expect(truncate("漢字", 1)).toBe("…");
    expect(truncate(`${FAMILY}${FAMILY}`, 3)).toBe(`${FAMILY}…`);
    expect(truncate(`${FLAG_JP}${FLAG_JP}x`, 4)).toBe(`${FLAG_JP}…`);
  });

  test("keeps combining marks with their base", () => {
    expect(truncate(`${E_ACUTE}${E_ACUTE}${E_ACUTE}`, 3)).toBe(`${E_ACUTE}${E_ACUTE}${E_ACUTE}`);
    expect(truncate(`${E_ACUTE}${E_ACUTE}${E_ACUTE}x`, 3)).toBe(`${E_ACUTE}${E_ACUTE}…`);
  });

  test("zero or negative width gives the empty string; an ellipsis wider than the room is dropped", () => {
    expect(truncate("hello", 0)).toBe("");
    expect(truncate("hello", -3)).toBe("");
    expect(truncate("hello", 2, "...")).toBe("he");
  });

  test("never exceeds the width and never splits a grapheme (property over the corpus)", () => {
    for (const s of CORPUS) {
      const all = graphemes(s);
      for (let w = 0; w <= displayWidth(s) + 1; w++) {
        const t = truncate(s, w);
        expect(displayWidth(t)).toBeLessThanOrEqual(w);
        const kept = graphemes(t);
        const cut = kept.length > 0 && kept[kept.length - 1] === "…" && displayWidth(s) > w;
        const body = cut ? kept.slice(0, -1) : kept;
        expect(body).toEqual(all.slice(0, body.length));
        if (displayWidth(s) <= w) expect(t).toBe(s);
      }
    }
  });
});

describe("padEnd / padStart", () => {
  test("pad to exactly the width, counting wide characters as two", () => {
    expect(padEnd("ab", 4)).toBe("ab  ");
    expect(padEnd("漢", 4)).toBe("漢  ");
    expect(displayWidth(padEnd(FAMILY, 5))).toBe(5);
    expect(padStart("ab", 4)).toBe("  ab");
  });

  test("truncate first, then fill the column a wide character could not use", () => {
    expect(padEnd("漢字漢字", 5)).toBe("漢字…");
    expect(padEnd("漢字漢字", 4)).toBe("漢… ");
    expect(displayWidth(padEnd("漢字漢字", 4))).toBe(4);
    expect(padEnd("abc", 0)).toBe("");
  });
});

describe("sanitize", () => {
  test("neutralises escape sequences, C1 controls, bidi overrides and lone surrogates", () => {
    const evil = "\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202Egnp.exe\u2066x\u2069\ud800";
    const clean = sanitize(evil);
    expect(clean).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(clean).toBe("\uFFFD[2J\uFFFD]0;pwned\uFFFD\uFFFD31m\uFFFDgnp.exe\uFFFDx\uFFFD\uFFFD");
  });

  test("newlines and CR are controls too (names are one line); tabs become spaces", () => {
    expect(sanitize("a\nb\rc\td")).toBe("a\uFFFDb\uFFFDc d");
  });

  test("keeps ordinary text, emoji, ZWJ sequences and combining marks untouched", () => {
    const ok = `héllo 漢字 ${FAMILY} ${FLAG_ENGLAND} ${E_ACUTE} ${HEART_VS16}`;
    expect(sanitize(ok)).toBe(ok);
  });
});

describe("wrap", () => {
  test("greedy word wrap with a hanging indent", () => {
    expect(wrap("hello world this is a test", 11, 2)).toEqual(["hello world", "  this is a", "  test"]);
  });

  test("text that fits is one line; empty text is one empty line", () => {
    expect(wrap("short", 20)).toEqual(["short"]);
    expect(wrap("", 20)).toEqual([""]);
  });

  test('honours "\\n", CR LF and CR; blank paragraphs stay', () => {
    expect(wrap("one\ntwo\r\nthree\rfour", 20)).toEqual(["one", "two", "three", "four"]);
    expect(wrap("a\n\nb", 20, 2)).toEqual(["a", "  ", "  b"]);
    expect(splitLines("x\r\ny")).toEqual(["x", "y"]);
  });

  test("keeps inner and leading spacing, drops spaces at a break and at the end", () => {
    expect(wrap("a  b", 10)).toEqual(["a  b"]);
    expect(wrap("  indented", 20)).toEqual(["  indented"]);
    expect(wrap("aaaa    bbbb", 6)).toEqual(["aaaa", "bbbb"]);
    expect(wrap("trailing   ", 20)).toEqual(["trailing"]);
  });

  test("chunks an over-long word by grapheme", () => {
    expect(wrap("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
    // A word longer than a line starts on the current one instead of leaving it short.
    expect(wrap("see abcdefghij", 6, 1)).toEqual(["see ab", " cdefg", " hij"]);
    expect(wrap(`[12:00] bob: ${"x".repeat(30)}`, 20, 13)).toEqual([
      "[12:00] bob: xxxxxxx",
      `${" ".repeat(13)}xxxxxxx`,
      `${" ".repeat(13)}xxxxxxx`,
      `${" ".repeat(13)}xxxxxxx`,
      `${" ".repeat(13)}xx`,
    ]);
    // A word that fits on a line of its own still moves there whole.
    expect(wrap("see abcde", 6, 1)).toEqual(["see", " abcde"]);
    expect(wrap("漢字漢字漢字", 5)).toEqual(["漢字", "漢字", "漢字"]);
    expect(wrap(`${FAMILY}${FAMILY}${FAMILY}`, 3)).toEqual([FAMILY, FAMILY, FAMILY]);
  });

  test("tabs become spaces up to the next 4-column stop", () => {
    expect(wrap("a\tb", 20)).toEqual(["a   b"]);
    expect(wrap("\tx", 20)).toEqual(["    x"]);
  });

  test("escape sequences in a body come out as U+FFFD, never as ESC", () => {
    const lines = wrap("hi \u001b[31mred\u001b[0m \u009b2J done", 40);
    expect(lines.join("")).not.toMatch(/[\u001b\u009b]/);
    expect(lines).toEqual(["hi \uFFFD[31mred\uFFFD[0m \uFFFD2J done"]);
  });

  test("an indent that leaves no room is capped so text still advances", () => {
    const lines = wrap("abc def ghi", 3, 10);
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(3);
    expect(lines.join("").replace(/ /g, "")).toBe("abcdefghi");
  });

  test("a wide grapheme that can never fit a 1-column layout becomes '?'", () => {
    expect(wrap("漢a", 1)).toEqual(["?", "a"]);
  });

  test("property: no line wider than the width, indent kept, no grapheme split or lost", () => {
    for (const s of CORPUS) {
      const expected = graphemes(s).filter((g) => g !== " ");
      for (let width = 2; width <= 30; width++) {
        for (const indent of [0, 1, 4]) {
          const lines = wrap(s, width, indent);
          const pad = " ".repeat(Math.max(0, Math.min(indent, width - 2)));
          lines.forEach((l, i) => {
            expect(displayWidth(l)).toBeLessThanOrEqual(width);
            if (i > 0) expect(l.startsWith(pad)).toBe(true);
          });
          const got = lines.flatMap((l) => graphemes(l)).filter((g) => g !== " ");
          expect(got).toEqual(expected);
        }
      }
    }
  });
});
