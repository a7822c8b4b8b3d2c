// Invites (admins). The token is secret: shown to the person invited only.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { formatInviteCode, generateSymmetricKey } from "../crypto/index.js";
import type { Api } from "./api.js";
import type { KeystoreStore } from "./store.js";

export interface InviteOptions {
  readonly maxUses?: number;
  readonly lifetimeSeconds?: number;
}

export interface MintedInvite {
  /** What the new member types: with the admission secret and root fingerprint when this client is the community's. */
  readonly token: string;
  /** True when the token carries an admission secret: its user is admitted by this client, not left pending. */
  readonly admits: boolean;
  readonly inviteId: string;
  readonly expiresAt: Date | undefined;
  readonly maxUses: number;
}

/**
 * Mints an invite. With an identity and a pinned root, the printed token carries a fresh
 * admission secret (kept in the keystore, never sent) and the root fingerprint: the new member's
 * client checks the server against it, and this client admits the member when it next runs.
 */
export async function mintInvite(api: Pick<Api, "invite">, store: KeystoreStore, options: InviteOptions = {}): Promise<MintedInvite> {
  const res = await api.invite.createInvite({
    ...(options.maxUses !== undefined ? { maxUses: options.maxUses } : {}),
    ...(options.lifetimeSeconds !== undefined ? { lifetimeSeconds: options.lifetimeSeconds } : {}),
  });
  const ks = store.keystore;
  const root = ks.root;
  const inviteId = res.invite?.inviteId ?? "";
  let token = res.token;
  if (root && ks.identity && inviteId !== "") {
    const secret = generateSymmetricKey();
    ks.addInviteSecret(inviteId, secret);
    await store.save(); // the secret is on disk before anyone can use the invite
    token = formatInviteCode({ serverToken: res.token, admissionSecret: secret, rootFingerprint: root.fingerprint });
  }
  return {
    token,
    admits: token !== res.token,
    inviteId: res.invite?.inviteId ?? "",
    expiresAt: res.invite?.expiresAt ? timestampDate(res.invite.expiresAt) : undefined,
    maxUses: res.invite?.maxUses ?? 0,
  };
}
