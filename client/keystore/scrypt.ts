// node:crypto's scrypt behind the ScryptFn that client/crypto/keystore-format expects, and the
// early start of a keystore's scrypt (startEarlyScrypt) that a command picks up when it opens it.
import { scrypt } from "node:crypto";
import type { ScryptFn } from "../crypto/index.js";

interface Early {
  readonly passphrase: Buffer;
  readonly salt: Buffer;
  readonly params: string;
  readonly key: Promise<Uint8Array>;
}

let early: Early | undefined;

function run(passphrase: Uint8Array, salt: Uint8Array, N: number, r: number, p: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // scrypt needs 128·N·r bytes; node's 32 MiB default maxmem is exactly that at N=2^15, r=8,
    // and refuses it, so allow twice as much.
    scrypt(passphrase, salt, 32, { N, r, p, maxmem: 256 * N * r * p }, (err, key) => (err ? reject(err) : resolve(new Uint8Array(key))));
  });
}

/**
 * Starts scrypt for a keystore that is about to be opened, in node's thread pool, so that it runs
 * while the program's modules load (client/main.ts). The next nodeScrypt call with the same
 * passphrase, salt and parameters takes its result; any other call runs its own.
 */
export function startEarlyScrypt(passphrase: Uint8Array, salt: Uint8Array, N: number, r: number, p: number): void {
  const key = run(passphrase, salt, N, r, p);
  key.catch(() => {}); // a failure surfaces (again) in the call that would have used it
  early = { passphrase: Buffer.from(passphrase), salt: Buffer.from(salt), params: `${N},${r},${p}`, key };
}

/** Whether an early scrypt is waiting for its command (for tests and diagnostics). */
export const earlyScryptPending = (): boolean => early !== undefined;

export const nodeScrypt: ScryptFn = (passphrase, salt, N, r, p) => {
  const e = early;
  if (e && e.params === `${N},${r},${p}` && e.salt.equals(salt) && e.passphrase.equals(passphrase)) {
    early = undefined; // once: a keystore re-opened later derives again
    e.passphrase.fill(0);
    return e.key;
  }
  return run(passphrase, salt, N, r, p);
};
