// The trust rules as an attacker meets them: real Ed25519 signatures, with forged, misplaced
// and missing statements standing in for what a malicious server could list.
import { describe, expect, test } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { DeviceSchema, type Device } from "../../gen/dialtone/v1/device_pb.js";
import { AdmissionRole, AdmissionSchema, IdentitySchema, RemovalSchema, type Identity } from "../../gen/dialtone/v1/identity_pb.js";
import {
  encodeBase64,
  generateIdentityKeyPair,
  generateX25519KeyPair,
  identityFingerprint,
  signStatement,
  type AdmissionRoleName,
  type IdentityKeyPair,
} from "../crypto/index.js";
import { evaluateTrust, mayReceiveKeys, standingOf } from "./trust.js";

interface Person {
  readonly userId: string;
  readonly identity: IdentityKeyPair;
}

let n = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;

async function person(): Promise<Person> {
  return { userId: uuid(), identity: await generateIdentityKeyPair() };
}

async function admission(subject: Person, signer: Person, role: AdmissionRoleName, key = subject.identity.publicKey) {
  return create(AdmissionSchema, {
    userId: subject.userId,
    identityPublicKey: encodeBase64(key),
    role: role === "admin" ? AdmissionRole.ADMIN : AdmissionRole.MEMBER,
    signerUserId: signer.userId,
    signature: await signStatement(signer.identity.privateKey, { kind: "admission", userId: subject.userId, identityPublicKey: key, role }),
  });
}

function identity(p: Person, admissions: Identity["admissions"] = []): Identity {
  return create(IdentitySchema, { userId: p.userId, publicKey: encodeBase64(p.identity.publicKey), admissions });
}

async function device(owner: Person, opts: { certifiedBy?: IdentityKeyPair; revoked?: boolean } = {}): Promise<Device> {
  const deviceId = uuid();
  const key = (await generateX25519KeyPair()).publicKey;
  const signer = opts.certifiedBy ?? owner.identity;
  return create(DeviceSchema, {
    deviceId,
    userId: owner.userId,
    publicKey: encodeBase64(key),
    certificate: await signStatement(signer.privateKey, { kind: "device-cert", userId: owner.userId, deviceId, devicePublicKey: key }),
    ...(opts.revoked ? { revokedAt: timestampNow() } : {}),
  });
}

