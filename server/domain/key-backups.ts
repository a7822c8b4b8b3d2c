// The account's encrypted key backup: opaque client ciphertext, any of the account's devices
// reads and replaces it, by compare-and-set on its version so a stale writer cannot undo a newer backup.
import * as repo from "../db/repos/key-backups.js";
import type { Caller, Deps } from "./deps.js";
import { aborted } from "./errors.js";
import { base64Text, LIMITS, seq } from "./validate.js";

export async function getKeyBackup(deps: Deps, caller: Caller): Promise<{ version: bigint; ciphertext: string }> {
  const row = await repo.findKeyBackup(deps.database.db, caller.userId);
  return row ? { version: row.version, ciphertext: row.ciphertext } : { version: 0n, ciphertext: "" };
}

/** Replaces the backup if it is still at `expected_version` (0: none); returns the new version. */
export async function putKeyBackup(deps: Deps, caller: Caller, req: { expectedVersion: bigint; ciphertext: string }): Promise<bigint> {
  const expected = seq("expected_version", req.expectedVersion);
  const ciphertext = base64Text("ciphertext", req.ciphertext, LIMITS.backupChars);
  const res = await repo.putKeyBackup(deps.database.db, caller.userId, expected, ciphertext, deps.now());
  if (res.kind === "conflict") {
    throw aborted("expected_version", `the backup is at version ${res.current}, not ${expected}; read it, merge and retry`);
  }
  deps.log.info("key backup stored", { user_id: caller.userId, device_id: caller.deviceId, version: Number(res.version) });
  return res.version;
}
