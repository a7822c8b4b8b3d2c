import { expect, test } from "@jest/globals";
import type { ChannelView } from "../core/index.js";
import { matchChannels } from "./chat-commands.js";

const channel = (id: string, name: string | undefined): ChannelView =>
  ({ id, name, label: name ?? "<encrypted>", keyEpoch: 1, createdByUserId: "", createdAt: undefined }) as unknown as ChannelView;

const channels = [
  channel("1a2b3c4d-0000-4000-8000-000000000001", "general"),
  channel("1a2b9999-0000-4000-8000-000000000002", "General"),
  channel("5e5e5e5e-0000-4000-8000-000000000003", "random"),
  channel("77777777-0000-4000-8000-000000000004", undefined),
];

test("a channel resolves by exact name (any case, # dropped) before id prefix; several matches are all returned", () => {
  expect(matchChannels(channels, "#RANDOM").map((c) => c.name)).toEqual(["random"]);
  expect(matchChannels(channels, "general")).toHaveLength(2); // ambiguous: the picker opens
  expect(matchChannels(channels, "1a2b")).toHaveLength(2);
  expect(matchChannels(channels, "1a2b3").map((c) => c.name)).toEqual(["general"]);
  expect(matchChannels(channels, "7777").map((c) => c.label)).toEqual(["<encrypted>"]);
  expect(matchChannels(channels, "nope")).toEqual([]);
  expect(matchChannels(channels, "#")).toEqual([]);
});
