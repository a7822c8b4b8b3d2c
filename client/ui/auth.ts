// What the login form's submit does, off the input path: open the server's keystore, resume its
// saved session or log in / register, remember the server (most recent first), and hand back a
// DialtoneClient. Nothing here draws.
import { DialtoneClient, KeystoreStore, login, normaliseServerUrl, readLastChannel, register, rememberServer } from "../core/index.js";
import { Keystore } from "../keystore/index.js";

export interface AuthRequest {
  readonly mode: "login" | "register";
  readonly server: string;
  readonly username: string;
  readonly password: string;
  readonly passphrase: string;
  readonly invite: string;
}

export interface AuthResult {
  readonly client: DialtoneClient;
  /** Lines for the chat screen to show first ("resumed the saved session", ...). */
  readonly notes: readonly string[];
  /** A name to publish in the background (registration): the username. */
  readonly publishName?: string;
  /** The channel this install had open last on this server. */
  readonly lastChannel?: string;
}

/** Whether `server` has a keystore here, so a login may only need the passphrase (its session may still be valid). */
export async function hasKeystore(configDir: string, server: string): Promise<boolean> {
  try {
    return await Keystore.exists(configDir, normaliseServerUrl(server));
  } catch {
    return false;
  }
}

export class NeedCredentials extends Error {
  override readonly name = "NeedCredentials";
}

export async function authenticate(configDir: string, req: AuthRequest): Promise<AuthResult> {
  const server = normaliseServerUrl(req.server.trim());
  const access = { server, configDir, passphrase: req.passphrase };
  const username = req.username.trim();
  if (req.mode === "register") {
    const res = await register(access, { username, password: req.password, invite: req.invite.trim() });
    await rememberServer(configDir, server);
    return { client: await DialtoneClient.fromStore(res.store), notes: [`registered as ${username}`], publishName: username };
  }
  if (await Keystore.exists(configDir, server)) {
    const store = await KeystoreStore.open(configDir, server, req.passphrase);
    const s = store.keystore.session;
    if (s && s.expiresAt.getTime() > Date.now()) {
      await rememberServer(configDir, server);
      const lastChannel = await readLastChannel(configDir, server);
      return {
        client: await DialtoneClient.fromStore(store),
        notes: ["resumed the saved session"],
        ...(lastChannel ? { lastChannel } : {}),
      };
    }
    if (!username || !req.password) throw new NeedCredentials("the saved session ended: enter username and password");
  }
  const res = await login(access, { username, password: req.password });
  await rememberServer(configDir, server);
  const notes = [`logged in as ${username}`];
  // What it gets and when (approval from a device holding the identity, or none needed) is the identity notice's to say.
  if (res.deviceCreated) notes.push("this install is a new device of your account");
  const lastChannel = await readLastChannel(configDir, server);
  return { client: await DialtoneClient.fromStore(res.store), notes, ...(lastChannel ? { lastChannel } : {}) };
}
