// devices, verify, invite.
import { deviceLine, safetyNumberLines } from "../../core/index.js";
import { CLI_HINTS, deviceJson, safetyJson } from "../format.js";
import { numberOption, print, withClient, type Command } from "../context.js";

export const devicesCommand: Command = {
  name: "devices",
  args: "",
  summary: "list every member's devices with fingerprints, approval and admission",
  details:
    "A device gets keys only when its owner's identity approved it (certified) and its owner is an\n" +
    "admitted member; unverified devices and pending members are flagged. A changed key is refused.",
  options: { user: { type: "string", value: "USER", help: "only this user's devices (name or id prefix)" } },
  positionals: [0, 0],
  async run(ctx, values) {
    await withClient(
      ctx,
      async (client) => {
        let devices = await client.devices();
        const user = values["user"];
        if (typeof user === "string") {
          const u = client.resolveUser(user);
          devices = devices.filter((d) => d.userId === u.userId);
        }
        print(ctx, devices.map(deviceLine), { devices: devices.map(deviceJson) });
      },
      { reconcile: false },
    );
  },
};

export const verifyCommand: Command = {
  name: "verify",
  args: "USER",
  summary: "show the safety number shared with USER (compare it out of band)",
  details:
    "The 60 digits cover both accounts' identity keys: adding, hiding or removing a device never\n" +
    "changes them; a new identity key does. (Before both accounts have an identity, they cover\n" +
    "every device of both accounts.)\n" +
    "After comparing them with USER in person or on a call, --mark-verified records it.",
  options: { "mark-verified": { type: "boolean", help: "record that you compared this number with USER" } },
  positionals: [1, 1],
  async run(ctx, values, positionals) {
    await withClient(
      ctx,
      async (client) => {
        const user = client.resolveUser(positionals[0]!);
        const result = await client.safetyNumber(user.userId);
        const mark = values["mark-verified"] === true;
        if (mark) await client.markVerified(result);
        const verified = mark || result.verified;
        const lines = safetyNumberLines(user, result, { marked: mark, typed: positionals[0]!, hints: CLI_HINTS });
        print(ctx, lines, { ...safetyJson(user, result), verified, marked: mark });
      },
      { reconcile: false },
    );
  },
};

export const inviteCommand: Command = {
  name: "invite",
  args: "",
  summary: "mint an invite token (admins); the token is printed once",
  options: {
    uses: { type: "string", value: "N", help: "registrations it allows (default 1)" },
    hours: { type: "string", value: "H", help: "validity in hours (default 24, at most 720)" },
  },
  positionals: [0, 0],
  async run(ctx, values) {
    const uses = values["uses"] !== undefined ? numberOption(values, "uses", 1, 1000, 1) : undefined;
    const hours = values["hours"] !== undefined ? numberOption(values, "hours", 1, 720, 24) : undefined;
    await withClient(
      ctx,
      async (client) => {
        const inv = await client.createInvite({
          ...(uses !== undefined ? { maxUses: uses } : {}),
          ...(hours !== undefined ? { lifetimeSeconds: hours * 3600 } : {}),
        });
        const note = inv.admits
          ? "your client admits whoever registers with it the next time it runs"
          : "no admission secret in it (this device holds no identity or no community root): the new member stays pending until an admin admits them";
        print(
          ctx,
          [inv.token, `(${inv.maxUses} use${inv.maxUses === 1 ? "" : "s"}, valid until ${inv.expiresAt?.toISOString() ?? "?"}; ${note})`],
          {
            token: inv.token,
            admits: inv.admits,
            invite_id: inv.inviteId,
            expires_at: inv.expiresAt?.toISOString() ?? null,
            max_uses: inv.maxUses,
          },
        );
      },
      { reconcile: false },
    );
  },
};
