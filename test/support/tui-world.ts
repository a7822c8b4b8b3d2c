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

export interface TuiWorld {
  readonly root: string;
  readonly server: ServerProcess;
  /** `dialtone` in tmux with `dir` as its config dir; `passphrase` pre-fills the login form's field. */
  startClient(dir: string, size: { width: number; height: number }, passphrase?: boolean): Promise<TmuxSession>;
  /** Registers `who` (with the server's invite for the first, else one `inviter` mints, and admits it). */
  install(who: string, inviter?: DialtoneClient): Promise<DialtoneClient>;
  stop(): Promise<void>;
}

export async function startTuiWorld(prefix: string): Promise<TuiWorld> {
  requireTmux(); // fails (never skips) without tmux
  const root = tempDir(prefix);
  const port = await freePort();
  const server = await startServerProcess(
    cleanEnv({
      DIALTONE_DATA_DIR: join(root.dir, "server-data"),
      DIALTONE_LISTEN_ADDR: `127.0.0.1:${port}`,
      DIALTONE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    }),
    180_000,
  );
  const sessions: TmuxSession[] = [];
  return {
    root: root.dir,
    server,
    async startClient(dir, size, passphrase = true) {
      const home = join(root.dir, `${dir}-home`);
      mkdirSync(home, { recursive: true });
      const s = await startTmux([process.execPath, CLIENT_BIN, "--server", server.url], {
        ...size,
        cwd: REPO,
        env: {
          HOME: home,
          DIALTONE_CONFIG_DIR: join(root.dir, dir),
          XDG_RUNTIME_DIR: join(root.dir, `${dir}-run`),
          LANG: "C.UTF-8",
          PATH: process.env["PATH"] ?? "/usr/bin:/bin",
          ...(passphrase ? { DIALTONE_PASSPHRASE: PASSPHRASE } : {}),
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
    async stop() {
      for (const s of sessions) await s.kill();
      await server.stop();
      root.remove();
    },
  };
}
