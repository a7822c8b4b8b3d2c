// node:crypto's scrypt behind the ScryptFn that client/crypto/keystore-format expects.
import { scrypt } from "node:crypto";
import type { ScryptFn } from "../crypto/index.js";

export const nodeScrypt: ScryptFn = (passphrase, salt, N, r, p) =>
  new Promise((resolve, reject) => {
    // scrypt needs 128·N·r bytes; node's 32 MiB default maxmem is exactly that at N=2^15, r=8,
    // and refuses it, so allow twice as much.
    scrypt(passphrase, salt, 32, { N, r, p, maxmem: 256 * N * r * p }, (err, key) => (err ? reject(err) : resolve(new Uint8Array(key))));
  });
