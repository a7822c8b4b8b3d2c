// The notifier against a real session bus (dbus-daemon) with a stand-in notification service.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { type SessionBus, standInNotifications, startSessionBus } from "../../test/support/dbus.js";
import { DbusNotifier } from "./dbus-notifier.js";

let bus: SessionBus;
beforeAll(async () => {
  bus = await startSessionBus();
});
afterAll(() => bus?.close());

test("a notice reaches the desktop's notification service with its title and body", async () => {
  const service = await standInNotifications(bus.address);
  const notifier = new DbusNotifier("dialtone", bus.address);
  try {
    await notifier.notify({ title: "alice in #general", body: "lunch, @bob?" });
    await notifier.notify({ title: "carol in #ops", body: "" });
    expect(notifier.lastError).toBeUndefined();
    expect(service.shown).toEqual([
      { appName: "dialtone", summary: "alice in #general", body: "lunch, @bob?" },
      { appName: "dialtone", summary: "carol in #ops", body: "" },
    ]);
  } finally {
    notifier.close();
    service.close();
  }
});

test("without a notification service, or without a bus, a notice fails quietly and says why", async () => {
  const lonely = new DbusNotifier("dialtone", bus.address);
  await lonely.notify({ title: "t", body: "b" });
  expect(lonely.lastError).toMatch(/^desktop notifications are unavailable: .*org\.freedesktop\.Notifications/);
  lonely.close();
  const nowhere = new DbusNotifier("dialtone", "unix:path=/nonexistent/dialtone-test-bus");
  await nowhere.notify({ title: "t", body: "b" });
  expect(nowhere.lastError).toMatch(/^desktop notifications are unavailable: /);
  nowhere.close();
});
