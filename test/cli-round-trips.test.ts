// Issue 14: what one CLI command asks of the server, counted in the real server's RPC log. A
// command on an account already set up reads what its checks need once (no list fetched twice,
// nothing written again that is already published); a statement the server lost is published
// again by the next command.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { and, eq } from "drizzle-orm";
import { runCli } from "../client/cli/run.js";
import { keyStatements } from "../server/db/schema.js";
import { fakeIo } from "./support/cli-io.js";
import { Harness, PASSPHRASE, type TestInstall } from "./support/client-harness.js";

let h: Harness;
let admin: TestInstall;
let alice: TestInstall;

beforeAll(async () => {
  h = await Harness.start();
  admin = await h.register("admin");
  alice = await h.register("alice");
  await admin.client.setProfileName("Admin"); // the admin's client makes the directory key
  await admin.client.createChannel("trips");
  await alice.client.reconcile();
  await admin.client.reconcile();
}, 240_000);
afterAll(() => h?.close());

/** Runs one command in-process and returns the RPC methods the server logged meanwhile, in order. */
async function rpcsOf(install: TestInstall, args: readonly string[]): Promise<string[]> {
  const from = h.server.logs.length;
  const f = fakeIo({ DIALTONE_CONFIG_DIR: install.configDir, DIALTONE_PASSPHRASE: PASSPHRASE });
  const code = await runCli([...args, "--server", h.url, "--json"], f.io);
  expect({ code, err: f.err() }).toEqual({ code: 0, err: "" });
  return h.server.logs
    .slice(from)
    .map((l) => JSON.parse(l) as { msg: string; method?: string })
    .filter((r) => r.msg === "rpc" && r.method)
    .map((r) => r.method!.split("/")[1]!);
}

const WRITES = /^(Put|Publish|Certify|Admit|Acknowledge|Create|Rename|Delete|Revoke|Set)/;

/** No method asked twice in one command. */
function repeated(methods: readonly string[]): string[] {
  return methods.filter((m, i) => methods.indexOf(m) !== i);
}

// Channels, profiles, identities, devices, envelopes, missing envelopes, the session, and an
// admin's directory statements: 12 calls for an admin before issue 14, 11 for a member.
test.each([
  ["an admin", () => admin, 8],
  ["a member", () => alice, 7],
])(
  "whoami of %s already set up: each read once, nothing written",
  async (_who, install, most) => {
    for (let run = 0; run < 2; run++) {
      const methods = await rpcsOf(install(), ["whoami"]);
      expect(repeated(methods)).toEqual([]);
      expect(methods.filter((m) => WRITES.test(m))).toEqual([]);
      expect(methods.length).toBeLessThanOrEqual(most);
    }
  },
  60_000,
);

test("send: the same reads and one SendMessage", async () => {
  for (const install of [admin, alice]) {
    const methods = await rpcsOf(install, ["send", "trips", `counted from ${install.username}`]);
    expect(repeated(methods)).toEqual([]);
    expect(methods.filter((m) => WRITES.test(m))).toEqual([]);
    expect(methods.filter((m) => m === "SendMessage")).toHaveLength(1);
    expect(methods.length).toBeLessThanOrEqual(8);
  }
}, 60_000);

test("a directory statement the server lost is published again by the admin's next command, once", async () => {
  const db = h.server.database.db;
  const mine = and(eq(keyStatements.kind, 2), eq(keyStatements.signerUserId, admin.client.session.userId));
  expect(await db.select().from(keyStatements).where(mine)).toHaveLength(1);
  await db.delete(keyStatements).where(mine);

  const first = await rpcsOf(admin, ["whoami"]);
  expect(first.filter((m) => m === "PutKeyStatements")).toHaveLength(1);
  const [row] = await db.select().from(keyStatements).where(mine);
  expect(row?.epoch).toBe(1);

  const second = await rpcsOf(admin, ["whoami"]);
  expect(second.filter((m) => WRITES.test(m))).toEqual([]);
  expect(await db.select().from(keyStatements).where(mine)).toHaveLength(1);
}, 60_000);
