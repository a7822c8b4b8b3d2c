// client/crypto's parsers: the sealed field, the key envelope, the keystore file.
import fc from "fast-check";
import {
  CryptoError,
  generateSymmetricKey,
  generateX25519KeyPair,
  openEnvelope,
  openField,
  parseKeystoreFile,
  sealEnvelope,
  sealField,
  type EnvelopeContext,
  type SealContext,
} from "../../../client/crypto/index.js";
import { b64, mutatedBytes, mutatedText } from "../mutate.js";
import { defineTarget, expectRefusal, FuzzFinding, type FuzzTarget } from "../target.js";

const CHANNEL = "9d3b3e62-6a5b-4b8e-9a51-7b2f0c1d2e3f";
const MESSAGE = "1c0c2a4e-8f1e-4f7a-b0d5-2a9e6c3b4d5e";
const USER = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d";
const DEVICE_A = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
const DEVICE_B = "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d";

export async function cryptoTargets(): Promise<FuzzTarget[]> {
  const key = { epoch: 3, key: generateSymmetricKey() };
  const context: SealContext = { purpose: "msg-body", channelId: CHANNEL, messageId: MESSAGE, senderUserId: USER };
  const plaintext = new TextEncoder().encode("hello, fuzzer");
  const sealed = await sealField(key, context, plaintext);
  const sealedBytes = new Uint8Array(Buffer.from(sealed, "base64"));

  const sender = await generateX25519KeyPair();
  const recipient = await generateX25519KeyPair();
  const envContext: EnvelopeContext = {
    kind: "channel",
    channelId: CHANNEL,
    epoch: 3,
    senderDeviceId: DEVICE_A,
    recipientDeviceId: DEVICE_B,
  };
  const shared = generateSymmetricKey();
  const envelope = await sealEnvelope({
    senderPrivateKey: sender.privateKey,
    recipientPublicKey: recipient.publicKey,
    context: envContext,
    key: shared,
  });
  const envelopeBytes = new Uint8Array(Buffer.from(envelope, "base64"));

  const keystoreFile = JSON.stringify({
    version: 1,
    kdf: { name: "scrypt", N: 32768, r: 8, p: 1, salt: b64(new Uint8Array(16)) },
    nonce: b64(new Uint8Array(12)),
    ciphertext: b64(new Uint8Array(48)),
  });

  return [
    defineTarget({
      name: "sealed-field",
      about: "openField on mutated sealed fields and arbitrary text",
      input: fc.oneof(mutatedBytes(sealedBytes).map(b64), mutatedText(sealed)),
      async check(input) {
        let opened: Uint8Array;
        try {
          opened = await openField(key, context, input);
        } catch (err) {
          expectRefusal(err, [CryptoError], "openField");
          return;
        }
        // Only the genuine field opens (base64 is canonical: one text per byte string).
        if (input !== sealed || Buffer.compare(opened, plaintext) !== 0)
          throw new FuzzFinding(`openField accepted a changed field: ${input}`);
      },
    }),
    defineTarget({
      name: "envelope",
      about: "openEnvelope on mutated envelopes and arbitrary text",
      input: fc.oneof(mutatedBytes(envelopeBytes).map(b64), mutatedText(envelope)),
      async check(input) {
        let opened: Uint8Array;
        try {
          opened = await openEnvelope({
            recipientPrivateKey: recipient.privateKey,
            senderPublicKey: sender.publicKey,
            context: envContext,
            envelope: input,
          });
        } catch (err) {
          expectRefusal(err, [CryptoError], "openEnvelope");
          return;
        }
        if (input !== envelope || Buffer.compare(opened, shared) !== 0)
          throw new FuzzFinding(`openEnvelope accepted a changed envelope: ${input}`);
      },
    }),
    defineTarget({
      name: "keystore-file",
      about: "parseKeystoreFile on mutated keystore files and arbitrary JSON",
      input: fc.oneof(
        mutatedText(keystoreFile),
        fc.json(),
        fc.jsonValue().map((v) => JSON.stringify({ ...JSON.parse(keystoreFile), kdf: v })),
      ),
      check(input) {
        try {
          const file = parseKeystoreFile(input);
          // Accepted: exactly the fields the format has, of the right types.
          if (
            file.version !== 1 ||
            typeof file.nonce !== "string" ||
            typeof file.ciphertext !== "string" ||
            typeof file.kdf.salt !== "string"
          ) {
            throw new FuzzFinding(`parseKeystoreFile accepted ${input}`);
          }
        } catch (err) {
          if (err instanceof FuzzFinding) throw err;
          expectRefusal(err, [CryptoError], "parseKeystoreFile");
        }
      },
    }),
  ];
}
