// One process at a time on an embedded database: PGlite does not stop a second process
// from opening the same files (which corrupts them), so the server and the operator
// commands take `<data dir>/server.lock` (holding their pid) first.
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const lockPath = (dataDir: string) => join(dataDir, "server.lock");

export class DataDirBusy extends Error {
  override readonly name = "DataDirBusy";
  constructor(
    readonly pid: number,
    dataDir: string,
  ) {
    super(`the embedded database in ${dataDir} is in use by process ${pid} (stop that dialtone-server first)`);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The pid holding the lock, if that process is alive. */
export function lockHolder(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(lockPath(dataDir), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock (a stale one, of a dead process, is taken over); returns its release. */
export function lockDataDir(dataDir: string): () => void {
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lockPath(dataDir), `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
      const holder = lockHolder(dataDir);
      if (holder !== undefined) throw new DataDirBusy(holder, dataDir);
      unlinkSync(lockPath(dataDir)); // stale: its process is gone
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      if (readFileSync(lockPath(dataDir), "utf8").trim() === String(process.pid)) unlinkSync(lockPath(dataDir));
    } catch {
      /* already gone */
    }
  };
  process.once("exit", release);
  return release;
}
