// My display name: sealed with the directory key (created here when nobody has one yet).
import { sealText } from "../crypto/index.js";
import { checkName } from "./channels.js";
import type { ClientParts } from "./client-parts.js";
import { ApiError, KeyError } from "./errors.js";
import type { KeyWaiting } from "./key-waiting.js";
import type { UserView } from "./names.js";

export async function setProfileName(p: ClientParts, keyWaiting: KeyWaiting, name: string, waitMs: number): Promise<UserView> {
  const clean = checkName("profile name", name);
  let key = await p.keys.ensureDirectoryKey(true);
  if (!key) key = await keyWaiting.waitFor(() => p.keys.directoryKey(), waitMs);
  await keyWaiting.reopenNamesIfKeysArrived();
  if (!key) {
    throw new KeyError(
      "missing-key",
      "this device holds no directory key yet: other members have profiles, so one of their clients must share it" +
        keyWaiting.rejectionHint([{ kind: "directory" }]),
    );
  }
  const encryptedName = await sealText(key, { purpose: "profile-name", userId: p.session.userId }, clean);
  const { profile } = await p.api.directory.setProfile({ encryptedName, keyEpoch: key.epoch });
  await p.store.flush();
  if (!profile) throw new ApiError("internal", "the server answered without a profile");
  return p.directory.apply(profile);
}
