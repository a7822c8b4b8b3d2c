// The key manager against a real server: signed identities decide who gets keys, pins refuse
// changed keys, and forged, moved, substituted and unsigned keys are rejected. No client runs in
// the background here, so every share happens exactly when a test calls reconcile(). Members
// registered with `serverInvite` stay pending (nobody shares with them) until admitted.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { KeyKind } from "../../gen/dialtone/v1/envelope_pb.js";
import { constantTimeEqual, generateSymmetricKey, sealEnvelope } from "../crypto/index.js";
import type { ClientEvents } from "./events.js";
import type { ChannelView } from "./names.js";
import { Harness, type TestInstall } from "../../test/support/client-harness.js";

let h: Harness;
let admin: TestInstall;
let alice: TestInstall;
let general: ChannelView;
let random: ChannelView;

function record<K extends keyof ClientEvents>(install: TestInstall, name: K): Array<ClientEvents[K]> {
  const out: Array<ClientEvents[K]> = [];
  install.client.on(name, (v) => void out.push(v));
  return out;
}

/** A member's client writing an envelope by hand (what a malicious member could do). */
async function handWrittenEnvelope(
  from: TestInstall,
  to: TestInstall,
  opts: { scopeId: string; aadChannelId: string; key: Uint8Array; claimedSenderDeviceId?: string },
) {
  const recipient = from.client.store.keystore.pinnedDevice(to.client.me.deviceId) ?? (await pinFromServer(from, to));
  const ciphertext = await sealEnvelope({
    senderPrivateKey: from.client.store.keystore.deviceKeyPair.privateKey,
    recipientPublicKey: recipient.publicKey,
    context: {
      kind: "channel",
      channelId: opts.aadChannelId,
      epoch: 1,
      senderDeviceId: opts.claimedSenderDeviceId ?? from.client.me.deviceId,
      recipientDeviceId: to.client.me.deviceId,
    },
    key: opts.key,
  });
  return from.client.api.envelope.putEnvelopes({
    envelopes: [{ kind: KeyKind.CHANNEL, scopeId: opts.scopeId, epoch: 1, recipientDeviceId: to.client.me.deviceId, ciphertext }],
  });
}

async function pinFromServer(from: TestInstall, to: TestInstall) {
  await from.client.devices();
  return from.client.store.keystore.pinnedDevice(to.client.me.deviceId)!;
}

beforeAll(async () => {
  h = await Harness.start();
  admin = await h.register("admin");
  alice = await h.register("alice");
  general = await admin.client.createChannel("general");
  random = await admin.client.createChannel("random");
  await alice.client.reconcile();
}, 90_000);
afterAll(() => h?.close());

