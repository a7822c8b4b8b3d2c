// devices approve, devices reject, admit, recover: the signed-identity commands.
import { UsageError, recover, rememberServer, shortId } from "../../core/index.js";
import { Keystore } from "../../keystore/index.js";
import { secret } from "../prompt.js";
import { passphrase, password, print, server, withClient, type Command } from "../context.js";

export const devicesApproveCommand: Command = {
  name: "devices approve",
  args: "FINGERPRINT",
  summary: "approve a new device of your account by the fingerprint it shows",
  details:
    "Compare the 20 hex digits the new device shows (dialtone whoami there) with the ones listed\n" +
    "here; approving signs its certificate with your identity and hands it your identity and keys.\n" +
    "A server can grind a short code but not 80 bits: never approve a fingerprint you did not compare.",
  options: {},
  positionals: [1, Infinity],
  async run(ctx, _values, positionals) {
    const fingerprint = positionals.join(" ");
    await withClient(ctx, async (client) => {
      const approved = await client.approveDevice(fingerprint);
      print(ctx, `approved device ${shortId(approved.deviceId)} (${approved.fingerprint}); it now receives your identity and keys`, {
        device_id: approved.deviceId,
        fingerprint: approved.fingerprint,
        approved: true,
      });
    });
  },
};

export const devicesRejectCommand: Command = {
  name: "devices reject",
  args: "FINGERPRINT",
  summary: "revoke a device of your account you do not recognise (signed revocation)",
  options: {},
  positionals: [1, Infinity],
  async run(ctx, _values, positionals) {
    await withClient(ctx, async (client) => {
      const r = await client.rejectDevice(positionals.join(" "));
      print(ctx, `revoked device ${shortId(r.deviceId)} (${r.fingerprint})`, {
        device_id: r.deviceId,
        fingerprint: r.fingerprint,
        revoked: true,
      });
    });
  },
};

export const admitCommand: Command = {
  name: "admit",
  args: "USER",
  summary: "admit a pending member (admins); compare safety numbers with them first (dialtone verify USER)",
  details:
    "Members who registered with an invite your client minted are admitted automatically; an\n" +
    "account registered with a server-side invite (buf curl) stays pending until an admin admits it.\n" +
    "The safety number admitted at is printed: it is the one `dialtone verify USER` shows.",
  options: {
    admin: { type: "boolean", help: "admit as an admin (may admit others and sign directory keys)" },
  },
  positionals: [1, 1],
  async run(ctx, values, positionals) {
    await withClient(ctx, async (client) => {
      const user = client.resolveUser(positionals[0]!);
      const role = values["admin"] === true ? "admin" : "member";
      await client.admit(user.userId, role);
      const number = await client.safetyNumber(user.userId);
      print(
        ctx,
        [
          `admitted ${user.label} (${shortId(user.userId)}) as ${role}; keys are shared with their certified devices`,
          `the safety number you share with ${user.label} (compare it with them):`,
          ...number.formatted.split("\n").map((l) => `  ${l}`),
        ],
        { user_id: user.userId, role, admitted: true, safety_number: number.digits },
      );
    });
  },
};

export const recoverCommand: Command = {
  name: "recover",
  args: "--username U",
  summary: "restore your identity and all history on this device with your password and recovery code",
  details:
    "For when every other device of yours is gone. The code is read from DIALTONE_RECOVERY_CODE or\n" +
    "asked for; this config dir must not be logged in to the server yet.",
  options: { username: { type: "string", value: "U", help: "the username" } },
  positionals: [0, 0],
  async run(ctx, values) {
    const username = values["username"];
    if (typeof username !== "string") throw new UsageError("invalid-input", "recover needs --username U");
    const url = await server(ctx);
    const pw = await password(ctx, username, false);
    const code = await secret(ctx.io, "DIALTONE_RECOVERY_CODE", "Recovery code: ");
    const creating = !(await Keystore.exists(ctx.configDir, url));
    const pass = await passphrase(ctx, creating);
    const res = await recover({ server: url, configDir: ctx.configDir, passphrase: pass }, { username, password: pw, recoveryCode: code });
    await rememberServer(ctx.configDir, url);
    print(
      ctx,
      `recovered your identity on this device: ${res.channelKeys} channel key(s) and ${res.directoryKeys} directory key(s) restored`,
      {
        user_id: res.session.userId,
        device_id: res.session.deviceId,
        channel_keys: res.channelKeys,
        directory_keys: res.directoryKeys,
      },
    );
  },
};

export const IDENTITY_COMMANDS: readonly Command[] = [devicesApproveCommand, devicesRejectCommand, admitCommand, recoverCommand];
