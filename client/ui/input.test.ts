import { describe, expect, test } from "@jest/globals";
import { cleanInput, HISTORY_MAX, LineEditor } from "./input.js";
import { displayWidth } from "./text.js";

const FAMILY = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}";
const FLAG = "\u{1F1EF}\u{1F1F5}";

function typed(text: string): LineEditor {
  const e = new LineEditor();
  e.insert(text);
  return e;
}

/** The text with a "|" at the cursor. */
const show = (e: LineEditor) => `${e.text.slice(0, e.cursor)}|${e.text.slice(e.cursor)}`;

describe("editing", () => {
  test("insert at the cursor, left/right, backspace and delete", () => {
    const e = typed("helo");
    e.left();
    e.insert("l");
    expect(show(e)).toBe("hell|o");
    e.backspace();
    expect(show(e)).toBe("hel|o");
    e.del();
    expect(show(e)).toBe("hel|");
    e.del(); // at the end: nothing
    e.home();
    e.backspace(); // at the start: nothing
    expect(show(e)).toBe("|hel");
  });

  test("a wide character, an emoji sequence, a flag or an accented letter is one step", () => {
    const text = `a漢${FAMILY}${FLAG}e\u0301`;
    const e = typed(text);
    const stops: number[] = [e.cursor];
    for (let i = 0; i < 6; i++) {
      e.left();
      stops.push(e.cursor);
    }
    const afterFamily = 2 + FAMILY.length;
    expect(stops).toEqual([text.length, afterFamily + FLAG.length, afterFamily, 2, 1, 0, 0]);
    for (let i = 0; i < 5; i++) e.right();
    expect(e.cursor).toBe(text.length);
    e.textEnd();
    e.backspace();
    expect(e.text).toBe(`a漢${FAMILY}${FLAG}`);
    e.backspace();
    expect(e.text).toBe(`a漢${FAMILY}`);
    e.backspace();
    expect(e.text).toBe("a漢");
    e.home();
    e.right();
    e.del();
    expect(e.text).toBe("a");
  });

  test("a combining mark typed after a letter joins it; the cursor stays after the pair", () => {
    const e = typed("e");
    e.insert("\u0301");
    expect(show(e)).toBe("e\u0301|");
    e.left();
    expect(e.cursor).toBe(0);
  });

  test("pasted text: CR LF and CR become LF, tabs spaces, controls vanish", () => {
    expect(cleanInput("a\r\nb\rc\td\u001b[31m\u0007e")).toBe("a\nb\nc    d[31me");
    const e = typed("x\r\ny");
    expect(e.text).toBe("x\ny");
  });

  test("the length limit cuts a paste at a grapheme boundary", () => {
    const e = new LineEditor({ maxLength: 5 });
    expect(e.insert(`ab${FAMILY}`)).toBe(false); // the family is 8 UTF-16 units
    expect(e.text).toBe("ab");
    expect(e.insert("cde")).toBe(true);
    expect(e.insert("f")).toBe(false);
    expect(e.text).toBe("abcde");
  });

  test("word motions and ctrl+w", () => {
    const e = typed("foo  bar baz");
    e.wordLeft();
    expect(show(e)).toBe("foo  bar |baz");
    e.wordLeft();
    expect(show(e)).toBe("foo  |bar baz");
    e.wordLeft();
    expect(show(e)).toBe("|foo  bar baz");
    e.wordRight();
    expect(show(e)).toBe("foo|  bar baz");
    e.wordRight();
    expect(show(e)).toBe("foo  bar| baz");
    e.textEnd();
    e.deleteWordBack();
    expect(show(e)).toBe("foo  bar |");
    e.deleteWordBack();
    expect(show(e)).toBe("foo  |");
  });

  test("multi-line: newline, home/end act on the current line, ctrl+u / ctrl+k", () => {
    const e = typed("first");
    e.newline();
    e.insert("second line");
    expect(e.text).toBe("first\nsecond line");
    e.home();
    expect(show(e)).toBe("first\n|second line");
    e.end();
    expect(show(e)).toBe("first\nsecond line|");
    e.wordLeft();
    e.deleteToLineStart();
    expect(show(e)).toBe("first\n|line");
    e.textStart();
    e.deleteToLineEnd();
    expect(show(e)).toBe("|\nline");
  });

  test("set and clear", () => {
    const e = new LineEditor();
    e.set("/join ");
    expect(show(e)).toBe("/join |");
    e.clear();
    expect(show(e)).toBe("|");
  });
});

