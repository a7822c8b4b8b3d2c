// An admin's client admits whom its invites vouch for, including invites another process of the
// same config dir minted after this one loaded the keystore (`dialtone invite` while `tail` runs).
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { AdmissionRequestSchema, AdmissionRole, AdmissionSchema, IdentitySchema } from "../../gen/dialtone/v1/identity_pb.js";
import {
  admissionMac,
  encodeBase64,
  generateIdentityKeyPair,
  generateSymmetricKey,
  identityFingerprint,
  signStatement,
  verifyStatement,
} from "../crypto/index.js";
import { runAdminDuties, type AdmissionDeps } from "./admissions.js";
import { KeystoreStore } from "./store.js";
import { evaluateTrust } from "./trust.js";

const SERVER = "http://chat.example:8080";
const PASS = "keystore passphrase";
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "dialtone-admissions-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test("a running admin client admits a member invited by another process of its config dir, and no one else", async () => {
  const root = { userId: "00000000-0000-4000-8000-000000000001", identity: await generateIdentityKeyPair() };
  const { store: running } = await KeystoreStore.openOrCreate(dir, SERVER, PASS);
  running.keystore.setIdentity(root.identity);
  await running.save();

  // `dialtone invite` in another process, after the running client loaded the keystore.
  const minting = await KeystoreStore.open(dir, SERVER, PASS);
  const secret = generateSymmetricKey();
  minting.keystore.addInviteSecret("invite-1", secret);
  await minting.save();
  expect(running.keystore.inviteSecret("invite-1")).toBeUndefined();

  const request = async (userId: string, key: Uint8Array, macSecret: Uint8Array) =>
    create(AdmissionRequestSchema, { inviteId: "invite-1", mac: encodeBase64(await admissionMac(macSecret, userId, key)) });
  const [dave, mallory] = await Promise.all([generateIdentityKeyPair(), generateIdentityKeyPair()]);
  const daveId = "00000000-0000-4000-8000-000000000002";
  const malloryId = "00000000-0000-4000-8000-000000000003";
  const identities = [
    create(IdentitySchema, {
      userId: root.userId,
      publicKey: encodeBase64(root.identity.publicKey),
      admissions: [
        create(AdmissionSchema, {
          userId: root.userId,
          identityPublicKey: encodeBase64(root.identity.publicKey),
          role: AdmissionRole.ADMIN,
          signerUserId: root.userId,
          signature: await signStatement(root.identity.privateKey, {
            kind: "admission",
            userId: root.userId,
            identityPublicKey: root.identity.publicKey,
            role: "admin",
          }),
        }),
      ],
    }),
    create(IdentitySchema, {
      userId: daveId,
      publicKey: encodeBase64(dave.publicKey),
      admissionRequest: await request(daveId, dave.publicKey, secret),
    }),
    // Names the same invite without holding its secret.
    create(IdentitySchema, {
      userId: malloryId,
      publicKey: encodeBase64(mallory.publicKey),
      admissionRequest: await request(malloryId, mallory.publicKey, generateSymmetricKey()),
    }),
  ];
  const trust = await evaluateTrust({ identities, devices: [], pinnedRoot: await identityFingerprint(root.identity.publicKey) });
  const admitted: { userId: string; signature: string }[] = [];
  const api = {
    identity: { admit: async (req: { userId: string; signature: string }) => void admitted.push(req) },
    admin: {},
  } as unknown as AdmissionDeps["api"];

  const report = await runAdminDuties({ api, store: running, me: { userId: root.userId } }, trust, identities);
  expect(report.admitted).toEqual([{ userId: daveId, role: "member", why: "invite" }]);
  expect(admitted.map((a) => a.userId)).toEqual([daveId]);
  expect(
    await verifyStatement(
      root.identity.publicKey,
      { kind: "admission", userId: daveId, identityPublicKey: dave.publicKey, role: "member" },
      admitted[0]!.signature,
    ),
  ).toBe(true);
});
