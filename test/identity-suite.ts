// Signed identities on the server: identity keys, device certificates, admissions, removals,
// revocations, key statements, the key backup, channel key rotation and the epoch check of
// SendMessage, and the upgrade of a database from the release before. Runs once per database
// kind, beside the server suite (server.pglite.test.ts, server.postgres.test.ts). Statements are
// signed here with node:crypto Ed25519 keys (test/support/signing.ts), not with the client's code.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { eq, sql } from "drizzle-orm";
import { KeyKind } from "../gen/dialtone/v1/envelope_pb.js";
import { type Event, IdentityChange } from "../gen/dialtone/v1/event_pb.js";
import { AdmissionRole } from "../gen/dialtone/v1/identity_pb.js";
import { users } from "../server/db/schema.js";
import { migrationStatus } from "../server/db/status.js";
import { LIMITS } from "../server/domain/validate.js";
import { api, bearer, devicePublicKey, envelopeValue, registerUser, sealedValue, type TestUser } from "./support/api.js";
import { codeOf, errorOf } from "./support/assertions.js";
import { databaseSource, type DatabaseSource, type DbKind } from "./support/databases.js";
import { migrateTo } from "./support/migrate-to.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { type IdentityKey, identityKey, keyHash, mac } from "./support/signing.js";

const PASSWORD = "correct horse battery";

/** A value shaped like a sealed field at `epoch` (version 1 header, then nonce, ciphertext and tag). */
function sealedAt(epoch: number): string {
  const header = Buffer.alloc(5);
  header[0] = 1;
  header.writeUInt32BE(epoch, 1);
  return Buffer.concat([header, randomBytes(12 + 16 + 16)]).toString("base64");
}

/** The device certificate of `u`'s session device, signed by `key`. */
const certificate = (key: IdentityKey, u: Pick<TestUser, "userId" | "deviceId" | "publicKey">) =>
  key.sign("device-cert", u.userId, u.deviceId, u.publicKey);

type WithKey = TestUser & { key: IdentityKey };

/** Publishes a fresh identity key for `u`, with its device's certificate. */
async function published(u: TestUser): Promise<WithKey> {
  const key = identityKey();
  await u.api.identity.publishIdentity({ publicKey: key.publicKey, deviceCertificate: certificate(key, u) });
  return { ...u, key };
}

/** The same account logged in on a new device. */
async function anotherDevice<T extends TestUser>(s: TestServer, u: T): Promise<T> {
  const publicKey = devicePublicKey();
  const session = (await api(s.url).auth.login({ username: u.username, password: PASSWORD, devicePublicKey: publicKey })).session!;
  return { ...u, token: session.token, deviceId: session.deviceId, publicKey, api: api(s.url, bearer(session.token)) };
}

/** Every durable event from the start of the feed up to its head when asked. */
async function feed(s: TestServer, u: TestUser): Promise<Event[]> {
  const ac = new AbortController();
  const out: Event[] = [];
  let head = 0n;
  for await (const item of api(s.url, bearer(u.token)).event.subscribe({ afterSeq: 0n }, { signal: ac.signal })) {
    if (item.item.case === "hello") head = item.item.value.headSeq;
    if (item.item.case === "event") out.push(item.item.value);
    if ((out.at(-1)?.seq ?? 0n) === head) break;
  }
  ac.abort();
  return out;
}

/** The IdentityUpdated events of a feed, as [user, change, device]. */
const identityUpdates = (events: Event[]) =>
  events.flatMap((e) =>
    e.payload.case === "identityUpdated" ? [[e.payload.value.userId, e.payload.value.change, e.payload.value.deviceId]] : [],
  );

const SIGNATURE_FAILS = "the signature does not verify under";

type StatementInput = { kind: KeyKind; scopeId: string; epoch: number; keyHash: string; signature: string };

