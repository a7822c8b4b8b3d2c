// devices approve, devices reject, admit, recover: the signed-identity commands.
import { DialtoneClient, KeystoreStore, UsageError, recover, rememberServer, shortId } from "../../core/index.js";
import { Keystore } from "../../keystore/index.js";
import { secret } from "../prompt.js";
import { passphrase, password, print, server, withClient, type Command, type Ctx } from "../context.js";

/** This config dir's store for the server when it holds a live session, else undefined. */
async function loggedInStore(ctx: Ctx, url: string): Promise<KeystoreStore | undefined> {
  if (!(await Keystore.exists(ctx.configDir, url))) return undefined;
  const store = await KeystoreStore.open(ctx.configDir, url, await passphrase(ctx, false));
  const s = store.keystore.session;
  return s && s.expiresAt.getTime() > Date.now() ? store : undefined;
}

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
  args: "[--username U]",
  summary: "restore your identity and all history on this device with your password and recovery code",
  details:
    "For when every other device of yours is gone. The code is read from DIALTONE_RECOVERY_CODE or\n" +
    "asked for. On a fresh config dir it logs in first (--username, the password); on one that is\n" +
    "logged in and waits for approval, it recovers that device.",
  options: { username: { type: "string", value: "U", help: "the username" } },
  positionals: [0, 0],
  async run(ctx, values) {
    const url = await server(ctx);
    const loggedIn = await loggedInStore(ctx, url);
    if (loggedIn) {
      // This config dir already logged in (a device waiting for approval): recover it in place.
      const code = await secret(ctx.io, "DIALTONE_RECOVERY_CODE", "Recovery code: ");
      const client = await DialtoneClient.fromStore(loggedIn);
      try {
        const r = await client.recover(code);
        print(
          ctx,
          `recovered your identity on this device: ${r.channelKeys} channel key(s) and ${r.directoryKeys} directory key(s) restored`,
          {
            user_id: client.me.userId,
            device_id: client.me.deviceId,
            channel_keys: r.channelKeys,
            directory_keys: r.directoryKeys,
          },
        );
      } finally {
        await client.close();
      }
      return;
    }
    const username = values["username"];
    if (typeof username !== "string")
      throw new UsageError("invalid-input", "recover needs --username U (on a config dir not logged in yet)");
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
