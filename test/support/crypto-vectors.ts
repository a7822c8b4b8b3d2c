// Helpers shared by the *.test.ts files of client/crypto; pure like that module: the tests read
// vectors.json and hand the text to parseVectors.
import { decodeBase64, encodeBase64, fromHex, type Rng } from "../../client/crypto/index.js";

/** An Rng that hands out the given chunks in order and insists on the requested lengths. */
export function queueRng(...chunks: Uint8Array[]): Rng {
  const queue = [...chunks];
  return (length) => {
    const next = queue.shift();
    if (next === undefined || next.length !== length) {
      throw new Error(`queueRng: asked for ${length} bytes, queued ${next?.length ?? "nothing"}`);
    }
    return next;
  };
}

/** The base64 text with one bit of its decoded bytes flipped. */
export function flipBit(text: string, byteIndex: number, bit: number): string {
  const bytes = decodeBase64(text);
  bytes[byteIndex]! ^= 1 << bit;
  return encodeBase64(bytes);
}

export const hex = (text: string): Uint8Array => fromHex(text);
export const b64 = (text: string): Uint8Array => decodeBase64(text);

/** The shape gen_vectors.py writes. */
/** One MessageContent vector (ENCRYPTION.md §11): the content as the generator describes it. */
export interface ContentVector {
  content: { text: string; sentAt?: [number, number]; mentionUserIds?: string[]; relation?: ["reply" | "edit" | "reaction", string] };
  plaintext: string;
  context: Record<string, string>;
  epoch: number;
  key: string;
  nonce: string;
  aad: string;
  sealed: string;
}

/** The search cache's vectors (ENCRYPTION.md §13): records as the generator writes them. */
export interface SearchCacheVectors {
  seed: number;
  serverOrigin: string;
  userId: string;
  key: string;
  keyId: string;
  segments: Array<{
    segmentName: string;
    records: Array<Record<string, string | number>>;
    nonce: string;
    aad: string;
    plaintext: string;
    segment: string;
  }>;
}

export interface TypingVector {
  notice: { typing: boolean; sentAt: [number, number] };
  plaintext: string;
  context: Record<string, string>;
  epoch: number;
  key: string;
  nonce: string;
  aad: string;
  sealed: string;
}

export interface Vectors {
  messageContent: { seed: number; cases: ContentVector[] };
  searchCache: SearchCacheVectors;
  typingNotice: { seed: number; cases: TypingVector[] };
  sealed: Array<{
    context: Record<string, string>;
    epoch: number;
    key: string;
    nonce: string;
    plaintext: string;
    aad: string;
    sealed: string;
  }>;
  envelope: Array<{
    context: Record<string, string | number>;
    senderPrivateKey: string;
    senderPublicKey: string;
    recipientPrivateKey: string;
    recipientPublicKey: string;
    key: string;
    salt: string;
    nonce: string;
    sharedSecret: string;
    kek: string;
    aad: string;
    envelope: string;
  }>;
  keystore: {
    serverOrigin: string;
    passphrase: string;
    salt: string;
    nonce: string;
    fileKey: string;
    plaintext: string;
    aad: string;
    file: string;
  };
  safetyNumber: Array<{
    a: { userId: string; devicePublicKeys: string[] };
    b: { userId: string; devicePublicKeys: string[] };
    fingerprintA: string;
    fingerprintB: string;
    safetyNumber: string;
  }>;
  deviceFingerprint: Array<{ publicKey: string; fingerprint: string }>;
  signedIdentities: SignedIdentityVectors;
}

/** The vectors of ENCRYPTION.md §10 (drawn from their own seed); bytes are standard base64. */
export interface SignedIdentityVectors {
  seed: number;
  statements: Array<{
    signerSeed: string;
    signerPublicKey: string;
    /** The statement's fields as in TypeScript, with byte fields in base64. */
    statement: Record<string, string | number>;
    text: string;
    signature: string;
    /** For key statements: the key whose SHA-256 is keyHash. */
    key?: string;
  }>;
  identityFingerprint: Array<{ publicKey: string; fingerprint: string; formatted: string }>;
  admissionMac: { admissionSecret: string; userId: string; identityPublicKey: string; text: string; mac: string };
  inviteCode: { serverToken: string; admissionSecret: string; rootPublicKey: string; rootFingerprint: string; code: string };
  recoveryCode: { bytes: string; code: string; messy: string };
  keyBackup: {
    userId: string;
    codeBytes: string;
    backupKey: string;
    identity: string;
    /** [channel id, epoch, key] in the (unsorted) order they were added. */
    channelKeys: Array<[string, number, string]>;
    directoryKeys: Array<[number, string]>;
    document: string;
    /** version is a decimal u64. */
    sealed: Array<{ version: string; nonce: string; aad: string; sealed: string }>;
  };
  envelope: Vectors["envelope"];
  identitySafetyNumber: Array<{
    a: { userId: string; identityPublicKey: string };
    b: { userId: string; identityPublicKey: string };
    fingerprintA: string;
    fingerprintB: string;
    safetyNumber: string;
  }>;
}

export function parseVectors(text: string): Vectors {
  return JSON.parse(text) as Vectors;
}

/** Every (byte, bit) of a byte range: the exhaustive set for single-bit tamper tests. */
export function* bitsIn(start: number, end: number): Generator<[number, number]> {
  for (let byte = start; byte < end; byte++) for (let bit = 0; bit < 8; bit++) yield [byte, bit];
}
