// Secrets come from the environment, else from a no-echo prompt on the controlling terminal
// (/dev/tty, so `echo hi | dialtone send general -` still prompts). Without either: a clear error.
import { openSync } from "node:fs";
import { ReadStream, WriteStream } from "node:tty";
import { UsageError } from "../core/index.js";

/** Reads one line from the terminal without echoing it. */
export async function promptHidden(question: string): Promise<string> {
  let fd: number;
  try {
    fd = openSync("/dev/tty", "r+");
  } catch {
    throw new UsageError("invalid-input", "no terminal to prompt on");
  }
  const input = new ReadStream(fd);
  const output = new WriteStream(fd);
  return new Promise<string>((resolve, reject) => {
    let value = "";
    const finish = (err?: Error) => {
      input.setRawMode(false);
      input.removeListener("data", onData);
      output.write("\n");
      input.destroy();
      output.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003") return finish(new UsageError("invalid-input", "interrupted"));
        if (ch === "\u0004" && value === "") return finish(new UsageError("invalid-input", "no input"));
        if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch >= " ") value += ch;
      }
    };
    // Raw mode first: input typed (or pasted) as soon as the question shows must not echo.
    input.setRawMode(true);
    input.on("data", onData);
    output.write(question);
  });
}

export interface SecretSource {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly prompt: (question: string) => Promise<string>;
}

/** The value of env `name`, else a hidden prompt (asked twice when `confirm`). */
export async function secret(src: SecretSource, name: string, question: string, confirm = false): Promise<string> {
  const fromEnv = src.env[name];
  if (fromEnv) return fromEnv;
  let first: string;
  try {
    first = await src.prompt(question);
  } catch (err) {
    if (err instanceof UsageError && err.message === "no terminal to prompt on") {
      throw new UsageError("invalid-input", `${name} is not set and there is no terminal to ask on`);
    }
    throw err;
  }
  if (confirm && (await src.prompt("Repeat: ")) !== first) throw new UsageError("invalid-input", "the two entries differ");
  return first;
}
