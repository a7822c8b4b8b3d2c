// Test support for client/core: a real in-process server (PGlite) and clients with their own
// config dirs, as separate installs would have. Used by client/core's *.test.ts files.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintInvite } from "./api.js";
import { databaseSource, type DatabaseSource, type DbKind } from "./databases.js";
import { startTestServer, type TestServer } from "./server.js";
import type { Database } from "../../server/db/client.js";
import { DialtoneClient, login, register } from "../../client/core/index.js";
import { deviceFingerprint } from "../../client/crypto/index.js";

export const PASSWORD = "correct horse battery";
export const PASSPHRASE = "keystore passphrase";

export interface TestInstall {
  readonly client: DialtoneClient;
  readonly configDir: string;
  readonly username: string;
}

export class Harness {
  server!: TestServer;
  #db!: Database;
  readonly #source: DatabaseSource;
  readonly #dirs: string[] = [];
  readonly #clients: DialtoneClient[] = [];
  /** The first install registered: the admin, whose client mints invites and admits. */
  #admin: TestInstall | undefined;
  /** Each account's first install, which approves the account's later devices. */
  readonly #firstInstall = new Map<string, TestInstall>();

  private constructor(source: DatabaseSource) {
    this.#source = source;
  }

  static async start(kind: DbKind = "pglite"): Promise<Harness> {
    const h = new Harness(await databaseSource(kind));
    h.#db = await h.#source.fresh();
    h.server = await startTestServer(h.#db, { heartbeatSeconds: 2 });
    return h;
  }

  /** The admin's install (the first registered), once there is one. */
  get admin(): TestInstall {
    if (!this.#admin) throw new Error("Harness.admin: register someone first");
    return this.#admin;
  }

  get url(): string {
    return this.server.url;
  }

  /**
   * Stops the server and starts it again on the same port over the same data; `whileStopped`
   * gets the database in hand meanwhile (an operator editing it).
   */
  async restart(downtimeMs = 0, whileStopped?: (db: Database) => Promise<void>): Promise<void> {
    const port = this.server.port;
    await this.server.close();
    this.#db = await this.#source.restart(this.#db);
    if (whileStopped) await whileStopped(this.#db);
    if (downtimeMs > 0) await new Promise((r) => setTimeout(r, downtimeMs));
    this.server = await startTestServer(this.#db, { port, heartbeatSeconds: 2 });
  }

  async #dir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "dialtone-core-"));
    this.#dirs.push(dir);
    return dir;
  }

  #track(client: DialtoneClient): DialtoneClient {
    this.#clients.push(client);
    return client;
  }

  /**
   * Registers a new account from a new install. The first one is the admin (and the community's
   * root); later ones use an invite the admin's client mints, and the admin's client then runs
   * once, admitting them, as it would on its next start. `serverInvite`: an invite minted with
   * the server's admin token instead, whose account stays pending until admitted by hand.
   */
  async register(username = `u${randomUUID().slice(0, 8)}`, opts: { serverInvite?: boolean } = {}): Promise<TestInstall> {
    const configDir = await this.#dir();
    const admin = this.#admin;
    const invite = admin && !opts.serverInvite ? (await admin.client.createInvite()).token : await mintInvite(this.url);
    const res = await register({ server: this.url, configDir, passphrase: PASSPHRASE }, { username, password: PASSWORD, invite });
    const client = this.#track(await DialtoneClient.fromStore(res.store));
    await client.reconcile();
    const install = { client, configDir, username };
    this.#admin ??= install;
    if (!this.#firstInstall.has(username)) this.#firstInstall.set(username, install);
    if (admin && admin !== install) await admin.client.reconcile();
    return install;
  }

  /**
   * Logs an existing account in from a new install: a new device, approved from the account's
   * first install (comparing the fingerprint as a person would) unless `approve` is false.
   */
  async newDevice(username: string, opts: { approve?: boolean } = {}): Promise<TestInstall> {
    const configDir = await this.#dir();
    const res = await login({ server: this.url, configDir, passphrase: PASSPHRASE }, { username, password: PASSWORD });
    const client = this.#track(await DialtoneClient.fromStore(res.store));
    const first = this.#firstInstall.get(username);
    if (opts.approve !== false && first) {
      await first.client.approveDevice(await deviceFingerprint(res.store.keystore.devicePublicKey));
    }
    return { client, configDir, username };
  }

  /** Opens another client on an install's keystore (a second process of the same install). */
  async reopen(install: TestInstall): Promise<DialtoneClient> {
    return this.#track(await DialtoneClient.open({ server: this.url, configDir: install.configDir, passphrase: PASSPHRASE }));
  }

  async close(): Promise<void> {
    for (const c of this.#clients) await c.close().catch(() => {});
    await this.server.close();
    await this.#db.close();
    await this.#source.stop();
    for (const d of this.#dirs) await rm(d, { recursive: true, force: true });
  }
}

/** Polls `check` until it returns a value (or throws after `timeoutMs`). */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
