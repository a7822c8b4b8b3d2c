// The shared views: one wording for the CLI and the UI, each pointing at its own commands.
import { describe, expect, test } from "@jest/globals";
import type { DeviceView } from "../events.js";
import type { ChatMessage } from "../messages.js";
import type { UserView } from "../names.js";
import type { SafetyNumberResult } from "../verify.js";
import { deviceLine } from "./devices.js";
import { bodyText, senderText } from "./messages.js";
import type { CommandHints } from "./hints.js";
import {
  channelDeletedNotice,
  channelRenamedNotice,
  deviceAddedNotice,
  isNewDeviceNews,
  keyChangeRefusedNotice,
  keyRejectedNotice,
} from "./notices.js";
import { safetyNumberLines } from "./safety.js";

const hints: CommandHints = {
  devices: "LIST",
  verify: (u) => `VERIFY ${u}`,
  confirmVerified: (u) => `CONFIRM ${u}`,
  approve: (fp) => `APPROVE ${fp}`,
  admit: (u) => `ADMIT ${u}`,
  recover: "RECOVER",
};
const ID = "1a2b3c4d-0000-4000-8000-000000000000";
const FP = "0123 4567 89ab cdef 0123";

const device = (over: Partial<DeviceView> = {}): DeviceView => ({
  deviceId: ID,
  userId: "u1",
  user: "bob",
  fingerprint: FP,
  current: false,
  status: "known",
  verified: false,
  trust: "certified",
  standing: "admitted",
  createdAt: undefined,
  lastSeenAt: undefined,
  ...over,
});

describe("devices", () => {
  test("a known device is its user, short id and fingerprint; flags in parentheses", () => {
    expect(deviceLine(device())).toBe(`bob 1a2b3c4d ${FP}`);
    expect(deviceLine(device({ current: true, verified: true }))).toBe(`bob 1a2b3c4d ${FP} (this device, verified)`);
    expect(deviceLine(device({ status: "changed" }))).toBe(`bob 1a2b3c4d ${FP} (!! KEY CHANGED, refused)`);
    expect(deviceLine(device({ status: "pinned" }))).toBe(`bob 1a2b3c4d ${FP} (new, pinned now)`);
  });

  test("signed identities: an unverified device or a pending owner is flagged as getting no keys", () => {
    expect(deviceLine(device({ trust: "unverified" }))).toBe(`bob 1a2b3c4d ${FP} (UNVERIFIED: not approved by its owner, gets no keys)`);
    expect(deviceLine(device({ standing: "pending" }))).toBe(`bob 1a2b3c4d ${FP} (owner NOT ADMITTED: gets no keys)`);
    expect(deviceLine(device({ trust: "revoked", standing: "removed" }))).toBe(`bob 1a2b3c4d ${FP} (revoked)`);
  });
});

describe("safety numbers", () => {
  const user = { userId: ID, label: "bob" } as UserView;
  const result = (over: Partial<SafetyNumberResult> = {}): SafetyNumberResult => ({
    userId: ID,
    digits: "1".repeat(60),
    formatted: "11111 11111 11111 11111\n11111 11111 11111 11111\n11111 11111 11111 11111",
    verified: false,
    basis: "devices",
    devices: [],
    refused: [],
    ...over,
  });

  test("not verified: the digits, then how to record it in the caller's own command", () => {
    const lines = safetyNumberLines(user, result(), { marked: false, typed: "bo", hints });
    expect(lines[0]).toBe("safety number with bob (user 1a2b3c4d):");
    expect(lines.slice(1, 4)).toEqual(["  11111 11111 11111 11111", "  11111 11111 11111 11111", "  11111 11111 11111 11111"]);
    expect(lines.at(-1)).toBe("not verified: compare these digits with bob out of band, then run: CONFIRM bo");
  });

  test("verified now or before; a refused device is named", () => {
    const refused = [{ deviceId: ID, userId: ID, fingerprint: FP }];
    const lines = safetyNumberLines(user, result({ refused }), { marked: true, typed: "bob", hints });
    expect(lines).toContain("!! device 1a2b3c4d shows a key other than the pinned one: left out, refused");
    expect(lines.at(-1)).toBe("bob is verified at this number (recorded now)");
    expect(safetyNumberLines(user, result({ verified: true }), { marked: false, typed: "bob", hints }).at(-1)).toBe(
      "bob is verified at this number",
    );
  });
});

describe("notices", () => {
  const added = { deviceId: ID, userId: "u1", user: "bob", fingerprint: FP, own: false, knownUser: true };

  test("a new device of a known user or of ours is news and points at the caller's commands", () => {
    expect(deviceAddedNotice(added, hints)).toEqual({ level: "notice", text: `bob has a new device: ${FP} (check with VERIFY bob)` });
    expect(deviceAddedNotice({ ...added, own: true }, hints).text).toBe(`a new device of your account appeared: ${FP} (not you? see LIST)`);
    expect(isNewDeviceNews({ ...added, knownUser: false })).toBe(false);
    expect(deviceAddedNotice({ ...added, knownUser: false }, hints)).toEqual({
      level: "info",
      text: `device of bob seen for the first time: ${FP}`,
    });
  });

  test("refused keys are alarms", () => {
    const k = keyChangeRefusedNotice({ deviceId: ID, userId: "u1", user: "bob", pinnedFingerprint: "a", offeredFingerprint: "b" });
    expect(k).toEqual({
      level: "alarm",
      text: "!! device 1a2b3c4d of bob shows a different key (pinned a, offered b): refused, nothing is encrypted to it",
    });
    const r = keyRejectedNotice({
      scope: { kind: "directory" },
      epoch: 1,
      senderUserId: "u1",
      sender: "bob",
      senderDeviceId: ID,
      reason: "does not open",
    });
    expect(r).toEqual({ level: "alarm", text: "!! a key from bob was rejected: does not open" });
  });

  test("channels are named, or shown sealed with their short id", () => {
    expect(channelDeletedNotice({ channelId: ID, name: "doomed" }).text).toBe("channel #doomed was deleted");
    expect(channelDeletedNotice({ channelId: ID, name: undefined }).text).toBe("channel <encrypted>(1a2b3c4d) was deleted");
    const channel = { id: ID, name: "new" } as Parameters<typeof channelRenamedNotice>[0]["channel"];
    expect(channelRenamedNotice({ channel, previous: "old" }).text).toBe("channel #old is now #new");
  });
});

describe("messages", () => {
  const m = {
    sender: "bob",
    claimedSender: "alice",
    senderMismatch: true,
    body: undefined,
    error: "missing-key",
  } as unknown as ChatMessage;

  test("a differing sealed name is flagged; a body that did not open says why", () => {
    expect(senderText(m)).toBe('bob (claims "alice")');
    expect(bodyText(m)).toBe("[encrypted: waiting for the key to this channel]");
    expect(bodyText({ ...m, error: "undecryptable" })).toBe("[this message could not be decrypted]");
    expect(bodyText({ ...m, body: "hi" })).toBe("hi");
  });
});
