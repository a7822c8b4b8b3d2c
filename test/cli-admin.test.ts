// dialtone admin users|promote|demote|remove|revoke, run as the CLI runs (runCli, real keystores
// in temp config dirs) against a real server: names come from the admin's directory, not the server.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../client/cli/run.js";
import { mintInvite } from "./support/api.js";
import { fakeIo } from "./support/cli-io.js";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/server.js";

let source: DatabaseSource;
let server: TestServer;
let base: string;

beforeAll(async () => {
  source = await databaseSource("pglite");
  server = await startTestServer(await source.fresh());
  base = await mkdtemp(join(tmpdir(), "dialtone-cli-admin-"));
}, 60_000);

afterAll(async () => {
  await server?.close();
  await server?.database.close();
  await source?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

/** One person's CLI: its own config dir; each call returns the exit code and what it printed. */
function person(name: string) {
  const env = {
    DIALTONE_CONFIG_DIR: join(base, name),
    DIALTONE_PASSWORD: `${name}-password-1`,
    DIALTONE_PASSPHRASE: `${name}-passphrase-1`,
  };
  return async (...args: string[]) => {
    const f = fakeIo(env);
    const code = await runCli([...args, "--server", server.url], f.io);
    return { code, out: f.out(), err: f.err() };
  };
}

test("an admin lists accounts by name, promotes, demotes, revokes a device and removes an account; a member may not", async () => {
  const ada = person("ada");
  const bob = person("bob");
  expect((await ada("register", "--username", "ada", "--invite", await mintInvite(server.url))).code).toBe(0);
  expect((await ada("profile", "set", "Ada Admin")).code).toBe(0);
  const registered = await bob("register", "--username", "bob", "--invite", await mintInvite(server.url), "--json");
  expect(registered.code).toBe(0);
  // A server-side invite leaves bob pending: no key, so no name, until an admin admits him.
  const bobJoined = JSON.parse(registered.out) as { user_id: string; standing: string; name: string | null };
  expect(bobJoined).toMatchObject({ standing: "pending", name: null });
  expect(await ada("admit", bobJoined.user_id.slice(0, 8))).toMatchObject({
    code: 0,
    out: expect.stringMatching(/^admitted user-[0-9a-f]{8} \([0-9a-f]{8}\) as member/),
  });
  // Ada's client shares the directory key with bob's device as it runs; then bob names himself.
  expect((await bob("profile", "set", "Bob Member", "--wait", "30")).code).toBe(0);

  const listed = await ada("admin", "users");
  expect(listed.code).toBe(0);
  expect(listed.out).toMatch(/^Ada Admin +[0-9a-f]{8} +1 device +since \d{4}-\d\d-\d\d {2}admin$/m);
  expect(listed.out).toMatch(/^Bob Member +[0-9a-f]{8} +1 device +since \d{4}-\d\d-\d\d$/m);
  const json = JSON.parse((await ada("admin", "users", "--json")).out) as {
    users: Array<{ user_id: string; name: string; is_admin: boolean; devices: Array<{ device_id: string }> }>;
  };
  const bobRow = json.users.find((u) => u.name === "Bob Member")!;
  expect(bobRow.is_admin).toBe(false);

  // A member is told it is admin only.
  const refused = await bob("admin", "users");
  expect(refused.code).toBe(2);
  expect(refused.err).toMatch(/admin/i);

  expect(await ada("admin", "promote", "bob member")).toMatchObject({
    code: 0,
    out: `Bob Member (${bobRow.user_id.replaceAll("-", "").slice(0, 8)}) is now an admin\n`,
  });
  expect((await bob("admin", "users")).code).toBe(0); // an admin now
  expect((await ada("admin", "demote", bobRow.user_id.slice(0, 8))).out).toMatch(/is no longer an admin/);
  expect((await bob("admin", "users")).code).toBe(2);

  // Removal needs --yes and names whom it would remove.
  const unsure = await ada("admin", "remove", "Bob Member");
  expect(unsure.code).toBe(1);
  expect(unsure.err).toMatch(/this removes Bob Member \([0-9a-f]{8}\) for good: run it again with --yes/);
  expect((await ada("admin", "users", "--json")).out).toContain(bobRow.user_id);

  // Revoke bob's device by id prefix, then remove the account.
  expect(await ada("admin", "revoke", "ffffffffff")).toMatchObject({
    code: 1,
    err: 'dialtone: no device with an id starting "ffffffffff"\n',
  });
  const device = bobRow.devices[0]!.device_id;
  expect((await ada("admin", "revoke", device.slice(0, 8))).out).toMatch(/^revoked Bob Member's device [0-9a-f]{8}\n$/);
  expect((await ada("admin", "remove", "bob member", "--yes")).out).toMatch(/^removed Bob Member/);
  const after = JSON.parse((await ada("admin", "users", "--json")).out) as { users: Array<{ user_id: string }> };
  expect(after.users.map((u) => u.user_id)).not.toContain(bobRow.user_id);
  const withRemoved = await ada("admin", "users", "--removed");
  expect(withRemoved.out).toMatch(/removed \d{4}-\d\d-\d\d/);
}, 180_000);
