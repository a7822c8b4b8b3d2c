// Acceptance of the headless client with real processes: `dialtone-server` on an embedded
// database, and `dialtone` CLI processes for an admin, alice (three installs) and bob, each
// with its own config dir. Every name and text below carries a random marker, and at the end
// the server's database and logs are searched for them.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { KeyKind } from "../gen/dialtone/v1/envelope_pb.js";
import { createApi } from "../client/core/index.js";
import { generateSymmetricKey, publicKeyFromBase64, sealEnvelope } from "../client/crypto/index.js";
import { Keystore } from "../client/keystore/index.js";
import { openDatabase } from "../server/db/client.js";
import { dumpAllTables } from "./support/assertions.js";
import { dialtone, follow, jsonLines, killClients, type FollowProcess } from "./support/cli.js";
import { freePort } from "./support/ports.js";
import { cleanEnv, startServerProcess, tempDir, type Env, type ServerProcess } from "./support/process.js";

const PASSWORD = "correct horse battery staple";
const PASSPHRASE = "keystore passphrase 42";
const M = randomBytes(6).toString("hex"); // marker shared by every secret string of this run

const names = {
  admin: `admin${M}`,
  alice: `alice${M}`,
  bob: `bob${M}`,
  bobby: `bobby${M}`,
  roomA: `room${M}a`,
  roomB: `room${M}b`,
};
const texts: string[] = [];
const text = (label: string) => {
  const t = `msg${M}-${label}-${texts.length}`;
  texts.push(t);
  return t;
};

let root: { dir: string; remove: () => void };
let port: number;
let dataDir: string;
let server: ServerProcess;
const serverLogs: string[] = [];
let url: string;
let tail: FollowProcess | undefined;
const ids = { roomA: "", roomB: "", adminDevice: "", alice3Device: "" };

const envFor = (who: string): Env =>
  cleanEnv({ DIALTONE_CONFIG_DIR: join(root.dir, who), DIALTONE_PASSWORD: PASSWORD, DIALTONE_PASSPHRASE: PASSPHRASE });

