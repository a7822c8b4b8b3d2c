// The keystore's scrypt parameters, alone in a module so that code running before the crypto
// backend loads (client/keystore/early-unlock.ts) can check a file against them.

/** Fixed by the format; a file naming other parameters is refused (no downgrade, no DoS). */
export const KEYSTORE_SCRYPT_PARAMS = { N: 32768, r: 8, p: 1 } as const;