describe("who is a member: admissions chained to the pinned root", () => {
  test("the root admits a member and a second admin, who admits another; strangers stay pending", async () => {
    const [root, admin2, member, late, stranger] = await Promise.all([person(), person(), person(), person(), person()]);
    const identities = [
      identity(root, [await admission(root, root, "admin")]),
      identity(admin2, [await admission(admin2, root, "admin")]),
      identity(member, [await admission(member, root, "member")]),
      identity(late, [await admission(late, admin2, "member")]),
      identity(stranger),
    ];
    const t = await evaluateTrust({ identities, devices: [], pinnedRoot: await identityFingerprint(root.identity.publicKey) });
    expect(t.root?.userId).toBe(root.userId);
    expect(t.members.get(admin2.userId)?.role).toBe("admin");
    expect(t.members.get(member.userId)?.role).toBe("member");
    expect(standingOf(t, late.userId)).toBe("admitted");
    expect(standingOf(t, stranger.userId)).toBe("pending");
  });

  test("a member's admission of someone else, a forged signature and an admission of another key count for nothing", async () => {
    const [root, member, byMember, forged, swapped] = await Promise.all([person(), person(), person(), person(), person()]);
    const impostor = await generateIdentityKeyPair();
    const forgedAdmission = await admission(forged, root, "member");
    forgedAdmission.signature = encodeBase64(new Uint8Array(64).fill(1));
    const identities = [
      identity(root, [await admission(root, root, "admin")]),
      identity(member, [await admission(member, root, "member")]),
      identity(byMember, [await admission(byMember, member, "admin")]),
      identity(forged, [forgedAdmission]),
      // The server swapped the identity key after the admission was signed for the real one.
      create(IdentitySchema, {
        userId: swapped.userId,
        publicKey: encodeBase64(impostor.publicKey),
        admissions: [await admission(swapped, root, "member")],
      }),
    ];
    const t = await evaluateTrust({ identities, devices: [], pinnedRoot: await identityFingerprint(root.identity.publicKey) });
    expect(standingOf(t, byMember.userId)).toBe("pending");
    expect(standingOf(t, forged.userId)).toBe("pending");
    expect(standingOf(t, swapped.userId)).toBe("pending");
  });

  test("a root other than the pinned one admits nobody; two unpinned roots are refused", async () => {
    const [root, rogue, member] = await Promise.all([person(), person(), person()]);
    const identities = [
      identity(root, [await admission(root, root, "admin")]),
      identity(rogue, [await admission(rogue, rogue, "admin")]),
      identity(member, [await admission(member, rogue, "member")]),
    ];
    const pinned = await evaluateTrust({ identities, devices: [], pinnedRoot: await identityFingerprint(root.identity.publicKey) });
    expect(standingOf(pinned, member.userId)).toBe("pending");
    expect(standingOf(pinned, rogue.userId)).toBe("pending");
    const unpinned = await evaluateTrust({ identities, devices: [], pinnedRoot: undefined });
    expect(unpinned.root).toBeUndefined();
    expect(unpinned.rootProblem).toMatch(/2 community roots/);
    expect(standingOf(unpinned, root.userId)).toBe("pending");
  });

  test("a removal signed by an admin takes a member out; one signed by a member does not", async () => {
    const [root, gone, kept] = await Promise.all([person(), person(), person()]);
    const removal = async (subject: Person, signer: Person) =>
      create(RemovalSchema, {
        userId: subject.userId,
        identityPublicKey: encodeBase64(subject.identity.publicKey),
        signerUserId: signer.userId,
        signature: await signStatement(signer.identity.privateKey, {
          kind: "removal",
          userId: subject.userId,
          identityPublicKey: subject.identity.publicKey,
        }),
      });
    const goneId = identity(gone, [await admission(gone, root, "member")]);
    goneId.removal = await removal(gone, root);
    const keptId = identity(kept, [await admission(kept, root, "member")]);
    keptId.removal = await removal(kept, gone);
    const t = await evaluateTrust({
      identities: [identity(root, [await admission(root, root, "admin")]), goneId, keptId],
      devices: [],
      pinnedRoot: await identityFingerprint(root.identity.publicKey),
    });
    expect(standingOf(t, gone.userId)).toBe("removed");
    expect(standingOf(t, kept.userId)).toBe("admitted");
  });
});

describe("which devices get keys", () => {
  test("certified devices of admitted members only: a ghost, a device of a pending member, a revoked one and a hidden one get nothing", async () => {
    const [root, bob, pending] = await Promise.all([person(), person(), person()]);
    const ghostSigner = await generateIdentityKeyPair();
    const good = await device(bob);
    const ghost = await device(bob, { certifiedBy: ghostSigner });
    const uncertified = await device(bob);
    uncertified.certificate = "";
    const revoked = await device(bob, { revoked: true });
    const pendingDevice = await device(pending);
    const t = await evaluateTrust({
      identities: [
        identity(root, [await admission(root, root, "admin")]),
        identity(bob, [await admission(bob, root, "member")]),
        identity(pending),
      ],
      devices: [good, ghost, uncertified, revoked, pendingDevice],
      pinnedRoot: await identityFingerprint(root.identity.publicKey),
    });
    expect(mayReceiveKeys(t, good.deviceId, bob.userId, good.publicKey)).toEqual({ ok: true });
    expect(mayReceiveKeys(t, ghost.deviceId, bob.userId, ghost.publicKey)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unverified/),
    });
    expect(mayReceiveKeys(t, uncertified.deviceId, bob.userId, uncertified.publicKey)).toMatchObject({ ok: false });
    expect(mayReceiveKeys(t, revoked.deviceId, bob.userId, revoked.publicKey)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/revoked/),
    });
    expect(mayReceiveKeys(t, pendingDevice.deviceId, pending.userId, pendingDevice.publicKey)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/pending member/),
    });
    // Listed as lacking a key but left out of the device list: hidden, so nothing.
    expect(mayReceiveKeys(t, uuid(), bob.userId, good.publicKey)).toMatchObject({ ok: false, reason: expect.stringMatching(/hidden/) });
    // The certified device's id with another key (substituted by the server) gets nothing.
    const other = encodeBase64((await generateX25519KeyPair()).publicKey);
    expect(mayReceiveKeys(t, good.deviceId, bob.userId, other)).toMatchObject({ ok: false });
  });
});
