// Client crypto throughput (client/crypto, the code the terminal client runs), in its own
// process: seal + open of a message's two sealed fields, envelope builds and opens, and the
// same AES-256-GCM / X25519 straight on node:crypto for scale. Rates are per CPU second of
// this process (as `openssl speed` reports per CPU second), wall rates beside them.
import { createCipheriv, createDecipheriv, diffieHellman, generateKeyPairSync, randomBytes as nodeRandom } from "node:crypto";
import { randomUUID } from "node:crypto";
import {
  generateSymmetricKey,
  generateX25519KeyPair,
  openEnvelope,
  openField,
  sealEnvelope,
  sealField,
  type EnvelopeContext,
  type SealContext,
} from "../../client/crypto/index.js";
import { childOptions, emit, serve } from "../lib/proc.js";

interface CryptoOptions {
  seconds: number;
}
const o = childOptions<CryptoOptions>();

export interface Rate {
  ops: number;
  cpuS: number;
  wallS: number;
  perCpuS: number;
  perWallS: number;
  usPerOp: number;
}

async function measure(seconds: number, op: () => Promise<unknown> | unknown): Promise<Rate> {
  for (let i = 0; i < 200; i++) await op(); // warm up
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let ops = 0;
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 50; i++) await op();
    ops += 50;
  }
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpuS = (c.user + c.system) / 1e6;
  return { ops, cpuS, wallS, perCpuS: ops / cpuS, perWallS: ops / wallS, usPerOp: (cpuS * 1e6) / ops };
}

async function run() {
  const s = o.seconds ?? 2;
  const key = { epoch: 1, key: generateSymmetricKey() };
  const ids = { channelId: randomUUID(), messageId: randomUUID(), senderUserId: randomUUID() };
  const bodyCtx: SealContext = { purpose: "msg-body", ...ids };
  const nameCtx: SealContext = { purpose: "msg-sender", ...ids };
  const body = nodeRandom(267); // a 300-byte sealed field, as the fan-out bench sends
  const name = new TextEncoder().encode("Ada Lovelace");
  const sealedBody = await sealField(key, bodyCtx, body);
  const sealedName = await sealField(key, nameCtx, name);

  const sealOpenMessage = await measure(s, async () => {
    const b = await sealField(key, bodyCtx, body);
    const n = await sealField(key, nameCtx, name);
    await openField(key, bodyCtx, b);
    await openField(key, nameCtx, n);
  });
  const sealBody = await measure(s, () => sealField(key, bodyCtx, body));
  const openBody = await measure(s, () => openField(key, bodyCtx, sealedBody));
  void sealedName;

  const alice = await generateX25519KeyPair();
  const bob = await generateX25519KeyPair();
  const ctx: EnvelopeContext = {
    kind: "channel",
    channelId: ids.channelId,
    epoch: 1,
    senderDeviceId: randomUUID(),
    recipientDeviceId: randomUUID(),
  };
  const env = await sealEnvelope({ senderPrivateKey: alice.privateKey, recipientPublicKey: bob.publicKey, context: ctx, key: key.key });
  const envelopeSeal = await measure(s, () =>
    sealEnvelope({ senderPrivateKey: alice.privateKey, recipientPublicKey: bob.publicKey, context: ctx, key: key.key }),
  );
  const envelopeOpen = await measure(s, () =>
    openEnvelope({ recipientPrivateKey: bob.privateKey, senderPublicKey: alice.publicKey, context: ctx, envelope: env }),
  );

  // node:crypto straight: the floor under @peculiar/webcrypto in this process.
  const k = Buffer.from(key.key);
  const aad = Buffer.from("dialtone/v1/msg-body|x|y|z");
  const nodeGcm = await measure(s, () => {
    const iv = nodeRandom(12);
    const c = createCipheriv("aes-256-gcm", k, iv);
    c.setAAD(aad);
    const ct = Buffer.concat([c.update(body), c.final()]);
    const tag = c.getAuthTag();
    const d = createDecipheriv("aes-256-gcm", k, iv);
    d.setAAD(aad);
    d.setAuthTag(tag);
    Buffer.concat([d.update(ct), d.final()]);
  });
  const a = generateKeyPairSync("x25519");
  const b = generateKeyPairSync("x25519");
  const nodeX25519 = await measure(s, () => diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey }));
  return { sealOpenMessage, sealBody, openBody, envelopeSeal, envelopeOpen, nodeGcmSealOpen: nodeGcm, nodeX25519 };
}

serve({ run });
emit("ready");
