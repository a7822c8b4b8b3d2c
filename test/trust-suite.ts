// Signed identities against the adversary they exist for (issue: a malicious server can no
// longer plant a device or a member, or hide one). Real server, real clients in their own config
// dirs; the attacker holds the database, lies through the API, or is a member. Runs on both
// databases (trust.pglite.test.ts, trust.postgres.test.ts).
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { sql } from "drizzle-orm";
import { afterEach, expect, jest, test } from "@jest/globals";
import { join } from "node:path";
import { runCli } from "../client/cli/run.js";
import {
  ApiError,
  KeyError,
  SessionError,
  UsageError,
  createApi,
  openMessage,
  recover,
  type Api,
  type ClientEvents,
  type DialtoneClient,
} from "../client/core/index.js";
import {
  encodeBase64,
  formatInviteCode,
  generateRecoveryCode,
  generateSymmetricKey,
  deviceFingerprint,
  generateX25519KeyPair,
  keyHash,
  openEnvelope,
  openText,
  publicKeyFromBase64,
  signStatement,
} from "../client/crypto/index.js";
import { KeyKind } from "../gen/dialtone/v1/envelope_pb.js";
import { ensurePrivateDir, keystorePaths, nodeScrypt, writeFileAtomic } from "../client/keystore/index.js";
import { openKeystore, sealKeystore, utf8Decode, utf8Encode } from "../client/crypto/index.js";
import type { Database } from "../server/db/client.js";
import { devices as devicesTable, sessions as sessionsTable } from "../server/db/schema.js";
import { fakeIo } from "./support/cli-io.js";
import { Harness, PASSPHRASE, PASSWORD, eventually, type TestInstall } from "./support/client-harness.js";
import type { DbKind } from "./support/databases.js";

jest.setTimeout(120_000);

/** Records one kind of client event, for "the tail showed it" assertions. */
function record<K extends keyof ClientEvents>(client: DialtoneClient, name: K): ClientEvents[K][] {
  const seen: ClientEvents[K][] = [];
  client.on(name, (v) => seen.push(v));
  return seen;
}

/** A device (and a session for it) written straight into the database, as an operator could. */
async function plantGhost(h: Harness, userId: string) {
  const key = await generateX25519KeyPair();
  const deviceId = randomUUID();
  const token = randomBytes(32).toString("base64url");
  await h.restart(0, async (db) => {
    await db.db.insert(devicesTable).values({ id: deviceId, userId, publicKey: encodeBase64(key.publicKey) });
    await db.db.insert(sessionsTable).values({
      tokenHash: createHash("sha256").update(token, "utf8").digest("hex"),
      userId,
      deviceId,
      expiresAt: new Date(Date.now() + 86_400_000),
    });
  });
  return { deviceId, key, api: createApi({ baseUrl: h.url, token: () => token }) };
}

/** Every envelope addressed to the ghost, tried against every device key listed: none may open. */
async function envelopesOpenToGhost(ghost: Awaited<ReturnType<typeof plantGhost>>): Promise<number> {
  const { envelopes } = await ghost.api.envelope.listEnvelopes({});
  const { devices } = await ghost.api.device.listDevices({ includeRevoked: true });
  let opened = 0;
  for (const env of envelopes) {
    for (const d of devices) {
      try {
        await openEnvelope({
          recipientPrivateKey: ghost.key.privateKey,
          senderPublicKey: publicKeyFromBase64(d.publicKey),
          context:
            env.kind === KeyKind.CHANNEL
              ? {
                  kind: "channel",
                  channelId: env.scopeId,
                  epoch: env.epoch,
                  senderDeviceId: env.senderDeviceId,
                  recipientDeviceId: ghost.deviceId,
                }
              : { kind: "directory", epoch: env.epoch, senderDeviceId: env.senderDeviceId, recipientDeviceId: ghost.deviceId },
          envelope: env.ciphertext,
        });
        opened++;
      } catch {
        // refused: what we want
      }
    }
  }
  return opened;
}

/** The CLI of an install, in-process (its config dir and passphrase). */
async function cli(h: Harness, who: TestInstall, ...args: string[]) {
  return cliWith(h, who, {}, ...args);
}

