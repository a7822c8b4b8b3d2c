// tmux as a terminal for end-to-end UI tests: each session runs one command in a detached pane
// of a fixed size, on a private tmux server (its own socket), so tests never touch the user's
// tmux. Keys go in with send-keys, the screen comes out with capture-pane.
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TIMEOUT_MS = 10_000;

/** Fails loudly (never skips) when tmux is not installed: .ci/run installs it. */
export function requireTmux(): void {
  try {
    execFileSync("tmux", ["-V"], { stdio: "pipe" });
  } catch {
    throw new Error("tmux is required for the terminal UI tests and was not found on PATH (apt-get install tmux; .ci/run installs it)");
  }
}

function tmux(socket: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("tmux", ["-u", "-L", socket, ...args], { timeout: TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tmux ${args.join(" ")}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export interface TmuxSession {
  readonly name: string;
  /** Types text literally (no key names). */
  type(text: string): Promise<void>;
  /** Sends tmux key names: "Enter", "C-q", "PPage", "M-Enter", "F1", "C-Up". */
  keys(...names: string[]): Promise<void>;
  /** Pastes text as the terminal would (bracketed when the app asked for it). */
  paste(text: string): Promise<void>;
  /** The visible screen, one string per row (trailing spaces trimmed). */
  capture(): Promise<string[]>;
  /**
   * Resolves with the screen once `pred` holds on two captures in a row (the second is returned);
   * fails with the last screen after `timeoutMs`.
   */
  waitFor(pred: string | RegExp | ((screen: string) => boolean), timeoutMs?: number, what?: string): Promise<string>;
  resize(width: number, height: number): Promise<void>;
  /** Whether the pane's command is still running. */
  alive(): Promise<boolean>;
  /** Opens a second window and makes it the current one: the UI's window is then in the background (keys still reach it). */
  away(): Promise<void>;
  /** Whether a bell (BEL) rang in the UI's window since it was last selected (tmux's window_bell_flag). */
  bellFlag(): Promise<boolean>;
  kill(): Promise<void>;
}

export interface TmuxOptions {
  readonly width?: number;
  readonly height?: number;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Starts `command` (argv) in a new detached tmux session. The pane stays after the command exits
 * (remain-on-exit), so a crash leaves its last screen to read.
 */
export async function startTmux(command: readonly string[], options: TmuxOptions = {}): Promise<TmuxSession> {
  requireTmux();
  const socket = `dialtone-test-${process.pid}-${randomBytes(4).toString("hex")}`;
  const name = "ui";
  // The UI's window by index, so keys and captures reach it when another window is current (away()).
  const target = `${name}:0`;
  const width = options.width ?? 120;
  const height = options.height ?? 40;
  const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${quote(v)}`);
  // `env -i` so the pane sees exactly the given environment (plus TERM from tmux).
  const shell = `exec env -i ${env.join(" ")} TERM=tmux-256color ${command.map(quote).join(" ")}`;
  // No status line (the pane gets every row), and a pane that outlives its command.
  const conf = join(tmpdir(), `${socket}.conf`);
  // base-index 0: the UI's window is :0.
  writeFileSync(conf, "set -g status off\nset -g remain-on-exit on\nset -g default-terminal tmux-256color\nset -g base-index 0\n");
  try {
    await tmux(socket, [
      "-f",
      conf,
      "new-session",
      "-d",
      "-s",
      name,
      "-x",
      String(width),
      "-y",
      String(height),
      ...(options.cwd ? ["-c", options.cwd] : []),
      shell,
    ]);
  } finally {
    rmSync(conf, { force: true });
  }

  const session: TmuxSession = {
    name,
    async type(text) {
      await tmux(socket, ["send-keys", "-t", target, "-l", "--", text]);
    },
    async keys(...names) {
      await tmux(socket, ["send-keys", "-t", target, ...names]);
    },
    async paste(text) {
      const buffer = `b${randomBytes(4).toString("hex")}`;
      await new Promise<void>((resolve, reject) => {
        const p = execFile("tmux", ["-u", "-L", socket, "load-buffer", "-b", buffer, "-"], { timeout: TIMEOUT_MS }, (err) =>
          err ? reject(err) : resolve(),
        );
        p.stdin!.end(text);
      });
      await tmux(socket, ["paste-buffer", "-p", "-d", "-b", buffer, "-t", target]);
    },
    async capture() {
      const out = await tmux(socket, ["capture-pane", "-p", "-t", target]);
      return out
        .replace(/\n$/, "")
        .split("\n")
        .map((l) => l.trimEnd());
    },
    async waitFor(pred, timeoutMs = 20_000, what) {
      const test = typeof pred === "string" ? (s: string) => s.includes(pred) : pred instanceof RegExp ? (s: string) => pred.test(s) : pred;
      const deadline = Date.now() + timeoutMs;
      let screen = "";
      for (;;) {
        screen = (await session.capture()).join("\n");
        if (test(screen)) {
          // A capture can land while tmux is still taking in a frame (the top rows new, the rest
          // of the last frame below them): the screen returned is one captured after a match.
          screen = (await session.capture()).join("\n");
          if (test(screen)) return screen;
        }
        if (Date.now() > deadline) {
          const label = what ?? (typeof pred === "function" ? "the condition" : JSON.stringify(String(pred)));
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}; the screen was:\n${screen}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async resize(w, h) {
      await tmux(socket, ["resize-window", "-t", target, "-x", String(w), "-y", String(h)]);
    },
    async alive() {
      const out = await tmux(socket, ["list-panes", "-t", target, "-F", "#{pane_dead}"]).catch(() => "1");
      return out.trim() === "0";
    },
    async away() {
      await tmux(socket, ["new-window", "-t", `${name}:1`, "cat"]);
    },
    async bellFlag() {
      const out = await tmux(socket, ["display-message", "-p", "-t", target, "#{window_bell_flag}"]);
      return out.trim() === "1";
    },
    async kill() {
      // The panes' commands get SIGHUP when the server goes, and the UI saves its state as it
      // quits: wait for them, so nothing writes into a directory the test is about to remove.
      const pids = await tmux(socket, ["list-panes", "-a", "-F", "#{pane_dead} #{pane_pid}"])
        .then((out) => out.split("\n").flatMap((l) => (l.startsWith("0 ") ? [Number(l.slice(2))] : [])))
        .catch(() => []);
      await tmux(socket, ["kill-server"]).catch(() => {});
      await Promise.all(pids.map((pid) => waitExited(pid)));
    },
  };
  return session;
}

/** Whether `pid` has ended (gone, or a zombie nobody reaped yet: it no longer runs). */
function exited(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    // The state follows the parenthesised command name: "Z" is a zombie.
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** Waits for `pid` to end; SIGKILL after 10 s (a UI that hangs while quitting is its test's failure to see). */
async function waitExited(pid: number): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!exited(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
      throw new Error(`the pane's command (pid ${pid}) did not exit within ${TIMEOUT_MS} ms of SIGHUP`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
