import { describe, expect, test } from "@jest/globals";
import type { DeviceView } from "../core/index.js";
import { deviceTable } from "./device-table.js";

const device = (user: string, userId: string, n: number, over: Partial<DeviceView> = {}): DeviceView => ({
  deviceId: `${String(n).repeat(8)}-0000-4000-8000-000000000000`,
  userId,
  user,
  fingerprint: `${String(n).repeat(4)} 0000 0000 0000 0000`,
  current: false,
  status: "known",
  verified: false,
  trust: "certified",
  standing: "admitted",
  createdAt: new Date(Date.UTC(2026, 0, n)),
  lastSeenAt: new Date(Date.UTC(2026, 1, n)),
  ...over,
});

describe("deviceTable", () => {
  test("a header, devices grouped by person (you first, then by name), columns aligned", () => {
    const lines = deviceTable(
      [
        device("zoe", "u-zoe", 1),
        device("bob", "u-bob", 2),
        device("me", "u-me", 3),
        device("bob", "u-bob", 4, { trust: "unverified" }),
        device("me", "u-me", 5, { current: true }),
      ],
      "u-me",
    );
    expect(lines[0]).toBe("devices (5, of 3 people):");
    expect(lines[1]).toMatch(/^ {2}person {2}device {4}fingerprint {15}last seen {3}status$/);
    const person = lines.slice(2).map((l) => l.slice(2, 8).trim());
    expect(person).toEqual(["me", "", "bob", "", "zoe"]);
    // This install first within its person, then the oldest.
    expect(lines[2]).toContain("55555555");
    expect(lines[2]).toMatch(/this device$/);
    expect(lines[3]).toContain("33333333");
    expect(lines[5]).toMatch(/UNVERIFIED: not approved by its owner, gets no keys$/);
    const col = (l: string, re: RegExp) => l.search(re);
    for (const l of lines.slice(2)) {
      expect(col(l, /\d{8}/)).toBe(lines[1]!.indexOf("device"));
      expect(col(l, /\d{4} 0000/)).toBe(lines[1]!.indexOf("fingerprint"));
      expect(col(l, /2026-02-/)).toBe(lines[1]!.indexOf("last seen"));
    }
  });

  test("one person, and a device never seen", () => {
    const lines = deviceTable([device("me", "u-me", 1, { current: true, lastSeenAt: undefined })], "u-me");
    expect(lines[0]).toBe("devices (1, of 1 person):");
    expect(lines[2]).toMatch(/^ {2}me {6}11111111 {2}1111 0000 0000 0000 0000 {2} {10} {2}this device$/);
  });
});
