// The IPC socket: $XDG_RUNTIME_DIR/dialtone/voiced.sock (else /tmp/dialtone-UID/voiced.sock) in
// a 0700 directory owned by the user, socket mode 0600: file permissions are the authentication.
// One daemon per user: a live socket means reuse (never steal it); a stale one is replaced. A
// lock file closes the race between two daemons starting at the same moment.
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import type { Server } from "node:http";
import net from "node:net";
import { dirname, join } from "node:path";

export const SOCKET_NAME = "voiced.sock";

/** The default socket path; client/core/voice.ts computes the same (keep them in step). */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  const runtime = env.XDG_RUNTIME_DIR;
  return runtime ? join(runtime, "dialtone", SOCKET_NAME) : join("/tmp", `dialtone-${uid}`, SOCKET_NAME);
}

/** Creates the socket directory 0700, or checks an existing one is ours, private and not a symlink. */
export function ensurePrivateDir(dir: string, uid = process.getuid?.() ?? 0): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.isSymbolicLink()) throw new Error(`${dir} is not a directory`);
  if (st.uid !== uid) throw new Error(`${dir} belongs to uid ${st.uid}, not to us (${uid}): refusing to use it`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

export type Probe = "live" | "stale" | "absent";

/** Whether something accepts connections on the socket (within `ms`). */
export function probeSocket(path: string, ms = 1000): Promise<Probe> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    const done = (p: Probe) => {
      clearTimeout(t);
      s.destroy();
      resolve(p);
    };
    const t = setTimeout(() => done("live"), ms); // accepted-but-silent still counts as taken
    s.once("connect", () => done("live"));
    s.once("error", (err: NodeJS.ErrnoException) => done(err.code === "ENOENT" ? "absent" : "stale"));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes `<socket>.lock` (O_EXCL, holding our pid); a lock of a dead process is broken. */
function takeLock(lock: string): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(lock, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(lock, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) return false;
      try {
        unlinkSync(lock);
      } catch {
        // someone else broke it first
      }
    }
  }
  return false;
}

export type ListenResult = { kind: "listening"; release: () => void } | { kind: "running" };

/**
 * Listens on `path` unless a live daemon already does. Waits up to `waitMs` for a daemon that
 * holds the lock while it starts.
 */
export async function listenExclusive(server: Server, path: string, waitMs = 5000): Promise<ListenResult> {
  ensurePrivateDir(dirname(path));
  const lock = `${path}.lock`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    if ((await probeSocket(path)) === "live") return { kind: "running" };
    if (takeLock(lock)) break;
    if (Date.now() > deadline) throw new Error(`${lock} is held by a process that does not serve ${path}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const release = () => {
    try {
      if (readFileSync(lock, "utf8").trim() === String(process.pid)) unlinkSync(lock);
    } catch {
      // already gone
    }
  };
  try {
    // Holding the lock: check again, then replace a stale socket.
    const p = await probeSocket(path);
    if (p === "live") {
      release();
      return { kind: "running" };
    }
    if (p === "stale") unlinkSync(path);
    const old = process.umask(0o177); // the socket is born 0600
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } finally {
      process.umask(old);
    }
    chmodSync(path, 0o600);
  } catch (err) {
    release();
    throw err;
  }
  return {
    kind: "listening",
    release: () => {
      try {
        unlinkSync(path);
      } catch {
        // gone
      }
      release();
    },
  };
}
