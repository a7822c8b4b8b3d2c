import { describe, expect, test } from "@jest/globals";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError, KeyError, SessionError, UsageError } from "../core/index.js";
import { KeystoreError } from "../keystore/index.js";
import { errorText } from "../ui/errors.js";
import { attachDashValues } from "./args.js";
import { secret } from "./prompt.js";
import { describeError, runCli, splitCommand } from "./run.js";
import { normaliseServerUrl, pickServer, rememberServer } from "../core/index.js";
import { fakeIo } from "../../test/support/cli-io.js";

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "dialtone-cli-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("command line", () => {
  test("no command (the terminal UI is client/main.ts's business): the help", async () => {
    const f = fakeIo();
    expect(await runCli([], f.io)).toBe(0);
    expect(f.out()).toMatch(/^dialtone: end-to-end-encrypted terminal chat/);
    expect(f.out()).toContain("channel rename ID|NAME NEW");
    expect(f.out()).toContain("Exit codes: 0 ok, 1 usage, 2 server or session error, 3 key or crypto error.");
  });

  test("--help everywhere", async () => {
    for (const argv of [["--help"], ["help"], ["send", "--help"], ["channel", "create", "-h"], ["channel", "--help"], ["help", "verify"]]) {
      const f = fakeIo();
      expect(await runCli(argv, f.io)).toBe(0);
      expect(f.out()).toMatch(/Usage: dialtone/);
      expect(f.err()).toBe("");
    }
    const f = fakeIo();
    await runCli(["history", "--help"], f.io);
    expect(f.out()).toContain("--limit N");
    expect(f.out()).toContain("--server URL");
  });

  test("usage errors exit 1 with one line on stderr", async () => {
    for (const argv of [
      ["frob"],
      ["send", "general"],
      ["send", "general", "hi", "--bogus"],
      ["channel"],
      ["history", "x", "--limit", "0"],
      ["register"],
    ]) {
      const f = fakeIo();
      expect(await runCli(argv, f.io)).toBe(1);
      expect(f.err()).toMatch(/^dialtone: .+\n$/);
      expect(f.out()).toBe("");
    }
  });

  test("without --server and with no known server: exit 1 naming the flag", async () => {
    await withDir(async (dir) => {
      const f = fakeIo({ DIALTONE_CONFIG_DIR: dir });
      expect(await runCli(["channels"], f.io)).toBe(1);
      expect(f.err()).toContain("--server URL is required");
    });
  });

  test("a server without a keystore here means not logged in: exit 2", async () => {
    await withDir(async (dir) => {
      const f = fakeIo({ DIALTONE_CONFIG_DIR: dir, DIALTONE_PASSPHRASE: "x" });
      expect(await runCli(["whoami", "--server", "http://127.0.0.1:9"], f.io)).toBe(2);
      expect(f.err()).toContain("not logged in");
    });
  });

  test("command words are found around flags and their values", () => {
    expect(splitCommand(["--server", "http://h", "channel", "create", "big", "room", "--json"])).toEqual({
      words: ["channel", "create"],
      rest: ["--server", "http://h", "big", "room", "--json"],
    });
    expect(splitCommand(["send", "general", "-"])).toEqual({ words: ["send"], rest: ["general", "-"] });
  });

  test("devices lists, and devices approve and devices reject are commands of their own", async () => {
    expect(splitCommand(["devices", "approve", "9b3e32aa0000000000ff", "--json"])).toEqual({
      words: ["devices", "approve"],
      rest: ["9b3e32aa0000000000ff", "--json"],
    });
    expect(splitCommand(["devices", "--user", "bob"])).toEqual({ words: ["devices"], rest: ["--user", "bob"] });
    await withDir(async (dir) => {
      for (const argv of [["devices"], ["devices", "approve", "9b3e", "32aa"], ["devices", "reject", "9b3e32aa"]]) {
        const f = fakeIo({ DIALTONE_CONFIG_DIR: dir, DIALTONE_PASSPHRASE: "x" });
        expect(await runCli([...argv, "--server", "http://127.0.0.1:9"], f.io)).toBe(2); // reached the command: not logged in
        expect(f.err()).toContain("not logged in");
      }
    });
  });

  test("a value that starts with '-' is taken as printed (invite tokens are base64url)", async () => {
    const token = "-Xy0_abcdefghijklmnopqrstuvwxyz0123456789AB";
    const options = {
      invite: { type: "string" as const },
      username: { type: "string" as const },
      json: { type: "boolean" as const },
      help: { type: "boolean" as const, short: "h" },
    };
    expect(attachDashValues(["--invite", token, "--username", "bob"], options)).toEqual([`--invite=${token}`, "--username", "bob"]);
    // The command's own options, "-" (stdin) and "--" stay what they are.
    expect(attachDashValues(["--invite", "--json"], options)).toEqual(["--invite", "--json"]);
    expect(attachDashValues(["--invite", "-h"], options)).toEqual(["--invite", "-h"]);
    expect(attachDashValues(["--username", "-"], options)).toEqual(["--username", "-"]);
    expect(attachDashValues(["--", "--invite", "-x"], options)).toEqual(["--", "--invite", "-x"]);
    await withDir(async (dir) => {
      const f = fakeIo({ DIALTONE_CONFIG_DIR: dir, DIALTONE_PASSWORD: "password-123", DIALTONE_PASSPHRASE: "passphrase-123" });
      const code = await runCli(["register", "--username", "bob", "--invite", token, "--server", "http://127.0.0.1:9"], f.io);
      // Parsed: it got as far as the (absent) server, not "argument is ambiguous".
      expect(f.err()).not.toMatch(/ambiguous|usage/);
      expect(f.err()).toMatch(/nothing answers at http:\/\/127.0.0.1:9 /);
      expect(code).toBe(2);
    });
  });

  test("errors map to exit codes", () => {
    expect(describeError(new UsageError("ambiguous-channel", "gen names 2 channels", ["a (1)", "b (2)"]), undefined)).toEqual({
      code: 1,
      message: "gen names 2 channels: a (1), b (2)",
    });
    expect(describeError(new ApiError("permission-denied", "only admins"), undefined).code).toBe(2);
    expect(describeError(new ApiError("unavailable", "cannot reach the server"), "http://h:1").message).toBe(
      "cannot reach the server at http://h:1",
    );
    expect(describeError(new SessionError("not-logged-in", "x"), undefined).code).toBe(2);
    expect(describeError(new KeyError("missing-key", "no key"), undefined).code).toBe(3);
    expect(describeError(new KeystoreError("wrong-passphrase", "wrong passphrase"), undefined).code).toBe(3);
    expect(describeError(new KeystoreError("weak-passphrase", "short"), undefined).code).toBe(1);
  });

  test("a wrong password says so, in the same words as the login form; an ended session says how to log in again", () => {
    const wrong = new ApiError("unauthenticated", "wrong username or password");
    expect(describeError(wrong, undefined)).toEqual({ code: 2, message: "wrong username or password" });
    expect(errorText(wrong)).toBe("wrong username or password"); // was "... (log in again)" on the login form
    const ended = new ApiError("unauthenticated", "invalid or expired session");
    expect(describeError(ended, undefined).message).toBe(
      "invalid or expired session (unauthenticated); if the session ended, run dialtone login",
    );
    expect(errorText(ended)).toBe("invalid or expired session (log in again)");
  });
});