describe("history", () => {
  test("submit returns the text, clears, and remembers non-blank lines once", () => {
    const e = typed("hello");
    expect(e.submit()).toBe("hello");
    expect(e.text).toBe("");
    e.insert("   ");
    expect(e.submit()).toBe("   ");
    e.insert("hello");
    e.submit();
    expect(e.history).toEqual(["hello"]);
  });

  test("a /recover line (a secret) is not remembered", () => {
    const e = typed("/recover 7K2M-9QXD");
    expect(e.submit()).toBe("/recover 7K2M-9QXD");
    expect(e.history).toEqual([]);
  });

  test("up and down walk the history and bring the unsent draft back", () => {
    const e = new LineEditor();
    for (const t of ["one", "two", "three"]) {
      e.insert(t);
      e.submit();
    }
    e.insert("draft");
    e.historyUp();
    expect(show(e)).toBe("three|");
    e.historyUp();
    e.historyUp();
    e.historyUp(); // stays on the oldest
    expect(e.text).toBe("one");
    e.historyDown();
    expect(e.text).toBe("two");
    e.historyDown();
    e.historyDown();
    expect(show(e)).toBe("draft|");
    e.historyDown(); // nothing further
    expect(e.text).toBe("draft");
  });

  test("editing a recalled entry makes it the draft", () => {
    const e = new LineEditor();
    e.insert("old");
    e.submit();
    e.historyUp();
    expect(e.browsingHistory).toBe(true);
    e.insert("er");
    expect(e.browsingHistory).toBe(false);
    e.historyUp();
    expect(e.text).toBe("old");
    e.historyDown();
    expect(e.text).toBe("older");
    expect(e.history).toEqual(["old"]);
  });

  test("history is capped at 200 entries, oldest dropped", () => {
    const e = new LineEditor();
    for (let i = 0; i < 250; i++) {
      e.insert(`m${i}`);
      e.submit();
    }
    expect(e.history).toHaveLength(HISTORY_MAX);
    expect(e.history[0]).toBe("m50");
    expect(e.history.at(-1)).toBe("m249");
  });

  test("up with no history does nothing", () => {
    const e = typed("x");
    e.historyUp();
    expect(e.text).toBe("x");
  });
});

describe("a selected text (a refused command)", () => {
  test("typing replaces it instead of being appended to it", () => {
    const e = typed("/join alhpa");
    e.selectAll();
    expect(e.selected).toBe(true);
    expect(e.render(40, 3).selected).toBe(true);
    e.insert("h");
    expect(e.text).toBe("h");
    expect(e.selected).toBe(false);
  });

  test("backspace, delete or ctrl+w clears it whole", () => {
    for (const erase of [(e: LineEditor) => e.backspace(), (e: LineEditor) => e.del(), (e: LineEditor) => e.deleteWordBack()]) {
      const e = typed("/join alhpa");
      e.selectAll();
      erase(e);
      expect(e.text).toBe("");
    }
  });

  test("a cursor motion keeps the text to fix it", () => {
    const e = typed("/join alhpa");
    e.selectAll();
    e.left();
    expect(e.selected).toBe(false);
    e.left(); // "/join alh|pa"
    e.backspace(); // "/join al|pa"
    e.right();
    e.insert("h");
    expect(e.text).toBe("/join alpha");
  });

  test("nothing to select in an empty input", () => {
    const e = new LineEditor();
    e.selectAll();
    expect(e.selected).toBe(false);
  });
});

