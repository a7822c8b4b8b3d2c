// client/keystore: the encrypted per-server keystore on disk (format: client/crypto/keystore-format).
export { KeystoreError, type KeystoreErrorCode } from "./errors.js";
export { Keystore, MIN_PASSPHRASE_LENGTH, type PinResult } from "./keystore.js";
export { keystorePaths, resolveConfigDir, serverOrigin, type KeystorePaths } from "./paths.js";
export { nodeScrypt } from "./scrypt.js";
export { DIR_MODE, FILE_MODE, ensurePrivateDir, withFileLock, writeFileAtomic } from "./atomic.js";
export { checkOwnPath, currentUid, type PrivateKind } from "./ownership.js";
export {
  KEYSTORE_STATE_VERSION,
  type IdentityKeys,
  type InviteSecret,
  type PinnedDevice,
  type PinnedIdentity,
  type PinnedRoot,
  type RootSource,
  type Session,
  type VerifiedUser,
} from "./state.js";