describe("sharing", () => {
  test("a new channel's key reaches every device, and the receiver pins the sender on first sight", async () => {
    expect(alice.client.keys.channelKey(general.id)).toBeDefined();
    const pinned = alice.client.store.keystore.pinnedDevice(admin.client.me.deviceId);
    expect(pinned?.userId).toBe(admin.client.me.userId);
    expect(constantTimeEqual(pinned!.publicKey, admin.client.store.keystore.devicePublicKey)).toBe(true);
    const sent = await admin.client.send(general.id, "hello alice");
    const [seen] = await alice.client.history(general.id, 1);
    expect(seen).toMatchObject({ messageId: sent.messageId, body: "hello alice" });
    expect(alice.client.channel(general.id)?.name).toBe("general");
  });

  test("a new device of a known user gets nothing while unverified (reported), and the keys once its owner approves it", async () => {
    const withheld = record(admin, "keys-withheld");
    const trust = record(admin, "trust");
    const alice2 = await h.newDevice("alice", { approve: false });
    await alice2.client.reconcile();
    await admin.client.reconcile();
    expect(withheld).toEqual([
      expect.objectContaining({
        userId: alice.client.me.userId,
        deviceId: alice2.client.me.deviceId,
        reason: expect.stringMatching(/unverified/),
      }),
    ]);
    const notice = trust.find((t) => t.event.type === "device-unverified" && t.event.deviceId === alice2.client.me.deviceId);
    expect(notice?.event).toMatchObject({ own: false, fingerprint: expect.stringMatching(/^[0-9a-f]{4}( [0-9a-f]{4}){4}$/) });
    expect(alice2.client.keys.channelKey(general.id)).toBeUndefined();

    await alice.client.approveDevice((notice!.event as { fingerprint: string }).fingerprint);
    await alice2.client.reconcile();
    await alice2.client.reconcile(); // the identity arrived first; the keys were shared by alice's approval
    expect(alice2.client.keys.channelKey(general.id)).toBeDefined();
    expect(alice2.client.store.keystore.identity).toBeDefined();
  });

  test("a pinned device showing another key is refused loudly and never encrypted to", async () => {
    const bob = await h.register("bob");
    // Alice pinned bob's device id with another key earlier: the server now "changed" it.
    alice.client.store.keystore.pinDevice(bob.client.me.deviceId, bob.client.me.userId, generateSymmetricKey());
    const refused = record(alice, "key-change-refused");
    await alice.client.reconcile();
    await alice.client.reconcile(); // reported once, not at every retry
    expect(refused).toEqual([expect.objectContaining({ deviceId: bob.client.me.deviceId, userId: bob.client.me.userId })]);
    expect(refused[0]!.pinnedFingerprint).not.toBe(refused[0]!.offeredFingerprint);
    const missing = await alice.client.api.envelope.listMissingEnvelopes({ kind: KeyKind.CHANNEL, scopeId: general.id });
    expect(missing.missing.map((m) => m.deviceId)).toContain(bob.client.me.deviceId);
    const devices = await alice.client.devices();
    expect(devices.find((d) => d.deviceId === bob.client.me.deviceId)?.status).toBe("changed");
  });
});

describe("receiving", () => {
  test("an envelope from a sender device whose key differs from the pin is refused", async () => {
    const carol = await h.register("carol", { serverInvite: true });
    carol.client.store.keystore.pinDevice(admin.client.me.deviceId, admin.client.me.userId, generateSymmetricKey());
    await admin.client.admit(carol.client.me.userId); // admin shares general, random and the directory key with carol
    const rejected = record(carol, "key-rejected");
    await carol.client.reconcile();
    expect(carol.client.keys.channelKey(general.id)).toBeUndefined();
    expect(rejected.map((r) => (r.scope.kind === "channel" ? r.scope.channelId : "directory")).sort()).toEqual(
      [general.id, random.id, "directory"].sort(),
    );
    for (const r of rejected) expect(r.reason).toMatch(/key other than the one pinned/);
  });

  test("a substituted channel key (no admitted member vouches for it) is rejected", async () => {
    const dave = await h.register("dave", { serverInvite: true });
    // Alice, a member, races the admin with a key of her own making, correctly sealed.
    await handWrittenEnvelope(alice, dave, { scopeId: general.id, aadChannelId: general.id, key: generateSymmetricKey() });
    const rejected = record(dave, "key-rejected");
    await dave.client.reconcile();
    expect(dave.client.keys.channelKey(general.id)).toBeUndefined();
    expect(rejected).toEqual([
      expect.objectContaining({ senderUserId: alice.client.me.userId, reason: expect.stringMatching(/no admitted member signed the key/) }),
    ]);
    await expect(dave.client.requireChannelKey(general.id, 0)).rejects.toThrow(/rejected: .*no admitted member signed/);
    // The junk took no slot: the admin still sees dave as lacking the key, shares it once dave is admitted, and dave keeps it.
    const missing = await admin.client.api.envelope.listMissingEnvelopes({ kind: KeyKind.CHANNEL, scopeId: general.id });
    expect(missing.missing.map((m) => m.deviceId)).toContain(dave.client.me.deviceId);
    await admin.client.admit(dave.client.me.userId);
    await dave.client.reconcile();
    expect(constantTimeEqual(dave.client.keys.channelKey(general.id)!.key, admin.client.keys.channelKey(general.id)!.key)).toBe(true);
    // Dave accepted the admin's envelope and had alice's deleted: nobody lists him as missing it now.
    const after = await alice.client.api.envelope.listMissingEnvelopes({ kind: KeyKind.CHANNEL, scopeId: general.id });
    expect(after.missing.map((m) => m.deviceId)).not.toContain(dave.client.me.deviceId);
    const left = await dave.client.api.envelope.listEnvelopes({ kind: KeyKind.CHANNEL, scopeId: general.id });
    expect(left.envelopes.map((e) => e.senderDeviceId)).toEqual([admin.client.me.deviceId]);
  });

  test("an envelope whose AAD names another channel, or another sender device, is rejected", async () => {
    const erin = await h.register("erin", { serverInvite: true }); // nobody shares the real keys with her
    const realGeneralKey = alice.client.keys.channelKey(general.id)!.key;
    // The real key of #general, bound to #general, stored under #random: moved between channels.
    await handWrittenEnvelope(alice, erin, { scopeId: random.id, aadChannelId: general.id, key: realGeneralKey });
    // Claims the admin's device as its sender; the server records alice's device as the sender anyway.
    await handWrittenEnvelope(alice, erin, {
      scopeId: general.id,
      aadChannelId: general.id,
      key: realGeneralKey,
      claimedSenderDeviceId: admin.client.me.deviceId,
    });
    const stored = await erin.client.api.envelope.listEnvelopes({});
    expect(stored.envelopes.map((e) => e.senderDeviceId)).toEqual([alice.client.me.deviceId, alice.client.me.deviceId]);
    const rejected = record(erin, "key-rejected");
    await erin.client.reconcile();
    expect(erin.client.keys.channelKey(general.id)).toBeUndefined();
    expect(erin.client.keys.channelKey(random.id)).toBeUndefined();
    expect(rejected).toHaveLength(2);
    for (const r of rejected) expect(r.reason).toMatch(/does not open under its pinned key and the expected context/);
    expect(erin.client.channel(general.id)?.label).toBe("<encrypted>");
  });
});

