// Accounts as an admin sees them: the server's AdminService list (ids, devices, flags) with
// names from this client's directory (the server knows ids only). Shared by `dialtone admin`
// and the UI's /admin.
import type { UserInfo } from "../../gen/dialtone/v1/admin_service_pb.js";
import type { Device } from "../../gen/dialtone/v1/device_pb.js";
import type { DialtoneClient } from "./client.js";
import { resolveByNameOrId, shortId } from "./names.js";

export interface Account {
  readonly info: UserInfo;
  /** The directory label ("alice", "alice#1a2b"), or `user-<short id>` when this client cannot open the name. */
  readonly label: string;
  readonly name: string | undefined;
}

/** Every account the server lists (removed ones too with `includeRemoved`), named from the directory. */
export async function listAccounts(client: DialtoneClient, includeRemoved = false): Promise<Account[]> {
  const { users } = await client.api.admin.listUsers({ includeRemoved });
  const names = new Map(client.users().map((u) => [u.userId, u]));
  return users.map((info) => {
    const u = names.get(info.userId);
    return { info, name: u?.name, label: u?.label ?? `user-${shortId(info.userId)}` };
  });
}

/** An account by directory name or id prefix, among those the server lists. */
export async function resolveAccount(client: DialtoneClient, arg: string, includeRemoved = false): Promise<Account> {
  const all = await listAccounts(client, includeRemoved);
  return resolveByNameOrId(all, arg, (a) => ({ id: a.info.userId, name: a.name, label: a.label }), "user");
}

/** Any account's device by id prefix, with its owner. */
export async function resolveAccountDevice(client: DialtoneClient, arg: string): Promise<{ device: Device; owner: Account }> {
  const devices = (await listAccounts(client)).flatMap((owner) => owner.info.devices.map((device) => ({ device, owner })));
  return resolveByNameOrId(devices, arg, (d) => ({ id: d.device.deviceId, name: undefined, label: `${d.owner.label}'s device` }), "device");
}
