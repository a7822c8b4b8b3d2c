// register, login, logout, whoami, profile set.
import {
  DialtoneClient,
  KeyError,
  KeystoreStore,
  UsageError,
  login,
  logout,
  register,
  rememberServer,
  shortId,
  type WhoAmI,
} from "../../core/index.js";
import { CLI_HINTS } from "../format.js";
import { Keystore } from "../../keystore/index.js";
import { WAIT_OPTION, access, passphrase, password, print, server, waitMs, warn, withClient, type Command, type Ctx } from "../context.js";

const usage = (message: string) => new UsageError("invalid-input", message);

/** Publishes the profile name; a missing directory key is a warning (the account exists anyway). */
async function publishName(ctx: Ctx, client: DialtoneClient, name: string, wait: number): Promise<void> {
  try {
    await client.setProfileName(name, wait);
  } catch (err) {
    if (!(err instanceof KeyError)) throw err;
    warn(ctx, `profile name not published yet (${err.message}); run "dialtone profile set NAME" later`);
  }
}

/** Where this account and device stand under signed identities, in a line a person can act on. */
function standingLine(me: WhoAmI): string {
  const identity = me.identityFingerprint ? `identity ${me.identityFingerprint}` : "no identity yet";
  if (me.identity === "awaiting-approval") {
    return `  ${identity}; this device WAITS FOR APPROVAL: on a device of yours that holds your identity run ${CLI_HINTS.approve(me.fingerprint)}, or run ${CLI_HINTS.recover}`;
  }
  if (me.identity === "conflict") return `  !! ${identity}: the server shows another identity for this account than this device holds`;
  if (me.standing === "admitted")
    return `  ${identity}; admitted as ${me.role ?? "member"}${me.certified ? "" : "; this device is not certified yet"}`;
  if (me.standing === "pending") {
    return `  ${identity}; NOT ADMITTED yet: you get no keys until an admin compares safety numbers with you and admits you`;
  }
  if (me.standing === "removed") return `  ${identity}; removed from the community`;
  return `  ${identity}`;
}

async function sessionSummary(ctx: Ctx, verb: string, client: DialtoneClient, extra: { deviceCreated: boolean }) {
  const me = await client.whoami();
  const lines = [
    `${verb} on ${client.origin} as ${me.name ?? "(no profile name yet)"}${me.isAdmin ? " (admin)" : ""}`,
    `  user ${me.userId}, device ${me.deviceId}`,
    `  this device's fingerprint: ${me.fingerprint}`,
    standingLine(me),
  ];
  const status = client.identityStatus;
  if (status?.state === "ready" && status.recoveryCode) {
    lines.push(
      `  your RECOVERY CODE (shown once; write it down and keep it safe — with your password it restores your identity and history on a new device):`,
      `    ${status.recoveryCode}`,
    );
  }
  if (extra.deviceCreated && verb === "logged in" && me.identity !== "awaiting-approval") {
    lines.push("  new device: channel keys reach it when a member's client (yours or another's) next runs");
  }
  print(ctx, lines, {
    server: client.origin,
    user_id: me.userId,
    device_id: me.deviceId,
    is_admin: me.isAdmin,
    name: me.name ?? null,
    fingerprint: me.fingerprint,
    device_created: extra.deviceCreated,
    identity_fingerprint: me.identityFingerprint ?? null,
    standing: me.standing,
    role: me.role ?? null,
    identity: me.identity ?? null,
    certified: me.certified,
    recovery_code: status?.state === "ready" ? (status.recoveryCode ?? null) : null,
  });
}

export const registerCommand: Command = {
  name: "register",
  args: "--username U --invite T",
  summary: "create an account with an invite token",
  details:
    "Creates this config dir's keystore for the server (a new device key) if needed, registers, and\n" +
    "publishes your profile name (--name, default the username) sealed with the directory key.",
  options: {
    username: { type: "string", value: "U", help: "the username (2-32 characters)" },
    invite: { type: "string", value: "T", help: "the invite token an admin gave you" },
    name: { type: "string", value: "NAME", help: "display name to publish (default: the username)" },
    wait: WAIT_OPTION,
  },
  positionals: [0, 0],
  async run(ctx, values) {
    const username = values["username"];
    const invite = values["invite"];
    if (typeof username !== "string" || typeof invite !== "string") throw usage("register needs --username U and --invite T");
    const url = await server(ctx);
    const pw = await password(ctx, username, true);
    const creating = !(await Keystore.exists(ctx.configDir, url));
    const pass = await passphrase(ctx, creating);
    const res = await register({ server: url, configDir: ctx.configDir, passphrase: pass }, { username, password: pw, invite });
    await rememberServer(ctx.configDir, url);
    const client = await DialtoneClient.fromStore(res.store);
    try {
      await client.reconcile();
      const name = typeof values["name"] === "string" ? values["name"] : username.trim();
      await publishName(ctx, client, name, waitMs(values));
      await sessionSummary(ctx, "registered", client, { deviceCreated: true });
    } finally {
      await client.close();
    }
  },
};

export const loginCommand: Command = {
  name: "login",
  args: "--username U",
  summary: "log in (a new install becomes a new device of the account)",
  options: { username: { type: "string", value: "U", help: "the username" } },
  positionals: [0, 0],
  async run(ctx, values) {
    const username = values["username"];
    if (typeof username !== "string") throw usage("login needs --username U");
    const url = await server(ctx);
    const pw = await password(ctx, username, false);
    const creating = !(await Keystore.exists(ctx.configDir, url));
    const pass = await passphrase(ctx, creating);
    const res = await login({ server: url, configDir: ctx.configDir, passphrase: pass }, { username, password: pw });
    await rememberServer(ctx.configDir, url);
    const client = await DialtoneClient.fromStore(res.store);
    try {
      await client.reconcile();
      await sessionSummary(ctx, "logged in", client, { deviceCreated: res.deviceCreated });
    } finally {
      await client.close();
    }
  },
};

export const logoutCommand: Command = {
  name: "logout",
  args: "",
  summary: "revoke this device's session (keys stay in the keystore)",
  options: {},
  positionals: [0, 0],
  async run(ctx) {
    const a = await access(ctx);
    const store = await KeystoreStore.open(a.configDir, a.server, a.passphrase);
    const { revoked } = await logout(store);
    print(ctx, revoked ? `logged out of ${store.origin}` : `the session had already ended; forgotten locally`, {
      server: store.origin,
      revoked,
    });
  },
};

export const whoamiCommand: Command = {
  name: "whoami",
  args: "",
  summary: "show the account and device of this config dir's session",
  options: {},
  positionals: [0, 0],
  async run(ctx) {
    await withClient(ctx, (client) => sessionSummary(ctx, "logged in", client, { deviceCreated: false }), {
      reconcile: true,
      whoami: true,
    });
  },
};

export const profileSetCommand: Command = {
  name: "profile set",
  args: "NAME",
  summary: "publish your display name (sealed with the directory key)",
  options: { wait: WAIT_OPTION },
  positionals: [1, Infinity],
  async run(ctx, values, positionals) {
    await withClient(ctx, async (client) => {
      const user = await client.setProfileName(positionals.join(" "), waitMs(values));
      print(ctx, `profile name set to ${user.label} (user ${shortId(user.userId)})`, { user_id: user.userId, name: user.name ?? null });
    });
  },
};
