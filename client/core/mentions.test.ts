import { describe, expect, test } from "@jest/globals";
import { findMentions, mentionedUserIds } from "./mentions.js";
import type { UserView } from "./names.js";

const user = (userId: string, name: string | undefined, label = name ?? `user-${userId}`, removed = false): UserView => ({
  userId,
  name,
  label,
  isAdmin: false,
  ...(removed ? { removed } : {}),
});

describe("mentions", () => {
  const users = [
    user("b", "Bob"),
    user("a1", "Ann"),
    user("a2", "Ann Lee"),
    user("x", "Alice", "Alice#1a2b"),
    user("y", "Alice", "Alice#9f9f"),
  ];

  test("names are found case-insensitively, the longest fitting name wins, and spans index the text", () => {
    const text = "hi @bob, ask @ann lee and @Ann: lunch?";
    const spans = findMentions(text, users);
    expect(spans.map((s) => [text.slice(s.start, s.end), s.userId])).toEqual([
      ["@bob", "b"],
      ["@ann lee", "a2"],
      ["@Ann", "a1"],
    ]);
  });

  test("a shared name mentions no one unless marked; an e-mail address or a longer word is no mention", () => {
    expect(mentionedUserIds("@alice hi", users)).toEqual([]);
    expect(mentionedUserIds("@alice#9f9f hi", users)).toEqual(["y"]);
    expect(mentionedUserIds("mail bob@bob.example or @bobby", users)).toEqual([]);
  });

  test("each person once; removed accounts are not mentioned", () => {
    expect(mentionedUserIds("@bob @bob", users)).toEqual(["b"]);
    expect(mentionedUserIds("@gone", [user("g", "gone", "gone", true)])).toEqual([]);
  });
});
