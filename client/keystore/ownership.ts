// Paths that hold secrets or carry them (the keystore directory, the voice daemon's socket) must
// be the user's own: another local user who owns them, or may write to their directory, could
// read the keystore for an offline passphrase search, replace it, or stand up a fake daemon that
// receives the session token and a channel key. Checked before anything is read or sent.
import { lstat } from "node:fs/promises";
import { KeystoreError } from "./errors.js";

export type PrivateKind = "directory" | "file" | "socket";

/** The current user's uid, or undefined where the platform has none (no check is possible). */
export function currentUid(): number | undefined {
  return typeof process.getuid === "function" ? process.getuid() : undefined;
}

/**
 * Throws KeystoreError("unsafe-path") unless `path` is a `kind` (not a symbolic link) owned by
 * `uid` (default: this process's) and, for a directory, writable by nobody else (`ownerOnly`: the
 * caller is about to chmod it). `what` names it for the user. Returns false when it does not
 * exist (the caller creates it), true when it passed.
 */
export async function checkOwnPath(
  path: string,
  what: string,
  kind: PrivateKind,
  o: { uid?: number | undefined; ownerOnly?: boolean } = {},
): Promise<boolean> {
  const uid = "uid" in o ? o.uid : currentUid();
  if (uid === undefined) return true;
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  const refuse = (why: string) =>
    new KeystoreError(
      "unsafe-path",
      `refusing ${what} ${path}: ${why}; another user could read or replace what it holds. Use one of your own (mode 0700).`,
    );
  if (st.isSymbolicLink()) throw refuse("it is a symbolic link");
  const isKind = kind === "directory" ? st.isDirectory() : kind === "socket" ? st.isSocket() : st.isFile();
  if (!isKind) throw refuse(`it is not a ${kind}`);
  if (st.uid !== uid) throw refuse(`it is owned by uid ${st.uid}, not by you (uid ${uid})`);
  if (kind === "directory" && !o.ownerOnly && (st.mode & 0o022) !== 0)
    throw refuse(`other users may write to it (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")})`);
  return true;
}