describe("render", () => {
  test("short text: one row, cursor after it", () => {
    expect(typed("hi").render(20, 3)).toEqual({
      rows: ["hi"],
      selected: false,
      cursorRow: 0,
      cursorCol: 2,
      hiddenAbove: 0,
      hiddenBelow: 0,
    });
    expect(new LineEditor().render(20, 3)).toEqual({
      rows: [""],
      selected: false,
      cursorRow: 0,
      cursorCol: 0,
      hiddenAbove: 0,
      hiddenBelow: 0,
    });
  });

  test("wraps between words, like the messages: a word that does not fit moves to the next row whole", () => {
    const e = typed("the quick brown fox jumps");
    expect(e.render(12, 10).rows).toEqual(["the quick ", "brown fox ", "jumps"]);
    expect(e.render(12, 10)).toMatchObject({ cursorRow: 2, cursorCol: 5 });
    // Every character is still there, in order, and the cursor walks through the rows.
    expect(e.render(12, 10).rows.join("")).toBe(e.text);
    e.textStart();
    for (let i = 0; i < 10; i++) e.right(); // before "brown"
    expect(e.render(12, 10)).toMatchObject({ cursorRow: 1, cursorCol: 0 });
    // A space at the edge hangs off the row instead of starting the next one.
    expect(typed("abcde fgh").render(5, 10).rows).toEqual(["abcde", "fgh"]);
    // A word longer than a row is cut (nothing to break at).
    expect(typed("ab cdefghijkl").render(5, 10).rows).toEqual(["ab ", "cdefg", "hijkl", ""]);
  });

  test("wraps by grapheme at the width; newlines start rows; columns count wide characters as two", () => {
    const e = typed("abcdefgh\n漢字漢字");
    const r = e.render(5, 10);
    expect(r.rows).toEqual(["abcde", "fgh", "漢字", "漢字"]);
    expect(r.cursorRow).toBe(3);
    expect(r.cursorCol).toBe(4);
    e.textStart();
    e.end();
    expect(e.render(5, 10)).toMatchObject({ cursorRow: 1, cursorCol: 3 });
  });

  test("a cursor after a full row goes to the start of the next row, never past the width", () => {
    const e = typed("abcde");
    const r = e.render(5, 3);
    expect(r.rows).toEqual(["abcde", ""]);
    expect(r).toMatchObject({ cursorRow: 1, cursorCol: 0 });
    e.newline(); // no phantom blank row between a full line and the next
    expect(e.render(5, 3)).toMatchObject({ rows: ["abcde", ""], cursorRow: 1, cursorCol: 0 });
    e.left(); // before the "\n": drawn on the last column
    expect(e.render(5, 3)).toMatchObject({ cursorRow: 0, cursorCol: 4 });
    const wide = typed("漢字漢");
    expect(wide.render(5, 3).rows).toEqual(["漢字", "漢"]);
  });

  test("no row is wider than the width, with emoji and CJK", () => {
    const e = typed(`${FAMILY}x漢${FLAG}字ab${FAMILY}`.repeat(5));
    for (let w = 2; w <= 12; w++) {
      const r = e.render(w, 100);
      for (const row of r.rows) expect(displayWidth(row)).toBeLessThanOrEqual(w);
      expect(r.cursorCol).toBeLessThan(w);
    }
  });

  test("more rows than fit: the window follows the cursor and reports what is hidden", () => {
    const e = typed("1\n2\n3\n4\n5\n6");
    let r = e.render(10, 3);
    expect(r).toMatchObject({ rows: ["4", "5", "6"], cursorRow: 2, hiddenAbove: 3, hiddenBelow: 0 });
    e.textStart();
    r = e.render(10, 3);
    expect(r).toMatchObject({ rows: ["1", "2", "3"], cursorRow: 0, hiddenAbove: 0, hiddenBelow: 3 });
    // Moving down inside the window does not scroll it.
    e.cursorDown(10);
    expect(e.render(10, 3)).toMatchObject({ rows: ["1", "2", "3"], cursorRow: 1 });
  });

  test("cursorUp/cursorDown move by rows keeping the column, and report the edges", () => {
    const e = typed("abcdefghij\nxy");
    e.textStart();
    e.right();
    e.right(); // after "ab"
    expect(e.cursorUp(5)).toBe(false);
    expect(e.cursorDown(5)).toBe(true);
    expect(show(e)).toBe("abcdefg|hij\nxy");
    expect(e.cursorDown(5)).toBe(true);
    expect(show(e)).toBe("abcdefghij\nxy|");
    expect(e.cursorDown(5)).toBe(false);
    expect(e.cursorUp(5)).toBe(true);
    expect(show(e)).toBe("abcdefg|hij\nxy");
  });

  test("moving up into a full soft-wrapped row stops before its last character", () => {
    const e = typed("abcdefghij");
    e.textEnd(); // rows: "abcde", "fghij", "" (cursor)
    expect(e.render(5, 5).rows).toEqual(["abcde", "fghij", ""]);
    e.left(); // after "fghi"
    expect(e.cursorUp(5)).toBe(true);
    expect(show(e)).toBe("abcd|efghij");
    expect(e.render(5, 5)).toMatchObject({ cursorRow: 0, cursorCol: 4 });
  });
});