describe("servers.json and secrets", () => {
  test("the only known server is the default; several need --server", async () => {
    await withDir(async (dir) => {
      await rememberServer(dir, normaliseServerUrl("http://chat.example:8080/"));
      expect(await pickServer(dir, undefined)).toBe("http://chat.example:8080");
      expect((await stat(join(dir, "servers.json"))).mode & 0o777).toBe(0o600);
      await rememberServer(dir, "https://other.example");
      await expect(pickServer(dir, undefined)).rejects.toThrow(/knows 2 servers/);
      expect(await pickServer(dir, "https://third.example/")).toBe("https://third.example");
      expect(JSON.parse(await readFile(join(dir, "servers.json"), "utf8")).servers[0]).toBe("https://other.example");
      expect(() => normaliseServerUrl("ftp://x")).toThrow();
    });
  });

  test("env first, else a prompt (twice when confirming), else a clear error", async () => {
    const answers = ["s3cret!!", "s3cret!!", "other"];
    const asked: string[] = [];
    const src = { env: {}, prompt: async (q: string) => (asked.push(q), answers.shift()!) };
    expect(await secret({ env: { DIALTONE_PASSWORD: "from-env" }, prompt: src.prompt }, "DIALTONE_PASSWORD", "pw: ")).toBe("from-env");
    expect(await secret(src, "DIALTONE_PASSWORD", "pw: ", true)).toBe("s3cret!!");
    await expect(secret(src, "DIALTONE_PASSWORD", "pw: ", true)).rejects.toThrow(/differ/);
    const none = fakeIo().io;
    await expect(secret(none, "DIALTONE_PASSPHRASE", "p: ")).rejects.toThrow(
      "DIALTONE_PASSPHRASE is not set and there is no terminal to ask on",
    );
  });
});
