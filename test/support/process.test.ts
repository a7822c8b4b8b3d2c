// The test harness's server launcher: a server that never says it listens is killed, not left behind.
import { expect, test } from "@jest/globals";
import { cleanEnv, startServerProcess } from "./process.js";

test("a server that does not start in time is killed, and the error says so", async () => {
  const pidFile = `${process.pid}-${Date.now()}`;
  let pid: number | undefined;
  const started = startServerProcess(cleanEnv(), 1_000, [
    process.execPath,
    "-e",
    `console.log("${pidFile}", process.pid); setInterval(() => {}, 1000)`,
  ]);
  await expect(started).rejects.toThrow(/did not start within 1000 ms \(killed\)/);
  await started.catch((err: Error) => {
    pid = Number(new RegExp(`${pidFile} (\\d+)`).exec(err.message)?.[1]);
  });
  expect(pid).toBeGreaterThan(0);
  // SIGKILL is delivered at once; the exit is reaped by node shortly after.
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid!, 0);
    } catch {
      return; // gone
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} still runs`);
});
