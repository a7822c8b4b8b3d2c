// Invites (admins). The token is secret: shown to the person invited only.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Api } from "./api.js";

export interface InviteOptions {
  readonly maxUses?: number;
  readonly lifetimeSeconds?: number;
}

export interface MintedInvite {
  readonly token: string;
  readonly inviteId: string;
  readonly expiresAt: Date | undefined;
  readonly maxUses: number;
}

export async function mintInvite(api: Pick<Api, "invite">, options: InviteOptions = {}): Promise<MintedInvite> {
  const res = await api.invite.createInvite({
    ...(options.maxUses !== undefined ? { maxUses: options.maxUses } : {}),
    ...(options.lifetimeSeconds !== undefined ? { lifetimeSeconds: options.lifetimeSeconds } : {}),
  });
  return {
    token: res.token,
    inviteId: res.invite?.inviteId ?? "",
    expiresAt: res.invite?.expiresAt ? timestampDate(res.invite.expiresAt) : undefined,
    maxUses: res.invite?.maxUses ?? 0,
  };
}