describe("directory key", () => {
  test("the admin's client creates it, members receive it, and one a member made is rejected", async () => {
    await admin.client.setProfileName("Admin Person");
    expect(admin.client.keys.directoryKey()?.epoch).toBe(1);
    const share = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      await admin.client.reconcile();
    })();
    const [me] = await Promise.all([alice.client.setProfileName("Alice A.", 10_000), share]);
    expect(me.name).toBe("Alice A.");
    await alice.client.directory.refresh();
    expect(alice.client.directory.nameOf(admin.client.me.userId)).toBe("Admin Person");
    await admin.client.directory.refresh();
    expect(admin.client.directory.nameOf(alice.client.me.userId)).toBe("Alice A.");

    const frank = await h.register("frank", { serverInvite: true }); // pending: only alice's junk reaches him
    const ciphertext = await sealEnvelope({
      senderPrivateKey: alice.client.store.keystore.deviceKeyPair.privateKey,
      recipientPublicKey: (await pinFromServer(alice, frank)).publicKey,
      context: { kind: "directory", epoch: 1, senderDeviceId: alice.client.me.deviceId, recipientDeviceId: frank.client.me.deviceId },
      key: generateSymmetricKey(),
    });
    await alice.client.api.envelope.putEnvelopes({
      envelopes: [{ kind: KeyKind.DIRECTORY, scopeId: "directory", epoch: 1, recipientDeviceId: frank.client.me.deviceId, ciphertext }],
    });
    const rejected = record(frank, "key-rejected");
    await frank.client.reconcile();
    expect(frank.client.keys.directoryKey()).toBeUndefined();
    expect(rejected[0]?.reason).toMatch(/not signed by an admin/);
    expect(frank.client.directory.nameOf(admin.client.me.userId)).toBeUndefined();
    // The real key still reaches frank from a holder once he is admitted.
    await admin.client.admit(frank.client.me.userId);
    await frank.client.reconcile();
    expect(constantTimeEqual(frank.client.keys.directoryKey()!.key, admin.client.keys.directoryKey()!.key)).toBe(true);
  });
});
