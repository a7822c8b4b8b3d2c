// The tmux terminal the UI tests drive: killing it waits for the UI to finish quitting, since the
// UI saves its state on SIGHUP and a test removes the directories it writes to right after.
import { expect, test } from "@jest/globals";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTmux } from "./tmux.js";

test("kill returns only after the pane's command has finished quitting", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dialtone-tmux-kill-"));
  const saved = join(dir, "saved");
  try {
    // Quits as the UI does: on SIGHUP, writes its state a little later, then exits.
    const quitter = `process.on("SIGHUP", () => setTimeout(() => { require("node:fs").writeFileSync(${JSON.stringify(saved)}, "x"); process.exit(0); }, 500)); setInterval(() => {}, 1000); console.log("ready");`;
    const s = await startTmux([process.execPath, "-e", quitter]);
    await s.waitFor("ready");
    await s.kill();
    expect(existsSync(saved)).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
