// Private directories and crash-safe file replacement.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { checkOwnPath } from "./ownership.js";

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/**
 * Creates `dir` (and `base` and everything between) and sets each to 0700 explicitly: mkdir's
 * mode is filtered by the umask, and a pre-existing directory keeps whatever mode it had.
 */
export async function ensurePrivateDir(base: string, dir: string): Promise<void> {
  const root = resolve(base);
  const target = resolve(dir);
  const rel = relative(root, target);
  if (rel.startsWith("..") || resolve(root, rel) !== target) {
    throw new Error(`ensurePrivateDir: ${target} is not inside ${root}`);
  }
  // Each level must be ours before we create anything in it or make it private: as root, chmod
  // would succeed on another user's directory, and they would still own it.
  const levels = [root, ...(rel === "" ? [] : rel.split(sep)).map((_, i, parts) => join(root, ...parts.slice(0, i + 1)))];
  for (const level of levels) {
    if (!(await checkOwnPath(level, level === root ? "the config directory" : "the keystore directory", "directory", { ownerOnly: true })))
      break;
  }
  await mkdir(target, { recursive: true, mode: DIR_MODE });
  let current = root;
  await chmod(current, DIR_MODE);
  for (const part of rel === "" ? [] : rel.split(sep)) {
    current = join(current, part);
    await chmod(current, DIR_MODE);
  }
}

/** The name of the temp file a write goes through; stray ones are left by interrupted writes. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
}

/**
 * Replaces `path` atomically: write a temp file in the same directory, fsync it, rename it over
 * the target, fsync the directory. A crash leaves either the old or the new file, never a mix.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number = FILE_MODE): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    const handle = await open(tmp, "wx", mode);
    try {
      await handle.chmod(mode); // open()'s mode went through the umask; state it exactly
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

/** fsync of a directory makes the rename durable; platforms that cannot do it are skipped. */
async function syncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM") throw err;
  } finally {
    await handle?.close();
  }
}

/** A lock older than this is broken even if its process looks alive (its pid may be reused). */
const LOCK_STALE_MS = 30_000;

/** Whether the lock at `path` was left by a process that is gone, or is too old to be held. */
async function lockIsStale(path: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    if (Date.now() - info.mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number.parseInt(text, 10);
    if (!Number.isSafeInteger(pid) || pid <= 0) return false; // being written: its owner is alive
    try {
      process.kill(pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "ESRCH";
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false; // released meanwhile: try again
    throw err;
  }
}

/**
 * Runs `fn` holding the lock file `path` (created exclusively, holding our pid): processes that
 * read, merge and rewrite one file take turns, so none writes over what another just saved. A
 * lock left by a process that died is broken.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      const handle = await open(path, "wx", FILE_MODE);
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (await lockIsStale(path)) await rm(path, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