async function cliWith(h: Harness, who: TestInstall, env: Record<string, string>, ...args: string[]) {
  const f = fakeIo({ DIALTONE_CONFIG_DIR: who.configDir, DIALTONE_PASSPHRASE: PASSPHRASE, DIALTONE_PASSWORD: PASSWORD, ...env });
  const code = await runCli([...args, "--server", h.url], f.io);
  return { code, out: f.out(), err: f.err() };
}

/** Every message of a channel as this client's keys open it, oldest first (fetched now, no cache). */
/** Runs `dialtone tail` for an install until its output matches `pattern`; returns what it printed. */
async function tailUntil(h: Harness, who: TestInstall, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const stop = new AbortController();
  const f = fakeIo({ DIALTONE_CONFIG_DIR: who.configDir, DIALTONE_PASSPHRASE: PASSPHRASE }, stop.signal);
  const running = runCli(["tail", "--server", h.url], f.io);
  try {
    await eventually(() => pattern.test(f.out()) || undefined, timeoutMs, `tail printing ${pattern}`);
  } finally {
    stop.abort();
    await running;
  }
  return f.out();
}

async function readAll(client: DialtoneClient, channelId: string): Promise<string[]> {
  await client.reconcile();
  const { messages } = await client.api.message.listMessages({ channelId, limit: 200 });
  const out: string[] = [];
  for (const m of [...messages].reverse()) {
    const opened = await openMessage(m, client.keys.channelKeyAt(channelId, m.keyEpoch), undefined);
    out.push(opened.body ?? `<${opened.error ?? "unopened"}>`);
  }
  return out;
}

const FIXTURE = new URL("./fixtures/upgrade-v1/", import.meta.url);
interface Fixture {
  readonly origin: string;
  readonly channel: string;
  readonly users: Record<"ada" | "alice" | "bob", string>;
  /** Every table's rows, in the order the fixture wrote them: foreign keys point backwards. */
  readonly tables: Record<string, Record<string, unknown>[]>;
}

function decodeValue(v: unknown): unknown {
  if (v && typeof v === "object" && "$bytes" in v) return Buffer.from(String((v as { $bytes: string }).$bytes), "base64");
  if (v && typeof v === "object" && "$date" in v) return new Date(String((v as { $date: string }).$date));
  if (v && typeof v === "object" && "$bigint" in v) return String((v as { $bigint: string }).$bigint);
  return v;
}

/** Replaces every row of the database with the fixture's (the release before signed identities). */
async function loadFixture(db: Database, f: Fixture): Promise<void> {
  const tables = Object.keys(f.tables);
  for (const t of [...tables].reverse()) await db.db.execute(sql.raw(`DELETE FROM ${t}`));
  for (const t of tables) {
    for (const row of f.tables[t]!) {
      const cols = Object.keys(row);
      const values = cols.map((c) => sql`${decodeValue(row[c])}`);
      await db.db.execute(sql`INSERT INTO ${sql.raw(t)} (${sql.raw(cols.join(", "))}) VALUES (${sql.join(values, sql`, `)})`);
    }
  }
  // The fixture was written long ago: its sessions would have expired by now.
  await db.db.execute(sql`UPDATE sessions SET expires_at = now() + interval '30 days'`);
}

/** A fixture keystore re-sealed for the origin this test's server runs at (as if the server moved). */
async function installFixtureKeystore(f: Fixture, name: string, origin: string): Promise<string> {
  const from = keystorePaths(new URL(`keystores/${name}/`, FIXTURE).pathname, f.origin).file;
  const opened = await openKeystore(await readFile(from, "utf8"), PASSPHRASE, f.origin, nodeScrypt);
  const doc = JSON.parse(utf8Decode(opened.plaintext)) as { version: number; session: { expiresAt: string } | null };
  expect(doc.version).toBe(1); // written by the release before signed identities
  if (doc.session) doc.session.expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const dir = await mkdtemp(join(tmpdir(), `dialtone-upgrade-${name}-`));
  const to = keystorePaths(dir, origin);
  await ensurePrivateDir(dir, to.dir);
  await writeFileAtomic(to.originFile, `${origin}\n`);
  await writeFileAtomic(to.file, `${await sealKeystore(opened.fileKey, origin, utf8Encode(JSON.stringify(doc)))}\n`);
  return dir;
}

