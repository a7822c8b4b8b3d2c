import { expect, test } from "@jest/globals";
import type { ChannelView } from "../core/index.js";
import { inviteExpiry, matchChannels } from "./chat-commands.js";

const channel = (id: string, name: string | undefined): ChannelView =>
  ({ id, name, label: name ?? "<encrypted>", keyEpoch: 1, createdByUserId: "", createdAt: undefined }) as unknown as ChannelView;

const channels = [
  channel("1a2b3c4d-0000-4000-8000-000000000001", "general"),
  channel("1a2b9999-0000-4000-8000-000000000002", "General"),
  channel("5e5e5e5e-0000-4000-8000-000000000003", "random"),
  channel("77777777-0000-4000-8000-000000000004", undefined),
];

test("a channel resolves by exact name (any case, # dropped), then name prefix, then id prefix; several matches are all returned", () => {
  expect(matchChannels(channels, "#RANDOM").map((c) => c.name)).toEqual(["random"]);
  expect(matchChannels(channels, "general")).toHaveLength(2); // ambiguous: the picker opens
  expect(matchChannels(channels, "1a2b")).toHaveLength(2);
  expect(matchChannels(channels, "1a2b3").map((c) => c.name)).toEqual(["general"]);
  expect(matchChannels(channels, "7777").map((c) => c.label)).toEqual(["<encrypted>"]);
  expect(matchChannels(channels, "nope")).toEqual([]);
  // Name prefixes: "/j gen", "/join r" (was "unknown channel name").
  expect(matchChannels(channels, "gen")).toHaveLength(2);
  expect(matchChannels(channels, "#Ran").map((c) => c.name)).toEqual(["random"]);
  expect(matchChannels([...channels, channel("abcdef00-0000-4000-8000-000000000005", "flood")], "fl").map((c) => c.name)).toEqual([
    "flood",
  ]);
  // An exact name wins over a longer name it starts: "random" is not ambiguous with "randomness".
  expect(matchChannels([...channels, channel("abcdef00-0000-4000-8000-000000000006", "randomness")], "random").map((c) => c.name)).toEqual([
    "random",
  ]);
  // A name prefix wins over an id prefix.
  expect(matchChannels([...channels, channel("abcdef00-0000-4000-8000-000000000007", "abc")], "ab").map((c) => c.name)).toEqual(["abc"]);
  expect(matchChannels(channels, "#")).toEqual([]);
});

test("an invite's expiry says how far away it is, with the day when it is not today", () => {
  const now = new Date(2026, 10, 22, 8, 5);
  // The server's default: 24 h. "expires 08:05" alone would read as "now".
  expect(inviteExpiry(new Date(2026, 10, 23, 8, 5), now)).toBe("expires in 24 h, tomorrow 08:05");
  expect(inviteExpiry(new Date(2026, 10, 22, 8, 35), now)).toBe("expires in 30 min, 08:35");
  expect(inviteExpiry(new Date(2026, 10, 22, 20, 5), now)).toBe("expires in 12 h, 20:05");
  expect(inviteExpiry(new Date(2026, 10, 29, 8, 5), now)).toBe("expires in 7 days, 2026-11-29 08:05");
  expect(inviteExpiry(new Date(2026, 10, 22, 8, 0), now)).toBe("expired 08:00");
  expect(inviteExpiry(undefined, now)).toBe("expiry unknown");
});