export function identitySuite(kind: DbKind) {
  let source: DatabaseSource;
  beforeAll(async () => {
    source = await databaseSource(kind);
  }, 60_000);
  afterAll(async () => {
    await source?.stop();
  });

  async function withServer<T>(fn: (s: TestServer) => Promise<T>): Promise<T> {
    const db = await source.fresh();
    const server = await startTestServer(db);
    try {
      return await fn(server);
    } finally {
      await server.close();
      await db.close();
    }
  }

  describe(`signed identities on ${kind}`, () => {
    test("PublishIdentity stores the key with the calling device's certificate once; another key, a foreign signature or another device's certificate are refused", () =>
      withServer(async (s) => {
        const alice = await registerUser(s.url);
        const bob = await registerUser(s.url);
        const key = identityKey();
        const publish = (u: TestUser, publicKey: string, deviceCertificate: string) =>
          errorOf(u.api.identity.publishIdentity({ publicKey, deviceCertificate }));
        expect(await codeOf(api(s.url).identity.publishIdentity({}))).toBe(Code.Unauthenticated);

        // Attacker's cases first: nothing may be stored by them.
        const foreign = await publish(alice, key.publicKey, certificate(identityKey(), alice));
        expect([foreign?.code, foreign?.rawMessage]).toEqual([
          Code.InvalidArgument,
          "device_certificate: the signature does not verify under the identity key",
        ]);
        const bobsDevice = await publish(alice, key.publicKey, certificate(key, bob));
        expect(bobsDevice?.rawMessage).toMatch(/^device_certificate: the signature does not verify/);
        const otherUser = await publish(alice, key.publicKey, key.sign("device-cert", bob.userId, alice.deviceId, alice.publicKey));
        expect(otherUser?.code).toBe(Code.InvalidArgument);
        expect((await publish(alice, Buffer.alloc(31, 7).toString("base64"), certificate(key, alice)))?.rawMessage).toMatch(
          /^public_key: /,
        );
        expect((await publish(alice, Buffer.alloc(32).toString("base64"), certificate(key, alice)))?.rawMessage).toBe(
          "public_key: all-zero key",
        );
        expect((await publish(alice, key.publicKey, randomBytes(63).toString("base64")))?.rawMessage).toMatch(/^device_certificate: /);
        expect((await publish(alice, key.publicKey, ""))?.rawMessage).toBe("device_certificate: required");
        expect(
          (
            await errorOf(
              alice.api.identity.publishIdentity({
                publicKey: key.publicKey,
                deviceCertificate: certificate(key, alice),
                admissionMac: "QR==",
              }),
            )
          )?.rawMessage,
        ).toMatch(/^admission_mac: /);
        expect((await alice.api.identity.listIdentities({})).identities).toEqual([]);

        const first = (await alice.api.identity.publishIdentity({ publicKey: key.publicKey, deviceCertificate: certificate(key, alice) }))
          .identity!;
        expect(first).toMatchObject({ userId: alice.userId, publicKey: key.publicKey, admissions: [] });
        expect(first.removal).toBeUndefined();
        const again = (await alice.api.identity.publishIdentity({ publicKey: key.publicKey, deviceCertificate: certificate(key, alice) }))
          .identity!;
        expect(again.createdAt).toEqual(first.createdAt);

        // The same key from a second device certifies that device too.
        const laptop = await anotherDevice(s, alice);
        expect((await bob.api.device.listDevices({ userIds: [alice.userId] })).devices.map((d) => [d.deviceId, d.certificate])).toEqual([
          [alice.deviceId, certificate(key, alice)],
          [laptop.deviceId, ""],
        ]);
        await laptop.api.identity.publishIdentity({ publicKey: key.publicKey, deviceCertificate: certificate(key, laptop) });
        const devices = (await bob.api.device.listDevices({ userIds: [alice.userId] })).devices;
        expect(devices.map((d) => d.certificate)).toEqual([certificate(key, alice), certificate(key, laptop)]);

        // Another key, even validly self-signed, never replaces the first.
        const other = identityKey();
        const replaced = await publish(laptop, other.publicKey, certificate(other, laptop));
        expect(replaced?.code).toBe(Code.AlreadyExists);
        expect(replaced?.rawMessage).toMatch(/^public_key: /);
        expect((await bob.api.identity.listIdentities({ userIds: [alice.userId] })).identities.map((i) => i.publicKey)).toEqual([
          key.publicKey,
        ]);

        expect(identityUpdates(await feed(s, bob))).toEqual([
          [alice.userId, IdentityChange.PUBLISHED, ""],
          [alice.userId, IdentityChange.DEVICE_CERTIFIED, laptop.deviceId],
        ]);
      }));

    test("an admission request names the invite recorded at Register; the first MAC is kept; an account without an invite record cannot ask", () =>
      withServer(async (s) => {
        const admin = await registerUser(s.url);
        const created = await admin.api.invite.createInvite({});
        const carol = await registerUser(s.url, undefined, created.token);
        const [row] = await s.database.db.select({ inviteId: users.inviteId }).from(users).where(eq(users.id, carol.userId));
        expect(row?.inviteId).toBe(created.invite!.inviteId);

        const key = identityKey();
        const firstMac = mac();
        const identity = (
          await carol.api.identity.publishIdentity({
            publicKey: key.publicKey,
            deviceCertificate: certificate(key, carol),
            admissionMac: firstMac,
          })
        ).identity!;
        expect(identity.admissionRequest).toMatchObject({ inviteId: created.invite!.inviteId, mac: firstMac });
        const later = (
          await carol.api.identity.publishIdentity({
            publicKey: key.publicKey,
            deviceCertificate: certificate(key, carol),
            admissionMac: mac(),
          })
        ).identity!;
        expect(later.admissionRequest?.mac).toBe(firstMac);

        // An account from before invites were recorded: the request is refused and nothing is stored.
        const old = await registerUser(s.url);
        await s.database.db.update(users).set({ inviteId: null }).where(eq(users.id, old.userId));
        const oldKey = identityKey();
        const refused = await errorOf(
          old.api.identity.publishIdentity({
            publicKey: oldKey.publicKey,
            deviceCertificate: certificate(oldKey, old),
            admissionMac: mac(),
          }),
        );
        expect([refused?.code, refused?.rawMessage]).toEqual([
          Code.FailedPrecondition,
          "admission_mac: the account registered without an invite record to request admission for",
        ]);
        expect((await old.api.identity.listIdentities({ userIds: [old.userId] })).identities).toEqual([]);
        expect(identityUpdates(await feed(s, admin))).toEqual([
          [carol.userId, IdentityChange.PUBLISHED, ""],
          [carol.userId, IdentityChange.ADMISSION_REQUESTED, ""],
        ]);
      }));

    test("CertifyDevice certifies a live device of the caller's account under its identity key, once; refuses other accounts' devices, other keys, revoked devices", () =>
      withServer(async (s) => {
        const alice = await registerUser(s.url);
        const bob = await published(await registerUser(s.url));
        const laptop = await anotherDevice(s, alice);
        const certify = (u: TestUser, deviceId: string, cert: string) =>
          errorOf(u.api.identity.certifyDevice({ deviceId, certificate: cert }));
        const noKeyYet = await certify(alice, laptop.deviceId, certificate(identityKey(), laptop));
        expect(noKeyYet?.code).toBe(Code.FailedPrecondition);

        const key = (await published(alice)).key;
        const wrongKey = await certify(alice, laptop.deviceId, certificate(identityKey(), laptop));
        expect([wrongKey?.code, wrongKey?.rawMessage]).toEqual([Code.InvalidArgument, `certificate: ${SIGNATURE_FAILS} your identity key`]);
        const overOtherKey = await certify(
          alice,
          laptop.deviceId,
          key.sign("device-cert", alice.userId, laptop.deviceId, devicePublicKey()),
        );
        expect(overOtherKey?.code).toBe(Code.InvalidArgument);
        // Bob's device, certified with Alice's key: not hers to certify.
        const bobs = await certify(alice, bob.deviceId, key.sign("device-cert", alice.userId, bob.deviceId, bob.publicKey));
        expect([bobs?.code, bobs?.rawMessage]).toEqual([Code.PermissionDenied, "device_id: not a device of your account"]);
        expect((await certify(alice, randomUUID(), certificate(key, laptop)))?.code).toBe(Code.NotFound);
        expect((await certify(alice, "laptop", certificate(key, laptop)))?.rawMessage).toBe("device_id: must be a UUID");

        expect(await certify(alice, laptop.deviceId, certificate(key, laptop))).toBeUndefined();
        expect(await certify(laptop, laptop.deviceId, certificate(key, laptop))).toBeUndefined(); // again: no error, no event
        const listed = (await bob.api.device.listDevices({ userIds: [alice.userId] })).devices;
        expect(listed.find((d) => d.deviceId === laptop.deviceId)?.certificate).toBe(certificate(key, laptop));

        const phone = await anotherDevice(s, alice);
        await alice.api.device.revokeDevice({ deviceId: phone.deviceId });
        const revoked = await certify(alice, phone.deviceId, certificate(key, phone));
        expect([revoked?.code, revoked?.rawMessage]).toEqual([Code.FailedPrecondition, "device_id: the device was revoked"]);

        // The admin view carries certificates too (Alice, the first account, is the admin).
        const listedByAdmin = (await alice.api.admin.listUsers({})).users.find((u) => u.userId === alice.userId)!.devices;
        expect(listedByAdmin.map((d) => d.certificate)).toEqual([certificate(key, alice), certificate(key, laptop), ""]);
        expect(identityUpdates(await feed(s, bob)).filter(([, change]) => change === IdentityChange.DEVICE_CERTIFIED)).toEqual([
          [alice.userId, IdentityChange.DEVICE_CERTIFIED, laptop.deviceId],
        ]);
      }));

    test("Admit: the first admin's self-signed admission is the root; admins admit with their key; refused: members, a second root, self-admission as member, the wrong key", () =>
      withServer(async (s) => {
        const admin = await published(await registerUser(s.url));
        const bob = await published(await registerUser(s.url));
        const carol = await published(await registerUser(s.url));
        const dave = await registerUser(s.url); // no identity
        const admit = (
          by: WithKey,
          target: TestUser & { key?: IdentityKey },
          role: AdmissionRole,
          signedBy = by.key,
          over = target.key!.publicKey,
        ) =>
          by.api.identity.admit({
            userId: target.userId,
            role,
            signature: signedBy.sign("admission", target.userId, over, role === AdmissionRole.ADMIN ? "admin" : "member"),
          });

        const member = await errorOf(admit(bob, carol, AdmissionRole.MEMBER));
        expect([member?.code, member?.rawMessage]).toEqual([Code.PermissionDenied, "only admins admit members"]);
        const selfAsMember = await errorOf(admit(admin, admin, AdmissionRole.MEMBER));
        expect(selfAsMember?.code).toBe(Code.PermissionDenied);

        const root = (await admit(admin, admin, AdmissionRole.ADMIN)).admission!;
        expect(root).toMatchObject({
          userId: admin.userId,
          identityPublicKey: admin.key.publicKey,
          role: AdmissionRole.ADMIN,
          signerUserId: admin.userId,
        });
        expect((await admit(admin, admin, AdmissionRole.ADMIN)).admission).toEqual(root); // idempotent

        const byWrongKey = await errorOf(admit(admin, bob, AdmissionRole.MEMBER, bob.key));
        expect([byWrongKey?.code, byWrongKey?.rawMessage]).toEqual([
          Code.InvalidArgument,
          `signature: ${SIGNATURE_FAILS} your identity key`,
        ]);
        const overOtherKey = await errorOf(admit(admin, bob, AdmissionRole.MEMBER, admin.key, carol.key.publicKey));
        expect(overOtherKey?.code).toBe(Code.InvalidArgument);
        const roleSwapped = await errorOf(
          admin.api.identity.admit({
            userId: bob.userId,
            role: AdmissionRole.ADMIN,
            signature: admin.key.sign("admission", bob.userId, bob.key.publicKey, "member"),
          }),
        );
        expect(roleSwapped?.code).toBe(Code.InvalidArgument);
        const unspecified = await errorOf(
          admin.api.identity.admit({ userId: bob.userId, role: AdmissionRole.UNSPECIFIED, signature: root.signature }),
        );
        expect(unspecified?.rawMessage).toBe("role: must be ADMISSION_ROLE_MEMBER or ADMISSION_ROLE_ADMIN");
        expect((await errorOf(admit(admin, { ...dave, key: identityKey() }, AdmissionRole.MEMBER)))?.code).toBe(Code.FailedPrecondition);
        expect((await errorOf(admit(admin, { ...dave, userId: randomUUID(), key: identityKey() }, AdmissionRole.MEMBER)))?.code).toBe(
          Code.NotFound,
        );

        const bobAdmitted = (await admit(admin, bob, AdmissionRole.MEMBER)).admission!;
        expect(bobAdmitted).toMatchObject({
          userId: bob.userId,
          identityPublicKey: bob.key.publicKey,
          role: AdmissionRole.MEMBER,
          signerUserId: admin.userId,
        });

        // Bob made admin on the server still cannot make himself a second root, nor re-admit himself as a member.
        await admin.api.admin.setAdmin({ userId: bob.userId, isAdmin: true });
        const secondRoot = await errorOf(admit(bob, bob, AdmissionRole.ADMIN));
        expect([secondRoot?.code, secondRoot?.rawMessage]).toEqual([
          Code.PermissionDenied,
          "user_id: the community has a root already; another admin must admit you",
        ]);
        expect((await errorOf(admit(bob, bob, AdmissionRole.MEMBER)))?.code).toBe(Code.PermissionDenied);
        // As an admin he admits Carol with his own key.
        await admit(bob, carol, AdmissionRole.MEMBER);

        const listed = (await dave.api.identity.listIdentities({})).identities;
        expect(listed.map((i) => [i.userId, i.admissions.map((a) => [a.signerUserId, a.role])])).toEqual([
          [admin.userId, [[admin.userId, AdmissionRole.ADMIN]]],
          [bob.userId, [[admin.userId, AdmissionRole.MEMBER]]],
          [carol.userId, [[bob.userId, AdmissionRole.MEMBER]]],
        ]);
        expect(listed[1]!.admissions[0]!.signature).toBe(bobAdmitted.signature);
        expect((await dave.api.identity.listIdentities({ userIds: [carol.userId, dave.userId] })).identities.map((i) => i.userId)).toEqual([
          carol.userId,
        ]);
        expect((await errorOf(dave.api.identity.listIdentities({ userIds: ["x"] })))?.rawMessage).toBe("user_ids[0]: must be a UUID");
        expect(identityUpdates(await feed(s, dave)).filter(([, c]) => c === IdentityChange.ADMITTED)).toEqual([
          [admin.userId, IdentityChange.ADMITTED, ""],
          [bob.userId, IdentityChange.ADMITTED, ""],
          [carol.userId, IdentityChange.ADMITTED, ""],
        ]);
      }));

    test("two admins racing to be the root: exactly one is", () =>
      withServer(async (s) => {
        const a = await published(await registerUser(s.url));
        const b = await published(await registerUser(s.url));
        await a.api.admin.setAdmin({ userId: b.userId, isAdmin: true });
        const selfAdmit = (u: WithKey) =>
          codeOf(
            u.api.identity.admit({
              userId: u.userId,
              role: AdmissionRole.ADMIN,
              signature: u.key.sign("admission", u.userId, u.key.publicKey, "admin"),
            }),
          );
        const codes = await Promise.all([selfAdmit(a), selfAdmit(b)]);
        expect(codes.sort()).toEqual(["ok", Code.PermissionDenied].sort());
        const roots = (await a.api.identity.listIdentities({})).identities.flatMap((i) =>
          i.admissions.filter((x) => x.signerUserId === x.userId),
        );
        expect(roots).toHaveLength(1);
      }));

    test("RemoveUser with a removal signature stores it with the tombstone and announces it; the wrong key, the admin token and an account without a key are refused", () =>
      withServer(async (s) => {
        const admin = await published(await registerUser(s.url));
        const bob = await published(await registerUser(s.url));
        const carol = await registerUser(s.url);
        const removal = (target: WithKey, by: IdentityKey, over = target.key.publicKey) => by.sign("removal", target.userId, over);

        const byOwnKey = await errorOf(admin.api.admin.removeUser({ userId: bob.userId, removalSignature: removal(bob, bob.key) }));
        expect([byOwnKey?.code, byOwnKey?.rawMessage]).toEqual([
          Code.InvalidArgument,
          `removal_signature: ${SIGNATURE_FAILS} your identity key`,
        ]);
        const overOtherKey = await errorOf(
          admin.api.admin.removeUser({ userId: bob.userId, removalSignature: removal(bob, admin.key, admin.key.publicKey) }),
        );
        expect(overOtherKey?.code).toBe(Code.InvalidArgument);
        const byToken = await errorOf(
          api(s.url, { "x-admin-token": s.adminToken }).admin.removeUser({ userId: bob.userId, removalSignature: removal(bob, admin.key) }),
        );
        expect([byToken?.code, byToken?.rawMessage]).toEqual([
          Code.InvalidArgument,
          "removal_signature: needs an admin's session: the admin token has no identity key to sign with",
        ]);
        expect((await admin.api.admin.listUsers({})).users.find((u) => u.userId === bob.userId)?.removedAt).toBeUndefined();
        const noKey = await errorOf(
          admin.api.admin.removeUser({ userId: carol.userId, removalSignature: removal({ ...carol, key: bob.key }, admin.key) }),
        );
        expect([noKey?.code, noKey?.rawMessage]).toEqual([Code.FailedPrecondition, "user_id: the account has published no identity key"]);

        const res = await admin.api.admin.removeUser({ userId: bob.userId, removalSignature: removal(bob, admin.key) });
        expect(res.revokedDeviceIds).toEqual([bob.deviceId]);
        const stored = (await admin.api.identity.listIdentities({ userIds: [bob.userId] })).identities[0]!.removal;
        expect(stored).toMatchObject({
          userId: bob.userId,
          identityPublicKey: bob.key.publicKey,
          signerUserId: admin.userId,
          signature: removal(bob, admin.key),
        });
        const tail = (await feed(s, admin)).slice(-3).map((e) => e.payload.case);
        expect(tail).toEqual(["deviceRevoked", "userRemoved", "identityUpdated"]);
        expect(identityUpdates(await feed(s, admin)).at(-1)).toEqual([bob.userId, IdentityChange.REMOVED, ""]);

        // Carol, removed by the token before she had a key, is removed as before.
        expect((await api(s.url, { "x-admin-token": s.adminToken }).admin.removeUser({ userId: carol.userId })).revokedDeviceIds).toEqual([
          carol.deviceId,
        ]);
      }));

    test("RevokeDevice with the owner's signed revocation stores it; another key, another device's statement, or an admin's signature for someone else are refused", () =>
      withServer(async (s) => {
        const admin = await published(await registerUser(s.url));
        const alice = await published(await registerUser(s.url));
        const laptop = await anotherDevice(s, alice);
        const revoke = (u: TestUser, deviceId: string, revocation: string) => errorOf(u.api.device.revokeDevice({ deviceId, revocation }));

        const wrongKey = await revoke(alice, laptop.deviceId, identityKey().sign("device-revoked", alice.userId, laptop.deviceId));
        expect([wrongKey?.code, wrongKey?.rawMessage]).toEqual([Code.InvalidArgument, `revocation: ${SIGNATURE_FAILS} your identity key`]);
        expect((await revoke(alice, laptop.deviceId, alice.key.sign("device-revoked", alice.userId, alice.deviceId)))?.code).toBe(
          Code.InvalidArgument,
        );
        const byAdmin = await revoke(admin, laptop.deviceId, admin.key.sign("device-revoked", alice.userId, laptop.deviceId));
        expect(byAdmin?.rawMessage).toBe("revocation: only the device's own account signs its revocation; revoke without one");
        expect((await revoke(alice, laptop.deviceId, "AAAA"))?.rawMessage).toMatch(/^revocation: /);
        expect((await alice.api.device.listDevices({ userIds: [alice.userId] })).devices).toHaveLength(2); // none revoked yet

        const signed = alice.key.sign("device-revoked", alice.userId, laptop.deviceId);
        expect(await revoke(alice, laptop.deviceId, signed)).toBeUndefined();
        const phone = await anotherDevice(s, alice);
        await admin.api.device.revokeDevice({ deviceId: phone.deviceId });
        const all = (await admin.api.device.listDevices({ userIds: [alice.userId], includeRevoked: true })).devices;
        expect(all.map((d) => [d.deviceId, d.revocation, !!d.revokedAt])).toEqual([
          [alice.deviceId, "", false],
          [laptop.deviceId, signed, true],
          [phone.deviceId, "", true],
        ]);
      }));

    test("key statements: signed by the caller's identity key, all or none, one per signer and epoch, listed oldest first, gone with their channel", () =>
      withServer(async (s) => {
        const admin = await published(await registerUser(s.url));
        const bob = await published(await registerUser(s.url));
        const carol = await registerUser(s.url);
        const channelId = randomUUID();
        await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
        const channel = (u: WithKey, epoch: number, hash = keyHash(), signer = u.key, over: string = channelId): StatementInput => ({
          kind: KeyKind.CHANNEL,
          scopeId: channelId,
          epoch,
          keyHash: hash,
          signature: signer.sign("channel-key", over, epoch, hash),
        });
        const directory = (u: WithKey, epoch: number, hash = keyHash()): StatementInput => ({
          kind: KeyKind.DIRECTORY,
          scopeId: "directory",
          epoch,
          keyHash: hash,
          signature: u.key.sign("directory-key", epoch, hash),
        });
        const put = (u: TestUser, statements: StatementInput[]) => u.api.identity.putKeyStatements({ statements });
        const refused = async (p: Promise<unknown>) => {
          const e = await errorOf(p);
          return [e?.code, e?.rawMessage.slice(0, e.rawMessage.indexOf(":"))];
        };

        expect(await refused(put(admin, []))).toEqual([Code.InvalidArgument, "statements"]);
        expect(await refused(put(admin, [channel(admin, 1), channel(admin, 2, keyHash(), bob.key)]))).toEqual([
          Code.InvalidArgument,
          "statements[1].signature",
        ]);
        expect(await refused(put(admin, [channel(admin, 1, keyHash(), admin.key, randomUUID())]))).toEqual([
          Code.InvalidArgument,
          "statements[0].signature",
        ]);
        expect(await refused(put(admin, [{ ...channel(admin, 1), kind: KeyKind.IDENTITY }]))).toEqual([
          Code.InvalidArgument,
          "statements[0].kind",
        ]);
        expect(await refused(put(admin, [{ ...directory(admin, 1), scopeId: channelId }]))).toEqual([
          Code.InvalidArgument,
          "statements[0].scope_id",
        ]);
        expect(await refused(put(admin, [channel(admin, 0)]))).toEqual([Code.InvalidArgument, "statements[0].epoch"]);
        expect(await refused(put(admin, [channel(admin, 1, randomBytes(31).toString("base64"))]))).toEqual([
          Code.InvalidArgument,
          "statements[0].key_hash",
        ]);
        const elsewhere = randomUUID();
        const unknownChannel: StatementInput = { kind: KeyKind.CHANNEL, scopeId: elsewhere, epoch: 1, keyHash: keyHash(), signature: "" };
        unknownChannel.signature = admin.key.sign("channel-key", elsewhere, 1, unknownChannel.keyHash);
        expect(await refused(put(admin, [channel(admin, 1), unknownChannel]))).toEqual([Code.NotFound, "statements[1].scope_id"]);
        expect((await errorOf(put(carol, [channel(admin, 1)])))?.code).toBe(Code.FailedPrecondition);
        expect((await admin.api.identity.listKeyStatements({})).statements).toEqual([]);

        const first = channel(admin, 1);
        expect((await put(admin, [first, directory(admin, 1)])).stored).toBe(2);
        expect((await put(admin, [first])).stored).toBe(0);
        expect((await put(admin, [channel(admin, 1)])).stored).toBe(0); // one per signer and epoch
        expect((await put(bob, [channel(bob, 1, first.keyHash)])).stored).toBe(1);

        const list = async (req: { kind?: KeyKind; scopeId?: string }) =>
          (await carol.api.identity.listKeyStatements(req)).statements.map((st) => [
            st.kind,
            st.scopeId,
            st.epoch,
            st.signerUserId,
            st.keyHash,
          ]);
        expect(await list({ kind: KeyKind.CHANNEL, scopeId: channelId })).toEqual([
          [KeyKind.CHANNEL, channelId, 1, admin.userId, first.keyHash],
          [KeyKind.CHANNEL, channelId, 1, bob.userId, first.keyHash],
        ]);
        expect((await list({ kind: KeyKind.DIRECTORY })).map((r) => r[3])).toEqual([admin.userId]);
        expect(await list({})).toHaveLength(3);
        expect((await carol.api.identity.listKeyStatements({ kind: KeyKind.CHANNEL, scopeId: channelId })).statements[0]!.signature).toBe(
          first.signature,
        );
        expect((await errorOf(carol.api.identity.listKeyStatements({ kind: KeyKind.DIRECTORY, scopeId: channelId })))?.rawMessage).toMatch(
          /^scope_id: /,
        );

        await admin.api.channel.deleteChannel({ channelId });
        expect(await list({})).toEqual([[KeyKind.DIRECTORY, "directory", 1, admin.userId, expect.any(String)]]);
      }));

    test("the key backup: the account's own, compare-and-set on its version (aborted naming the current one), at most 1 MiB less 1 KiB", () =>
      withServer(async (s) => {
        const alice = await registerUser(s.url);
        const bob = await registerUser(s.url);
        const laptop = await anotherDevice(s, alice);
        const blob = (n = 64) => randomBytes(n).toString("base64");
        expect(await alice.api.identity.getKeyBackup({})).toMatchObject({ version: 0n, ciphertext: "" });

        const ahead = await errorOf(alice.api.identity.putKeyBackup({ expectedVersion: 1n, ciphertext: blob() }));
        expect([ahead?.code, ahead?.rawMessage]).toEqual([
          Code.Aborted,
          "expected_version: the backup is at version 0, not 1; read it, merge and retry",
        ]);
        const v1 = blob();
        expect((await alice.api.identity.putKeyBackup({ expectedVersion: 0n, ciphertext: v1 })).version).toBe(1n);
        // The other device read nothing before: its write would undo the first.
        const stale = await errorOf(laptop.api.identity.putKeyBackup({ expectedVersion: 0n, ciphertext: blob() }));
        expect([stale?.code, stale?.rawMessage]).toEqual([
          Code.Aborted,
          "expected_version: the backup is at version 1, not 0; read it, merge and retry",
        ]);
        expect(await laptop.api.identity.getKeyBackup({})).toMatchObject({ version: 1n, ciphertext: v1 });
        expect((await laptop.api.identity.putKeyBackup({ expectedVersion: 1n, ciphertext: blob() })).version).toBe(2n);
        expect(await bob.api.identity.getKeyBackup({})).toMatchObject({ version: 0n, ciphertext: "" });

        // Two devices racing from version 2: one wins.
        const codes = await Promise.all(
          [alice, laptop].map((u) => codeOf(u.api.identity.putKeyBackup({ expectedVersion: 2n, ciphertext: blob() }))),
        );
        expect(codes.sort()).toEqual(["ok", Code.Aborted].sort());
        expect((await alice.api.identity.getKeyBackup({})).version).toBe(3n);

        for (const ciphertext of ["", "QR==", "not base64!", "A".repeat(LIMITS.backupChars + 4)]) {
          expect((await errorOf(alice.api.identity.putKeyBackup({ expectedVersion: 3n, ciphertext })))?.rawMessage).toMatch(
            /^ciphertext: /,
          );
        }
        // The largest backup fits the server's 1 MiB request limit, in binary and in JSON.
        const largest = "A".repeat(LIMITS.backupChars);
        expect((await alice.api.identity.putKeyBackup({ expectedVersion: 3n, ciphertext: largest })).version).toBe(4n);
        const json = await fetch(`${s.url}/dialtone.v1.IdentityService/PutKeyBackup`, {
          method: "POST",
          headers: { "content-type": "application/json", ...bearer(alice.token) },
          body: JSON.stringify({ expectedVersion: "4", ciphertext: largest }),
        });
        expect([json.status, await json.json()]).toEqual([200, { version: "5" }]);
      }));

    test("RotateChannelKey: current + 1 only, the first of two racing rotations wins; Send at a stale epoch is refused, at the new one accepted", () =>
      withServer(async (s) => {
        const admin = await registerUser(s.url);
        const bob = await registerUser(s.url);
        const channelId = randomUUID();
        await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
        const rotate = (u: TestUser, keyEpoch: number, encryptedName = sealedAt(keyEpoch)) =>
          u.api.channel.rotateChannelKey({ channelId, keyEpoch, encryptedName });
        const send = (u: TestUser, keyEpoch: number, messageId: string = randomUUID()) =>
          u.api.message.sendMessage({
            messageId,
            channelId,
            encryptedBody: sealedAt(keyEpoch),
            encryptedSenderName: sealedAt(keyEpoch),
            keyEpoch,
          });

        // A message stored at epoch 1, to retry after the rotation.
        const early = (await send(bob, 1)).message!;
        const skip = await errorOf(rotate(bob, 3));
        expect([skip?.code, skip?.rawMessage]).toEqual([Code.Aborted, "key_epoch: the channel's key epoch is 1; only 2 can follow it"]);
        expect((await errorOf(rotate(bob, 2, sealedAt(1))))?.rawMessage).toBe("encrypted_name: sealed with epoch 1, but key_epoch is 2");
        expect(
          (await errorOf(bob.api.channel.rotateChannelKey({ channelId: randomUUID(), keyEpoch: 2, encryptedName: sealedAt(2) })))?.code,
        ).toBe(Code.NotFound);

        // A subscriber hears the rotation live.
        const ac = new AbortController();
        const stream = bob.api.event.subscribe({}, { signal: ac.signal })[Symbol.asyncIterator]();
        expect((await stream.next()).value?.item.case).toBe("hello");

        const names = [sealedAt(2), sealedAt(2)];
        const results = await Promise.allSettled([rotate(admin, 2, names[0]), rotate(bob, 2, names[1])]);
        const won = results.findIndex((r) => r.status === "fulfilled");
        const lost = results.find((r) => r.status === "rejected");
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        expect((lost as PromiseRejectedResult).reason).toMatchObject({
          code: Code.Aborted,
          rawMessage: "key_epoch: the channel's key epoch is 2; only 3 can follow it",
        });
        const [channel] = (await bob.api.channel.listChannels({})).channels;
        expect([channel?.keyEpoch, channel?.encryptedName]).toEqual([2, names[won]]);
        let live = await stream.next();
        while (live.value && !(live.value.item.case === "event" && live.value.item.value.payload.case === "channelKeyRotated"))
          live = await stream.next();
        const rotated =
          live.value?.item.case === "event" && live.value.item.value.payload.case === "channelKeyRotated"
            ? live.value.item.value.payload.value
            : undefined;
        expect([rotated?.channel?.keyEpoch, rotated?.channel?.encryptedName]).toEqual([2, names[won]]);
        ac.abort();

        const refused = await errorOf(send(bob, 1));
        expect([refused?.code, refused?.rawMessage]).toEqual([
          Code.FailedPrecondition,
          "key_epoch: the channel's key epoch is 2; seal with it",
        ]);
        expect((await errorOf(send(bob, 3)))?.code).toBe(Code.FailedPrecondition);
        // A retry of the message stored before the rotation is still that message.
        const retried = (
          await bob.api.message.sendMessage({
            messageId: early.messageId,
            channelId,
            encryptedBody: sealedAt(1),
            encryptedSenderName: sealedAt(1),
            keyEpoch: 1,
          })
        ).message!;
        expect(retried).toEqual(early);
        const accepted = (await send(bob, 2)).message!;
        expect(accepted.keyEpoch).toBe(2);

        // Refused sends took no seq: the log has no gap, and one rotation.
        const events = await feed(s, admin);
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => BigInt(i + 1)));
        expect(events.filter((e) => e.payload.case === "channelKeyRotated")).toHaveLength(1);
        expect(events.at(-1)?.payload.case).toBe("messageCreated");
      }));

    test("identity and backup envelopes go only between devices of the sender's account, scoped to it, at epoch 1", () =>
      withServer(async (s) => {
        const alice = await registerUser(s.url);
        const bob = await registerUser(s.url);
        const laptop = await anotherDevice(s, alice);
        const envelope = (kind: KeyKind, recipientDeviceId: string, scopeId = alice.userId, epoch = 1) => ({
          kind,
          scopeId,
          epoch,
          recipientDeviceId,
          ciphertext: envelopeValue(),
        });
        const refusedAt = async (envelopes: ReturnType<typeof envelope>[]) =>
          (await errorOf(alice.api.envelope.putEnvelopes({ envelopes })))?.rawMessage.split(":")[0];
        expect(await refusedAt([envelope(KeyKind.IDENTITY, bob.deviceId)])).toBe("envelopes[0].recipient_device_id");
        expect(await refusedAt([envelope(KeyKind.IDENTITY, laptop.deviceId, bob.userId)])).toBe("envelopes[0].scope_id");
        expect(await refusedAt([envelope(KeyKind.BACKUP, laptop.deviceId, alice.userId, 2)])).toBe("envelopes[0].epoch");
        expect(
          await alice.api.envelope.putEnvelopes({
            envelopes: [envelope(KeyKind.IDENTITY, laptop.deviceId), envelope(KeyKind.BACKUP, laptop.deviceId)],
          }),
        ).toMatchObject({ stored: 2 });
        const mine = (await laptop.api.envelope.listEnvelopes({ kind: KeyKind.IDENTITY, scopeId: alice.userId })).envelopes;
        expect(mine.map((e) => [e.kind, e.senderDeviceId, e.senderUserId])).toEqual([[KeyKind.IDENTITY, alice.deviceId, alice.userId]]);
        expect(
          await laptop.api.envelope.acknowledgeEnvelopes({
            accepted: [{ kind: KeyKind.IDENTITY, scopeId: alice.userId, epoch: 1, senderDeviceId: alice.deviceId }],
          }),
        ).toMatchObject({ accepted: 1 });
      }));

    test("a database of the previous release (migrated to 0005) upgrades: accounts and devices kept, the new columns null, the new tables empty", async () => {
      let db = await source.unmigrated();
      await migrateTo(db, "0005_data_migrations");
      // 0006 and whatever came after it (0007_read_markers, …) are pending.
      expect((await migrationStatus(db)).pending[0]).toBe("0006_identities");
      const userId = randomUUID();
      const deviceId = randomUUID();
      const key = devicePublicKey();
      // Rows as the previous release wrote them (its columns only).
      await db.db.execute(sql`INSERT INTO users (id, username_hash, password_hash, is_admin) VALUES (${userId}, 'h', 'p', true)`);
      await db.db.execute(sql`INSERT INTO devices (id, user_id, public_key) VALUES (${deviceId}, ${userId}, ${key})`);
      db = await source.restart(db); // a start of the new release migrates
      try {
        expect((await migrationStatus(db)).pending).toEqual([]);
        const rows = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;
        expect(rows(await db.db.execute(sql`SELECT id, is_admin, invite_id FROM users`))).toEqual([
          { id: userId, is_admin: true, invite_id: null },
        ]);
        expect(rows(await db.db.execute(sql`SELECT id, public_key, certificate, revocation FROM devices`))).toEqual([
          { id: deviceId, public_key: key, certificate: null, revocation: null },
        ]);
        for (const table of [
          "identities",
          "admissions",
          "removals",
          "admission_requests",
          "key_statements",
          "key_backups",
          "read_markers",
        ]) {
          expect([table, rows(await db.db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`)))[0]!.n]).toEqual([table, 0]);
        }
      } finally {
        await db.close();
      }
    });
  });
}
