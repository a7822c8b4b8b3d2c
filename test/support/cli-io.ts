// The CLI's I/O for in-process runs of runCli: env and stdin given, output collected, no terminal
// (a command that would prompt fails instead of waiting).
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import type { CliIo } from "../../client/cli/context.js";
import { UsageError } from "../../client/core/index.js";

export function fakeIo(
  env: Record<string, string> = {},
  signal: AbortSignal = new AbortController().signal,
  stdin = "",
): { io: CliIo; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env,
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    stdinLines: () => createInterface({ input: Readable.from(stdin === "" ? [] : [stdin]), crlfDelay: Number.POSITIVE_INFINITY }),
    prompt: async () => {
      throw new UsageError("invalid-input", "no terminal to prompt on");
    },
    signal,
  };
  return { io, out: () => out.join(""), err: () => err.join("") };
}
