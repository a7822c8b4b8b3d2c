// dialtone admin users|promote|demote|remove|revoke: AdminService with names from the directory
// (this admin's client opens them; the server only knows ids).
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { UserInfo } from "../../../gen/dialtone/v1/admin_service_pb.js";
import {
  listAccounts as accounts,
  resolveAccount as account,
  resolveAccountDevice,
  shortId,
  UsageError,
  type Account,
} from "../../core/index.js";
import { print, withClient, type Command, type Ctx } from "../context.js";

const day = (t: UserInfo["createdAt"]) => (t ? timestampDate(t).toISOString().slice(0, 10) : "?");

function userLine(a: Account): string {
  const active = a.info.devices.filter((d) => !d.revokedAt).length;
  const marks = [
    a.info.isAdmin ? "admin" : "",
    a.info.online ? "online" : "",
    a.info.removedAt ? `removed ${day(a.info.removedAt)}` : "",
  ].filter(Boolean);
  return `${a.label.padEnd(20)} ${shortId(a.info.userId)}  ${String(active).padStart(2)} device${active === 1 ? " " : "s"}  since ${day(a.info.createdAt)}${marks.length ? `  ${marks.join(", ")}` : ""}`;
}

function userJson(a: Account) {
  return {
    user_id: a.info.userId,
    name: a.name ?? null,
    is_admin: a.info.isAdmin,
    online: a.info.online,
    created_at: a.info.createdAt ? timestampDate(a.info.createdAt).toISOString() : null,
    removed_at: a.info.removedAt ? timestampDate(a.info.removedAt).toISOString() : null,
    devices: a.info.devices.map((d) => ({ device_id: d.deviceId, revoked: !!d.revokedAt })),
  };
}

const ADMIN = "needs an admin account (the server answers permission_denied otherwise)";

export const adminUsersCommand: Command = {
  name: "admin users",
  args: "",
  summary: "list accounts with their names, devices, admin flag and presence (admin)",
  details: ADMIN,
  options: { removed: { type: "boolean", help: "also list removed accounts" } },
  positionals: [0, 0],
  async run(ctx, values) {
    await withClient(ctx, async (client) => {
      const list = await accounts(client, values["removed"] === true);
      print(ctx, [`${"name".padEnd(20)} ${"id".padEnd(8)}  devices     registered`, ...list.map(userLine)], { users: list.map(userJson) });
    });
  },
};

function setAdmin(isAdmin: boolean): Command {
  return {
    name: isAdmin ? "admin promote" : "admin demote",
    args: "USER",
    summary: isAdmin ? "make USER an admin (admin)" : "take USER's admin flag away (admin; never the last admin)",
    details: `USER is a name or an id prefix. ${ADMIN}.`,
    options: {},
    positionals: [1, 1],
    async run(ctx, _values, positionals) {
      await withClient(ctx, async (client) => {
        const a = await account(client, positionals[0]!);
        await client.api.admin.setAdmin({ userId: a.info.userId, isAdmin });
        print(ctx, `${a.label} (${shortId(a.info.userId)}) ${isAdmin ? "is now an admin" : "is no longer an admin"}`, {
          user_id: a.info.userId,
          is_admin: isAdmin,
        });
      });
    },
  };
}

export const adminPromoteCommand = setAdmin(true);
export const adminDemoteCommand = setAdmin(false);

export const adminRemoveCommand: Command = {
  name: "admin remove",
  args: "USER",
  summary: "remove USER's account: devices revoked, sessions and streams ended (admin; needs --yes)",
  details: `The account stays as a tombstone so past messages keep their sender. ${ADMIN}.`,
  options: { yes: { type: "boolean", help: "yes, remove it (nothing is removed without it)" } },
  positionals: [1, 1],
  async run(ctx, values, positionals) {
    await withClient(ctx, async (client) => {
      const a = await account(client, positionals[0]!);
      if (values["yes"] !== true) {
        throw new UsageError("invalid-input", `this removes ${a.label} (${shortId(a.info.userId)}) for good: run it again with --yes`);
      }
      const { rotated } = await client.removeUser(a.info.userId);
      print(ctx, `removed ${a.label} (${shortId(a.info.userId)}); new keys for ${rotated} channel${rotated === 1 ? "" : "s"}`, {
        user_id: a.info.userId,
        removed: true,
        channels_rotated: rotated,
      });
    });
  },
};

export const adminRevokeCommand: Command = {
  name: "admin revoke",
  args: "DEVICE",
  summary: "revoke any account's device by id prefix: its sessions and streams end (admin)",
  details: `dialtone admin users --json lists device ids. ${ADMIN}.`,
  options: {},
  positionals: [1, 1],
  async run(ctx: Ctx, _values, positionals) {
    await withClient(ctx, async (client) => {
      const found = await resolveAccountDevice(client, positionals[0]!);
      await client.api.admin.revokeDevice({ deviceId: found.device.deviceId });
      print(ctx, `revoked ${found.owner.label}'s device ${shortId(found.device.deviceId)}`, {
        device_id: found.device.deviceId,
        user_id: found.owner.info.userId,
        revoked: true,
      });
    });
  },
};

export const ADMIN_COMMANDS: readonly Command[] = [
  adminUsersCommand,
  adminPromoteCommand,
  adminDemoteCommand,
  adminRemoveCommand,
  adminRevokeCommand,
];
