// The world the terminal UI tests run in: a real dialtone-server in a temp dir, accounts
// registered through the client core (the first one the admin, the others admitted by it), and
// `dialtone` processes in tmux, each with its own config dir and home.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DialtoneClient, register, rememberServer } from "../../client/core/index.js";
import { mintInvite } from "./api.js";
import { CLIENT_BIN } from "./cli.js";
import { freePort } from "./ports.js";
import { cleanEnv, REPO, startServerProcess, tempDir, type ServerProcess } from "./process.js";
import { TEST_ADMIN_TOKEN } from "./server.js";
import { requireTmux, startTmux, type TmuxSession } from "./tmux.js";

export const PASSWORD = "correct horse battery staple";
export const PASSPHRASE = "keystore passphrase 42";

export interface ClientOptions {
  /** The pane's size (default 120x40). */
  readonly width?: number;
  readonly height?: number;
  /** DIALTONE_PASSPHRASE in its environment, which pre-fills the login form's field (default true). */
  readonly passphrase?: boolean;
  /** `--server URL` on its command line (default true). */
  readonly withServer?: boolean;
  /** More arguments, e.g. a tone for the voice daemon's microphone. */
  readonly args?: readonly string[];
}

/** A tone as the microphone and no push-to-talk hotkey: a voice daemon the UI starts needs no hardware. */
export const TONE_VOICE = ["--voice-audio", "tone:440", "--voice-ptt-backend", "none"] as const;

export interface TuiWorld {
  readonly root: string;
  /** The server now running (a new one after stopServer and startServer). */
  readonly server: ServerProcess;
  /**
   * `dialtone` in tmux with `dir` as its config dir and its own home, state and runtime dirs
   * (where a voice daemon's socket lives), all under the world's root.
   */
  startClient(dir: string, opts?: ClientOptions): Promise<TmuxSession>;
  /**
   * Registers `who` through client/core: the first account (the admin) with the server's invite,
   * a member with one the admin's client `inviter` mints, whose next run admits the member and
   * shares its keys. The install remembers the server, as `dialtone register` does.
   */
  install(who: string, inviter?: DialtoneClient): Promise<DialtoneClient>;
  /** Stops the server; its data dir and port stay for startServer. */
  stopServer(): Promise<void>;
  /** Starts the server again on the same data dir and port. */
  startServer(): Promise<void>;
  /** Kills every client's terminal (waiting for them to quit), stops the server, removes the root. */
  stop(): Promise<void>;
}

export async function startTuiWorld(prefix: string): Promise<TuiWorld> {
  requireTmux(); // fails (never skips) without tmux
  const root = tempDir(prefix);
  const port = await freePort();
  const launchServer = () =>
    startServerProcess(
      cleanEnv({
        DIALTONE_DATA_DIR: join(root.dir, "server-data"),
        DIALTONE_LISTEN_ADDR: `127.0.0.1:${port}`,
        DIALTONE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      }),
      180_000,
    );
  let server = await launchServer();
  const sessions: TmuxSession[] = [];
  return {
    root: root.dir,
    get server() {
      return server;
    },
    async startClient(dir, opts = {}) {
      const home = join(root.dir, `${dir}-home`);
      mkdirSync(home, { recursive: true });
      const argv = [process.execPath, CLIENT_BIN, ...(opts.withServer === false ? [] : ["--server", server.url]), ...(opts.args ?? [])];
      const s = await startTmux(argv, {
        width: opts.width ?? 120,
        height: opts.height ?? 40,
        cwd: REPO,
        env: {
          HOME: home,
          DIALTONE_CONFIG_DIR: join(root.dir, dir),
          XDG_RUNTIME_DIR: join(root.dir, `${dir}-run`),
          XDG_STATE_HOME: join(root.dir, `${dir}-state`),
          LANG: "C.UTF-8",
          PATH: process.env["PATH"] ?? "/usr/bin:/bin",
          ...(opts.passphrase === false ? {} : { DIALTONE_PASSPHRASE: PASSPHRASE }),
        },
      });
      sessions.push(s);
      return s;
    },
    async install(who, inviter) {
      const invite = inviter ? (await inviter.createInvite()).token : await mintInvite(server.url);
      const res = await register(
        { server: server.url, configDir: join(root.dir, who), passphrase: PASSPHRASE },
        { username: who, password: PASSWORD, invite },
      );
      await rememberServer(join(root.dir, who), server.url);
      const client = await DialtoneClient.fromStore(res.store);
      await client.reconcile(); // publishes its identity with the invite's admission request
      await inviter?.reconcile();
      return client;
    },
    async stopServer() {
      await server.stop();
    },
    async startServer() {
      server = await launchServer();
    },
    async stop() {
      for (const s of sessions) await s.kill();
      await server.stop();
      root.remove();
    },
  };
}