export function trustSuite(kind: DbKind) {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** An admin (the root), alice and bob (admitted through invites the admin's client minted), #general. */
  async function community() {
    h = await Harness.start(kind);
    const admin = await h.register("admin");
    const alice = await h.register("alice");
    const bob = await h.register("bob");
    const general = await admin.client.createChannel("general");
    await Promise.all([alice.client.reconcile(), bob.client.reconcile()]);
    return { h, admin, alice, bob, general };
  }

  test("ghost device: a device planted in the database receives nothing, and alice's devices and tail show it unverified", async () => {
    const { h, admin, alice, bob, general } = await community();
    const aliceTrust = record(alice.client, "trust");
    admin.client.start();
    alice.client.start();
    await Promise.all([admin.client.waitOnline(), alice.client.waitOnline()]);
    const ghost = await plantGhost(h, bob.client.me.userId);
    await Promise.all([admin.client.waitOnline(20_000), alice.client.waitOnline(20_000)]);
    // The tails keep chatting; every reconcile sees the ghost listed as lacking keys.
    await alice.client.send(general.id, "after the ghost", 10_000);
    await admin.client.send(general.id, "still here", 10_000);
    await Promise.all([alice.client.reconcile(), admin.client.reconcile()]);
    expect(await readAll(bob.client, general.id)).toEqual(["after the ghost", "still here"]);

    const { missing } = await ghost.api.envelope.listMissingEnvelopes({});
    expect(missing.some((m) => m.deviceId === ghost.deviceId)).toBe(true); // the server asks for keys for it...
    expect(await envelopesOpenToGhost(ghost)).toBe(0); // ...and no client gave it one
    expect((await ghost.api.envelope.listEnvelopes({})).envelopes).toHaveLength(0);

    // alice's tail (another process of her install) says so too.
    const fp = await deviceFingerprint(ghost.key.publicKey);
    await tailUntil(h, alice, new RegExp(`unverified device of \\S+: ${fp}.*gets no keys`));
    const listed = (await alice.client.devices()).find((d) => d.deviceId === ghost.deviceId);
    expect(listed?.trust).toBe("unverified");
    const shown = await cli(h, alice, "devices");
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(new RegExp(`^\\S+ ${ghost.deviceId.replaceAll("-", "").slice(0, 8)} .*UNVERIFIED`, "m"));
    await eventually(() => aliceTrust.find((t) => t.event.type === "device-unverified" && t.event.deviceId === ghost.deviceId));
  });

  test("hidden device: a server that leaves a device out of ListDevices but lists it as lacking keys gets nothing for it; the safety number does not move", async () => {
    const { h, alice, bob, general } = await community();
    const before = await alice.client.safetyNumber(bob.client.me.userId);
    expect(before.basis).toBe("identity");
    const ghost = await plantGhost(h, bob.client.me.userId);
    // alice's client reaches the server through an API that hides the ghost from the device list.
    const lying: Api = {
      ...alice.client.api,
      device: new Proxy(alice.client.api.device, {
        get(target, prop, receiver) {
          if (prop !== "listDevices") return Reflect.get(target, prop, receiver);
          return async (...args: Parameters<typeof target.listDevices>) => {
            const res = await target.listDevices(...args);
            return { ...res, devices: res.devices.filter((d) => d.deviceId !== ghost.deviceId) };
          };
        },
      }),
    };
    const { DialtoneClient } = await import("../client/core/index.js");
    const viaProxy = await DialtoneClient.fromStore(alice.client.store, lying);
    const withheld = record(viaProxy, "keys-withheld");
    try {
      await viaProxy.reconcile();
      await viaProxy.send(general.id, "through the liar", 5_000);
      expect(withheld.some((w) => w.deviceId === ghost.deviceId && /hidden/.test(w.reason))).toBe(true);
      expect(await envelopesOpenToGhost(ghost)).toBe(0);
      const after = await viaProxy.safetyNumber(bob.client.me.userId);
      expect(after.digits).toBe(before.digits);
    } finally {
      await viaProxy.close();
    }
  });

  test("ghost member: a server-side invite makes a pending account with no key until an admin admits it; then it reads history", async () => {
    const { h, admin, general } = await community();
    await admin.client.send(general.id, "before carol", 5_000);
    const carol = await h.register("carol", { serverInvite: true });
    await carol.client.reconcile();
    await expect(carol.client.requireChannelKey(general.id, 1_000)).rejects.toBeInstanceOf(KeyError);
    const seen = (await admin.client.devices()).find((d) => d.userId === carol.client.me.userId);
    expect(seen?.standing).toBe("pending");

    await admin.client.admit(carol.client.me.userId);
    await eventually(async () => {
      await carol.client.reconcile();
      return carol.client.keys.channelKey(general.id);
    });
    expect(await readAll(carol.client, general.id)).toEqual(["before carol"]);
  });

  test("a member invited by the admin's client is admitted automatically; an invite naming another root registers nothing", async () => {
    const { h, admin, general } = await community();
    const dave = await h.register("dave"); // the harness mints through the admin's client, which then runs
    const standing = (await admin.client.devices()).find((d) => d.userId === dave.client.me.userId)?.standing;
    expect(standing).toBe("admitted");
    await eventually(async () => {
      await dave.client.reconcile();
      return dave.client.keys.channelKey(general.id);
    });

    const { token } = await admin.client.createInvite();
    const serverToken = token.split(".")[0]!;
    const forged = formatInviteCode({ serverToken, admissionSecret: generateSymmetricKey(), rootFingerprint: generateSymmetricKey() });
    const before = (await admin.client.api.admin.listUsers({})).users.length;
    const { register } = await import("../client/core/index.js");
    const dir = join(admin.configDir, "..", `elsewhere-${randomUUID()}`);
    await expect(
      register({ server: h.url, configDir: dir, passphrase: PASSPHRASE }, { username: "erin", password: PASSWORD, invite: forged }),
    ).rejects.toBeInstanceOf(SessionError);
    expect((await admin.client.api.admin.listUsers({})).users.length).toBe(before);
  });

  test("new device: nothing until approved from the first; then all history. Recovery: password + code on a fresh dir restore everything; a wrong code is refused clearly", async () => {
    const { h, admin, alice, general } = await community();
    const code = alice.client.identityStatus;
    expect(code?.state).toBe("ready");
    const recoveryCode = code?.state === "ready" ? code.recoveryCode : undefined;
    expect(recoveryCode).toMatch(/^([0-9A-Z]{4}-){7}[0-9A-Z]{4}$/);
    await admin.client.send(general.id, "one", 5_000);
    await alice.client.send(general.id, "two", 5_000);

    const second = await h.newDevice("alice", { approve: false });
    await second.client.reconcile();
    expect(second.client.identityStatus?.state).toBe("awaiting-approval");
    await admin.client.reconcile(); // other members' clients run: still nothing for an unverified device
    await expect(second.client.requireChannelKey(general.id, 500)).rejects.toBeInstanceOf(KeyError);

    const { deviceFingerprint } = await import("../client/crypto/index.js");
    await alice.client.approveDevice(await deviceFingerprint(second.client.store.keystore.devicePublicKey));
    await eventually(async () => {
      await second.client.reconcile();
      return second.client.keys.channelKey(general.id);
    });
    expect(await readAll(second.client, general.id)).toEqual(["one", "two"]);
    expect(second.client.store.keystore.identity).toBeDefined();

    // Every device of alice's gone: password and recovery code on a fresh config dir.
    await alice.client.close();
    await second.client.close();
    const fresh = join(alice.configDir, "..", `recovered-${randomUUID()}`);
    await expect(
      recover(
        { server: h.url, configDir: fresh, passphrase: PASSPHRASE },
        { username: "alice", password: PASSWORD, recoveryCode: generateRecoveryCode().code },
      ),
    ).rejects.toThrow(/recovery code does not open/);
    const restored = await recover(
      { server: h.url, configDir: fresh, passphrase: PASSPHRASE },
      { username: "alice", password: PASSWORD, recoveryCode: recoveryCode!.toLowerCase().replaceAll("-", " ") },
    );
    expect(restored.channelKeys).toBeGreaterThanOrEqual(1);
    const { DialtoneClient } = await import("../client/core/index.js");
    const back = await DialtoneClient.fromStore(restored.store);
    try {
      expect(await readAll(back, general.id)).toEqual(["one", "two"]);
      const me = await back.whoami();
      expect(me.certified).toBe(true);
      expect(me.standing).toBe("admitted");
    } finally {
      await back.close();
    }
  });

  test("a device waiting for approval recovers in place with the recovery code (dialtone recover); a wrong code changes nothing", async () => {
    const { h, admin, alice, general } = await community();
    const status = alice.client.identityStatus;
    const code = status?.state === "ready" ? status.recoveryCode! : "";
    await admin.client.send(general.id, "for alice's new laptop", 5_000);
    const laptop = await h.newDevice("alice", { approve: false });
    await laptop.client.close();
    const wrong = await cliWith(h, laptop, { DIALTONE_RECOVERY_CODE: generateRecoveryCode().code }, "recover");
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toMatch(/recovery code does not open/);
    expect((await cli(h, laptop, "whoami")).out).toMatch(/WAITS FOR APPROVAL/);
    const ok = await cliWith(h, laptop, { DIALTONE_RECOVERY_CODE: code }, "recover");
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/recovered your identity on this device/);
    const history = await cli(h, laptop, "history", "general");
    expect(history.out).toMatch(/for alice's new laptop/);
    expect((await cli(h, laptop, "whoami")).out).toMatch(/admitted as member/);
  });

  test("removal: a new key epoch for every channel; the removed member's keys open nothing sent afterwards; the others read everything", async () => {
    const { h, admin, alice, bob, general } = await community();
    const random = await admin.client.createChannel("random");
    await Promise.all([alice.client.reconcile(), bob.client.reconcile()]);
    await alice.client.send(general.id, "before", 5_000);
    expect(await readAll(bob.client, general.id)).toEqual(["before"]);
    const bobKeys = bob.client.store.keystore;

    const { rotated } = await admin.client.removeUser(bob.client.me.userId);
    expect(rotated).toBe(2);
    const channels = await admin.client.refreshChannels();
    for (const c of channels) expect(c.row.keyEpoch).toBe(2);
    await alice.client.refreshChannels();
    await alice.client.send(general.id, "after", 10_000);
    await alice.client.send(random.id, "after too", 10_000);

    const rows = (await admin.client.api.message.listMessages({ channelId: general.id, limit: 10 })).messages;
    const after = rows.find((m) => m.keyEpoch === 2);
    expect(after).toBeDefined();
    expect(bobKeys.channelKey(general.id, 2)).toBeUndefined();
    // Even tried as if it were the new epoch's key, bob's old key does not open the new body.
    const old = bobKeys.channelKey(general.id, 1)!;
    const ids = { channelId: general.id, messageId: after!.messageId, senderUserId: after!.senderUserId };
    await expect(openText({ epoch: 2, key: old }, { purpose: "msg-body", ...ids }, after!.encryptedBody)).rejects.toThrow();
    expect(await readAll(alice.client, general.id)).toEqual(["before", "after"]);
    expect(await readAll(admin.client, random.id)).toEqual(["after too"]);
    void h;
  });

  test("a directory key planted by a member is refused with a notice; two people with the same display name are told apart", async () => {
    const { admin, alice, bob } = await community();
    await alice.client.setProfileName("Alice Secretname", 5_000);
    await bob.client.setProfileName("Alice Secretname", 5_000);
    await admin.client.directory.refresh();
    const labels = admin.client
      .users()
      .filter((u) => u.name === "Alice Secretname")
      .map((u) => u.label);
    expect(labels).toHaveLength(2);
    expect(new Set(labels).size).toBe(2);
    for (const l of labels) expect(l).toMatch(/^Alice Secretname#[0-9a-f]{4}$/);
    expect(admin.client.resolveUser(labels[0]!).label).toBe(labels[0]);
    // In the CLI too: two messages signed "Alice Secretname" show as two different people.
    const general = admin.client.channels()[0]!;
    await alice.client.send(general.id, "the real alice", 5_000);
    await bob.client.send(general.id, "the other one", 5_000);
    const printed = (await cli(h!, admin, "history", "general")).out;
    const real = /(Alice Secretname#[0-9a-f]{4}): the real alice/.exec(printed)?.[1];
    const other = /(Alice Secretname#[0-9a-f]{4}): the other one/.exec(printed)?.[1];
    expect(real).toBeDefined();
    expect(other).toBeDefined();
    expect(real).not.toBe(other);

    // bob (an admitted member, not an admin) hands alice a directory key for epoch 2, signed by himself.
    const planted = generateSymmetricKey();
    const identity = bob.client.store.keystore.identity!;
    const hash = await keyHash(planted);
    await bob.client.api.identity.putKeyStatements({
      statements: [
        {
          kind: KeyKind.DIRECTORY,
          scopeId: "directory",
          epoch: 2,
          keyHash: encodeBase64(hash),
          signature: await signStatement(identity.privateKey, { kind: "directory-key", epoch: 2, keyHash: hash }),
        },
      ],
    });
    const aliceDevice = alice.client.me.deviceId;
    await bob.client.devices(); // bob's client has seen alice's device
    await bob.client.keys.putEnvelopes([await bob.client.keys.sealFor({ kind: "directory" }, 2, planted, aliceDevice)]);
    const rejected = record(alice.client, "key-rejected");
    await alice.client.reconcile();
    expect(alice.client.keys.directoryKeyAt(2)).toBeUndefined();
    expect(rejected.some((r) => r.epoch === 2 && /not signed by an admin/.test(r.reason))).toBe(true);
  });

  test("the CLI: whoami shows the identity and standing; admit admits and prints the safety number verify shows", async () => {
    const { h, admin } = await community();
    const carol = await h.register("carol", { serverInvite: true });
    const who = await cli(h, carol, "whoami");
    expect(who.code).toBe(0);
    expect(who.out).toMatch(/NOT ADMITTED yet/);
    const ask = await cli(h, admin, "admit", "carol-unknown");
    expect(ask.code).not.toBe(0);
    const carolId = carol.client.me.userId.replaceAll("-", "").slice(0, 8);
    const verify = await cli(h, admin, "verify", carolId, "--json");
    const admitted = await cli(h, admin, "admit", carolId, "--json");
    expect(admitted.code).toBe(0);
    expect(JSON.parse(admitted.out)).toMatchObject({ admitted: true, role: "member", safety_number: JSON.parse(verify.out).safety_number });
    expect((await cli(h, admin, "admit", carolId)).out).toMatch(/admitted .* as member/);
    expect((await cli(h, carol, "whoami")).out).toMatch(/admitted as member/);
    void ApiError;
    void UsageError;
  });

  test("upgrade: a database and keystores from the release before signed identities lock nobody out", async () => {
    const f = JSON.parse(await readFile(new URL("database.json", FIXTURE), "utf8")) as Fixture;
    h = await Harness.start(kind);
    const harness = h;
    await harness.restart(0, (db) => loadFixture(db, f));
    const origin = new URL(harness.url).origin;
    const { DialtoneClient } = await import("../client/core/index.js");
    const open = async (name: string) =>
      DialtoneClient.open({ server: harness.url, configDir: await installFixtureKeystore(f, name, origin), passphrase: PASSPHRASE });
    const ada = await open("ada");
    const alice = await open("alice");
    const bob = await open("bob");
    try {
      // Each client runs once in turn, as people start the new version one after another.
      for (const c of [ada, alice, bob, ada, alice, bob]) await c.reconcile();
      expect(ada.identityStatus).toMatchObject({ state: "ready", created: true });
      const t = await ada.trustSnapshot();
      expect(t.root?.userId).toBe(f.users.ada);
      expect(t.members.get(f.users.alice)?.role).toBe("member");
      expect(t.members.get(f.users.bob)?.role).toBe("member");
      expect(t.members.get(f.users.ada)?.role).toBe("admin");
      for (const c of [ada, alice, bob]) {
        expect(await readAll(c, f.channel)).toEqual(["welcome, everyone", "hello from before the upgrade", "me too"]);
      }
      // And keys keep flowing under the new rules: a new channel reaches both members.
      const after = await ada.createChannel("after");
      await alice.send(f.channel, "after the upgrade", 10_000);
      for (const c of [alice, bob]) {
        await eventually(async () => {
          await c.reconcile();
          return c.keys.channelKey(after.id);
        });
        expect((await readAll(c, f.channel)).at(-1)).toBe("after the upgrade");
      }
    } finally {
      for (const c of [ada, alice, bob]) await c.close();
    }
  });
}