async function ok(who: string, args: string[], input?: string): Promise<string> {
  const r = await dialtone(args, envFor(who), input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`dialtone ${args.join(" ")} (as ${who}) exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const okJson = async (who: string, args: string[]) => JSON.parse(await ok(who, [...args, "--json"])) as Record<string, unknown>;

async function startServer(): Promise<void> {
  server = await startServerProcess(
    cleanEnv({ DIALTONE_DATA_DIR: dataDir, DIALTONE_LISTEN_ADDR: `127.0.0.1:${port}`, DIALTONE_LOG_LEVEL: "debug" }),
    120_000,
  );
  url = server.url;
}

async function stopServer(): Promise<void> {
  await server.stop();
  serverLogs.push(server.stdout(), server.stderr());
}

beforeAll(async () => {
  root = tempDir("dialtone-e2e-");
  dataDir = join(root.dir, "server-data");
  port = await freePort();
  await startServer();
}, 180_000);

afterAll(async () => {
  await tail?.stop();
  killClients();
  await server?.stop();
  root?.remove();
});

describe("dialtone CLI against a real server", () => {
  const history = async (who: string, channel: string, extra: string[] = []) =>
    jsonLines(await ok(who, ["history", channel, "--json", ...extra]));

  test("the admin registers with the printed invite, creates a channel and mints invites", async () => {
    const invite = /invite:\s+(\S+)/.exec(server.stdout())?.[1];
    expect(invite).toBeDefined();
    const me = await okJson("admin", ["register", "--server", url, "--username", names.admin, "--invite", invite!]);
    expect(me).toMatchObject({ is_admin: true, name: names.admin, server: url });
    ids.adminDevice = me["device_id"] as string;
    // servers.json remembers the server: --server is optional from now on.
    const created = await okJson("admin", ["channel", "create", names.roomA]);
    expect(created).toMatchObject({ name: names.roomA, key_epoch: 1, has_key: true });
    ids.roomA = created["channel_id"] as string;
    tail = follow(["tail", "--json"], envFor("admin"));
    await tail.waitFor((l) => l["type"] === "connection" && l["state"] === "online");
  }, 90_000);

  test("alice and bob register; all three send and read each other's messages", async () => {
    const [inviteA, inviteB] = await Promise.all([okJson("admin", ["invite"]), okJson("admin", ["invite", "--uses", "1", "--hours", "2"])]);
    expect(inviteA["token"]).toEqual(expect.any(String));
    expect(inviteB["max_uses"]).toBe(1);
    const [alice, bob] = await Promise.all([
      okJson("alice", ["register", "--server", url, "--username", names.alice, "--invite", inviteA["token"] as string, "--wait", "30"]),
      okJson("bob", ["register", "--server", url, "--username", names.bob, "--invite", inviteB["token"] as string, "--wait", "30"]),
    ]);
    // The admin's running tail admitted both (they hold its invites' secrets) and shared the
    // directory key with them, so they published their names.
    expect(alice).toMatchObject({ is_admin: false, name: names.alice, standing: "admitted", role: "member" });
    expect(bob).toMatchObject({ is_admin: false, name: names.bob, standing: "admitted", role: "member" });

    const sent = [text("admin"), text("alice"), text("bob")];
    await ok("admin", ["send", `#${names.roomA.toUpperCase()}`, sent[0]!]); // names resolve case-insensitively
    await ok("alice", ["send", names.roomA, sent[1]!]);
    await ok("bob", ["send", ids.roomA.slice(0, 8), "-"], `${sent[2]}\n`); // id prefix, body from stdin

    const histories = await Promise.all(["admin", "alice", "bob"].map((who) => history(who, names.roomA)));
    for (const lines of histories) {
      expect(lines.map((l) => [l["sender"], l["body"], l["channel"]])).toEqual([
        [names.admin, sent[0], names.roomA],
        [names.alice, sent[1], names.roomA],
        [names.bob, sent[2], names.roomA],
      ]);
      expect(lines.every((l) => l["sender_mismatch"] === false && l["channel_id"] === ids.roomA)).toBe(true);
    }
    // The admin's tail saw the three as they came.
    for (const t of sent) await tail!.waitFor((l) => l["type"] === "message" && l["body"] === t);
    const human = await ok("bob", ["history", names.roomA, "--limit", "2"]);
    expect(human.trim().split("\n")).toEqual([
      expect.stringMatching(new RegExp(`^\\[\\d\\d:\\d\\d\\] #${names.roomA} ${names.alice}: ${sent[1]}$`)),
      expect.stringMatching(new RegExp(`^\\[\\d\\d:\\d\\d\\] #${names.roomA} ${names.bob}: ${sent[2]}$`)),
    ]);
  }, 180_000);

  let safety1 = "";
  test("verify prints the same 60 digits on both sides", async () => {
    const [a, b] = await Promise.all([okJson("alice", ["verify", names.bob]), okJson("bob", ["verify", names.alice])]);
    expect(a["safety_number"]).toMatch(/^\d{60}$/);
    expect(b["safety_number"]).toBe(a["safety_number"]);
    safety1 = a["safety_number"] as string;
    const human = await ok("alice", ["verify", names.bob]);
    expect(human.replace(/\s/g, "")).toContain(safety1);
  }, 90_000);

  test("alice's second device gets nothing until her first approves it, then reads the history; the safety number does not change", async () => {
    const from = tail!.lines().length;
    const login = await okJson("alice2", ["login", "--server", url, "--username", names.alice]);
    expect(login).toMatchObject({
      device_created: true,
      user_id: expect.any(String),
      identity: "awaiting-approval",
      certified: false,
      fingerprint: expect.stringMatching(/^[0-9a-f]{4}( [0-9a-f]{4}){4}$/),
    });
    const fingerprint = login["fingerprint"] as string;
    const added = await tail!.waitFor((l) => l["type"] === "device_added" && l["device_id"] === login["device_id"], 60_000, from);
    expect(added).toMatchObject({ known_user: true, user: names.alice, fingerprint });
    // The admin's running tail withholds every key from it: its owner has not approved it.
    const withheld = await tail!.waitFor((l) => l["type"] === "keys_withheld" && l["device_id"] === login["device_id"], 60_000, from);
    expect(withheld).toMatchObject({ user: names.alice, reason: expect.stringMatching(/^unverified device/) });

    // It says so once (not at every retry of the wait), and has no key to read with.
    const waiting = await dialtone(["history", names.roomA, "--json", "--wait", "3"], envFor("alice2"));
    expect([waiting.code, waiting.stdout]).toEqual([3, ""]);
    expect(waiting.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        new RegExp(
          `^dialtone: this device \\(fingerprint ${fingerprint}\\) waits for approval: .*dialtone devices approve ${fingerprint.replaceAll(" ", "")}`,
        ),
      ),
      expect.stringMatching(/^dialtone: no readable channel named .*still encrypted for this device/),
    ]);
    expect(await okJson("alice2", ["whoami"])).toMatchObject({ identity: "awaiting-approval", certified: false, fingerprint });

    // Alice compares the fingerprint and approves it from her first device: her client shares the keys.
    const approved = await okJson("alice", ["devices", "approve", fingerprint.replaceAll(" ", "")]);
    expect(approved).toMatchObject({ device_id: login["device_id"], fingerprint, approved: true });
    await tail!.waitFor(
      (l) => l["type"] === "trust" && l["event"] === "device-certified" && l["device_id"] === login["device_id"],
      60_000,
      from,
    );
    const lines = await history("alice2", names.roomA, ["--wait", "30"]);
    expect(lines.map((l) => l["body"])).toEqual(texts.slice(0, 3));
    expect(await okJson("alice2", ["whoami"])).toMatchObject({
      identity: "ready",
      certified: true,
      standing: "admitted",
      name: names.alice,
    });

    // Safety numbers cover identity keys: a new device of alice's changes nothing, on any side.
    const [a, b, a2] = await Promise.all([
      okJson("alice", ["verify", names.bob]),
      okJson("bob", ["verify", names.alice]),
      okJson("alice2", ["verify", names.bob]),
    ]);
    for (const v of [a, b, a2]) expect(v).toMatchObject({ safety_number: safety1, devices: [] });
  }, 150_000);

  test("tail survives a server restart and shows each message exactly once", async () => {
    await stopServer();
    await tail!.waitFor((l) => l["type"] === "connection" && l["state"] === "offline", 60_000);
    await startServer();
    const later = [text("alice-after-restart"), text("bob-after-restart")];
    await ok("alice", ["send", names.roomA, later[0]!]);
    await ok("bob", ["send", names.roomA, later[1]!]);
    await ok("bob", ["profile", "set", names.bobby]);
    await tail!.waitFor((l) => l["type"] === "message" && l["body"] === later[1], 60_000);
    await tail!.waitFor((l) => l["type"] === "profile_updated" && l["name"] === names.bobby, 60_000);
    const messages = tail!.lines().filter((l) => l["type"] === "message");
    expect(messages.map((l) => l["body"])).toEqual(texts);
    expect(new Set(messages.map((l) => l["message_id"])).size).toBe(messages.length);
    const bobs = messages.filter((l) => l["body"] === later[1]);
    expect(bobs[0]).toMatchObject({ sender: names.bob }); // the profile changed after this message
    expect(await tail!.stop()).toBe(0);
    tail = undefined;
  }, 210_000);

  test("forged envelopes, envelopes moved to another channel and keys no member signed are rejected by the client", async () => {
    ids.roomB = (await okJson("admin", ["channel", "create", names.roomB]))["channel_id"] as string;
    const alice3 = await okJson("alice3", ["login", "--server", url, "--username", names.alice]);
    expect(alice3).toMatchObject({ identity: "awaiting-approval" });
    ids.alice3Device = alice3["device_id"] as string;

    // Bob, a member holding #roomA's key, writes envelopes for alice's new device by hand.
    const bobKs = await Keystore.open(join(root.dir, "bob"), url, PASSPHRASE);
    const bobApi = createApi({ baseUrl: url, token: () => bobKs.session?.token });
    const { devices } = await bobApi.device.listDevices({ userIds: [alice3["user_id"] as string] });
    const alice3Key = publicKeyFromBase64(devices.find((d) => d.deviceId === ids.alice3Device)!.publicKey);
    const seal = (channelId: string, senderDeviceId: string, key: Uint8Array) =>
      sealEnvelope({
        senderPrivateKey: bobKs.deviceKeyPair.privateKey,
        recipientPublicKey: alice3Key,
        context: { kind: "channel", channelId, epoch: 1, senderDeviceId, recipientDeviceId: ids.alice3Device },
        key,
      });
    const put = await bobApi.envelope.putEnvelopes({
      envelopes: [
        // Claims to come from the admin's device (its AAD says so), with a key of bob's choosing.
        {
          kind: KeyKind.CHANNEL,
          scopeId: ids.roomA,
          epoch: 1,
          recipientDeviceId: ids.alice3Device,
          ciphertext: await seal(ids.roomA, ids.adminDevice, generateSymmetricKey()),
        },
        // #roomA's real key, bound to #roomA, stored as #roomB's envelope.
        {
          kind: KeyKind.CHANNEL,
          scopeId: ids.roomB,
          epoch: 1,
          recipientDeviceId: ids.alice3Device,
          ciphertext: await seal(ids.roomA, bobKs.session!.deviceId, bobKs.latestChannelKey(ids.roomA)!.key),
        },
      ],
    });
    expect(put.stored).toBe(2);

    // The server recorded bob's device as the sender of both, whatever the envelopes claim.
    const alice3Ks = await Keystore.open(join(root.dir, "alice3"), url, PASSPHRASE);
    const mine = await createApi({ baseUrl: url, token: () => alice3Ks.session?.token }).envelope.listEnvelopes({});
    expect(mine.envelopes.map((e) => [e.scopeId, e.senderDeviceId, e.senderUserId])).toEqual(
      expect.arrayContaining([
        [ids.roomA, bobKs.session!.deviceId, bobKs.session!.userId],
        [ids.roomB, bobKs.session!.deviceId, bobKs.session!.userId],
      ]),
    );

    const history = (channelId: string, wait = "2") =>
      dialtone(["history", channelId.slice(0, 13), "--json", "--wait", wait], envFor("alice3"));
    const waits = /^dialtone: this device \(fingerprint [0-9a-f ]{24}\) waits for approval/;
    const bobDevice = bobKs.session!.deviceId;
    // Bob's device is a certified device of an admitted member, so its envelopes are opened: as
    // bob's, under the context alice3 expects, which neither forgery does.
    const first = await history(ids.roomA);
    expect([first.code, first.stdout]).toEqual([3, ""]);
    expect(first.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(waits),
      expect.stringMatching(
        new RegExp(
          `^dialtone: this device holds no key for .*rejected: the envelope from device ${bobDevice} does not open under its pinned key and the expected context \\(forged or moved\\)`,
        ),
      ),
    ]);
    // That run opened both envelopes, refused both, and had the server delete them.
    const alice3Api = createApi({ baseUrl: url, token: () => alice3Ks.session?.token });
    expect((await alice3Api.envelope.listEnvelopes({})).envelopes.map((e) => e.senderDeviceId)).not.toContain(bobDevice);
    const second = await history(ids.roomB);
    expect([second.code, second.stdout]).toEqual([3, ""]);
    expect(second.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(waits),
      expect.stringMatching(/^dialtone: this device holds no key for .* no member's client has shared it/),
    ]);

    // A key of bob's choosing, sealed for #roomB exactly as his client would: it opens, but no
    // admitted member signed a statement for it.
    const unsigned = await bobApi.envelope.putEnvelopes({
      envelopes: [
        {
          kind: KeyKind.CHANNEL,
          scopeId: ids.roomB,
          epoch: 1,
          recipientDeviceId: ids.alice3Device,
          ciphertext: await seal(ids.roomB, bobDevice, generateSymmetricKey()),
        },
      ],
    });
    expect(unsigned.stored).toBe(1);
    const third = await history(ids.roomB);
    expect([third.code, third.stdout]).toEqual([3, ""]);
    expect(third.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(waits),
      expect.stringMatching(
        new RegExp(
          `^dialtone: this device holds no key for .*rejected: no admitted member signed the key from device ${bobDevice} \\(epoch 1\\)`,
        ),
      ),
    ]);
    expect((await alice3Api.envelope.listEnvelopes({})).envelopes.map((e) => e.senderDeviceId)).not.toContain(bobDevice);

    // Nobody shares with alice3 before alice approves it (every admin command reconciles first) ...
    const admin = await dialtone(["channels"], envFor("admin"));
    expect(admin.code).toBe(0);
    expect(admin.stderr).toContain(
      `keys withheld from device ${ids.alice3Device.replaceAll("-", "").slice(0, 8)} of ${names.alice}: unverified device`,
    );
    // ... and the forgeries took no slot: alice3 had them deleted, so once alice approves it (her
    // client shares what it holds), alice3 reads both rooms.
    await ok("alice", ["devices", "approve", (alice3["fingerprint"] as string).replaceAll(" ", "")]);
    for (const channelId of [ids.roomA, ids.roomB]) {
      const r = await dialtone(["history", channelId.slice(0, 13), "--json"], envFor("alice3"));
      expect([r.code, r.stderr]).toEqual([0, ""]);
      expect(jsonLines(r.stdout).map((l) => l["body"])).toEqual(channelId === ids.roomA ? texts : []);
    }
  }, 150_000);

  test("the server's database and logs hold none of the names and texts", async () => {
    await stopServer();
    const db = await openDatabase({ kind: "pglite", dataDir: join(dataDir, "pgdata") });
    let dump: string;
    try {
      dump = await dumpAllTables(db);
    } finally {
      await db.close();
    }
    expect(dump).toContain("messages");
    expect(dump.length).toBeGreaterThan(2000);
    const logs = serverLogs.join("\n");
    expect(logs).toContain("listening");
    const secrets = [...Object.values(names), ...texts];
    expect(secrets.length).toBe(11);
    for (const s of secrets) {
      expect(dump).not.toContain(s);
      expect(dump.toLowerCase()).not.toContain(s.toLowerCase());
      expect(logs).not.toContain(s);
    }
    // The marker alone (in any case) appears nowhere either.
    expect(dump.toLowerCase()).not.toContain(M);
    expect(logs.toLowerCase()).not.toContain(M);
  }, 90_000);
});
