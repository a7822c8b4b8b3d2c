// dialtone: the terminal client. With a command it is the headless CLI (client/cli); with none
// it starts the terminal UI (client/ui). `dialtone --help` prints the CLI help either way.
//
// Only the early unlock is imported statically: it starts the keystore's scrypt in node's thread
// pool, and the rest of the client loads while it runs (client/keystore/early-unlock.ts).
import { startEarlyUnlock } from "./keystore/early-unlock.js";

const argv = process.argv.slice(2);
startEarlyUnlock(argv, process.env);

const { runCli, splitCommand } = await import("./cli/run.js");
const wantsUi = splitCommand(argv).words.length === 0 && !argv.includes("--help") && !argv.includes("-h");

if (wantsUi) {
  // Loaded only here: the CLI never pays for terminal-kit.
  const { runUi } = await import("./ui/app.js");
  const code = await runUi(argv, process.env, (text) => void process.stderr.write(text));
  process.stdout.write("", () => process.exit(code));
} else {
  const [{ createInterface }, { promptHidden }] = await Promise.all([import("node:readline"), import("./cli/prompt.js")]);
  const stop = new AbortController();
  let interrupts = 0;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      // The first signal lets a running command (tail) close its stream and save; a second one exits.
      if (++interrupts > 1) process.exit(130);
      stop.abort();
    });
  }

  const code = await runCli(argv, {
    env: process.env,
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    stdinLines: () => createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
    prompt: promptHidden,
    signal: stop.signal,
  });
  // Wait for stdout to drain (it may be a pipe), then exit even if a keep-alive socket lingers.
  process.stdout.write("", () => process.exit(code));
}
