// /search and /jump in the terminal UI (issue 15), driven in tmux against a real dialtone-server:
// a message this install opened before the UI started and one that arrives live are both found,
// newest first, in the system view; #channel restricts; /jump opens a result's channel.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { DialtoneClient, register, rememberServer } from "../client/core/index.js";
import { mintInvite } from "./support/api.js";
import { CLIENT_BIN } from "./support/cli.js";
import { freePort } from "./support/ports.js";
import { cleanEnv, REPO, startServerProcess, tempDir, type ServerProcess } from "./support/process.js";
import { TEST_ADMIN_TOKEN } from "./support/server.js";
import { requireTmux, startTmux, type TmuxSession } from "./support/tmux.js";

const PASSWORD = "correct horse battery staple";
const PASSPHRASE = "keystore passphrase 42";

let root: { dir: string; remove: () => void };
let server: ServerProcess;
let ui: TmuxSession | undefined;
let bob: DialtoneClient;

async function install(who: string, inviter?: DialtoneClient): Promise<DialtoneClient> {
  const invite = inviter ? (await inviter.createInvite()).token : await mintInvite(server.url);
  const res = await register(
    { server: server.url, configDir: join(root.dir, who), passphrase: PASSPHRASE },
    { username: who, password: PASSWORD, invite },
  );
  await rememberServer(join(root.dir, who), server.url);
  const client = await DialtoneClient.fromStore(res.store);
  await client.reconcile();
  await inviter?.reconcile();
  return client;
}

const header = (screen: string) => screen.split("\n")[0] ?? "";

beforeAll(async () => {
  requireTmux(); // fails (never skips) without tmux
  root = tempDir("dialtone-tui-search-");
  const port = await freePort();
  server = await startServerProcess(
    cleanEnv({
      DIALTONE_DATA_DIR: join(root.dir, "server-data"),
      DIALTONE_LISTEN_ADDR: `127.0.0.1:${port}`,
      DIALTONE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    }),
    180_000,
  );
  const alice = await install("alice");
  await alice.setProfileName("alice", 30_000);
  bob = await install("bob", alice);
  await bob.setProfileName("bob", 30_000);
  const alpha = await alice.createChannel("alpha");
  const beta = await alice.createChannel("beta");
  await alice.reconcile();
  await bob.requireChannelKey(alpha.id, 30_000);
  // Opened (sent) by alice's install before the UI starts: in its cache once the client closes.
  await alice.send(beta.id, "an old nightingale in beta");
  await alice.close();
}, 300_000);

afterAll(async () => {
  await ui?.kill();
  await bob?.close();
  await server?.stop();
  root?.remove();
}, 60_000);

test("/search lists cached and live messages newest first; #channel restricts; /jump opens the channel", async () => {
  const home = join(root.dir, "alice-home");
  mkdirSync(home, { recursive: true });
  ui = await startTmux([process.execPath, CLIENT_BIN, "--server", server.url, "--voice-audio", "tone:440", "--voice-ptt-backend", "none"], {
    width: 120,
    height: 40,
    cwd: REPO,
    env: {
      HOME: home,
      DIALTONE_CONFIG_DIR: join(root.dir, "alice"),
      XDG_RUNTIME_DIR: join(root.dir, "alice-run"),
      XDG_STATE_HOME: join(root.dir, "alice-state"),
      LANG: "C.UTF-8",
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    },
  });
  await ui.waitFor(/^\s*> Keystore Passphrase/m, 60_000, "the cursor on the passphrase");
  await ui.type(PASSPHRASE);
  await ui.keys("Enter");
  await ui.waitFor("● online", 120_000, "online");
  await ui.waitFor((t) => header(t).includes("#alpha"), 30_000, "#alpha open");

  const alpha = bob.channels().find((c) => c.name === "alpha")!;
  await bob.send(alpha.id, "a live nightingale in alpha");
  await ui.waitFor(/bob: a live nightingale in alpha/, 30_000, "the live message shown");

  await ui.type("/search NIGHTINGALE");
  await ui.keys("Enter");
  const found = await ui.waitFor(/2 matches among 2 cached messages in 2 channels/, 30_000, "the results");
  const one = found.search(/ 1\. \[\d{4}-\d\d-\d\d \d\d:\d\d\] #alpha bob: a live nightingale in alpha/);
  const two = found.search(/ 2\. \[\d{4}-\d\d-\d\d \d\d:\d\d\] #beta alice: an old nightingale in beta/);
  expect(one).toBeGreaterThan(0);
  expect(two).toBeGreaterThan(one);

  await ui.type("/search #beta nightingale");
  await ui.keys("Enter");
  await ui.waitFor(/search "nightingale": 1 match among 2 cached messages/, 30_000, "the restricted results");
  await ui.type("/jump 1");
  await ui.keys("Enter");
  await ui.waitFor((t) => header(t).includes("#beta"), 30_000, "#beta opened by /jump");
}, 300_000);
