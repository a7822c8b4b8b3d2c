import { describe, expect, test } from "@jest/globals";
import { decodeBase64, encodeBase64, toHex, utf8Encode } from "./bytes.js";
import { CryptoError } from "./errors.js";
import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  generateSymmetricKey,
  generateX25519KeyPair,
  hkdfSha256,
  hmacSha256,
  publicKeyFromBase64,
  publicKeyToBase64,
  randomBytes,
  x25519,
  x25519PublicKey,
} from "./primitives.js";
import { hex, queueRng } from "../../test/support/crypto-vectors.js";

const range = (from: number, to: number): Uint8Array => Uint8Array.from({ length: to - from }, (_, i) => from + i);

describe("X25519 (RFC 7748)", () => {
  test.each([
    {
      name: "§5.2 vector 1",
      scalar: "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
      u: "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
      out: "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
    },
    {
      // The input u has its top bit set: X25519 must ignore it.
      name: "§5.2 vector 2",
      scalar: "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
      u: "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
      out: "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
    },
  ])("$name", async ({ scalar, u, out }) => {
    expect(toHex(await x25519(hex(scalar), hex(u)))).toBe(out);
  });

  test("§5.2 iterated: 1 and 1000 iterations", async () => {
    let k = hex("0900000000000000000000000000000000000000000000000000000000000000");
    let u = k;
    for (let i = 1; i <= 1000; i++) {
      [k, u] = [await x25519(k, u), k];
      if (i === 1) expect(toHex(k)).toBe("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
    expect(toHex(k)).toBe("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
  });

  test("§6.1 Diffie-Hellman", async () => {
    const alicePriv = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const bobPriv = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    const alicePub = await x25519PublicKey(alicePriv);
    const bobPub = await x25519PublicKey(bobPriv);
    expect(toHex(alicePub)).toBe("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    expect(toHex(bobPub)).toBe("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    const k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    expect(toHex(await x25519(alicePriv, bobPub))).toBe(k);
    expect(toHex(await x25519(bobPriv, alicePub))).toBe(k);
  });

  // Points of small order give the all-zero secret (RFC 7748 §6.1 "check"): refused.
  test.each([
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  ])("low-order public key %s is refused", async (u) => {
    const { privateKey } = await generateX25519KeyPair();
    await expect(x25519(privateKey, hex(u))).rejects.toMatchObject({
      name: "CryptoError",
      code: "invalid-public-key",
      message: "x25519: public key is invalid or of low order",
    });
  });

  test("wrong key lengths are refused", async () => {
    const { privateKey, publicKey } = await generateX25519KeyPair();
    await expect(x25519(privateKey.subarray(1), publicKey)).rejects.toMatchObject({ code: "invalid-input" });
    await expect(x25519(privateKey, publicKey.subarray(1))).rejects.toMatchObject({ code: "invalid-input" });
  });

  test("random key pairs agree and are distinct", async () => {
    const a = await generateX25519KeyPair();
    const b = await generateX25519KeyPair();
    expect(a.publicKey).not.toEqual(b.publicKey);
    expect(await x25519(a.privateKey, b.publicKey)).toEqual(await x25519(b.privateKey, a.publicKey));
    expect(await x25519PublicKey(a.privateKey)).toEqual(a.publicKey);
  });

  test("an injected rng gives the private key", async () => {
    const priv = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const pair = await generateX25519KeyPair(queueRng(priv));
    expect(pair.privateKey).toEqual(priv);
    expect(toHex(pair.publicKey)).toBe("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  });

  test("public keys travel as base64 of 32 bytes", async () => {
    const { publicKey } = await generateX25519KeyPair();
    const text = publicKeyToBase64(publicKey);
    expect(text).toHaveLength(44);
    expect(publicKeyFromBase64(text)).toEqual(publicKey);
    expect(() => publicKeyFromBase64(encodeBase64(new Uint8Array(31)))).toThrow(CryptoError);
    expect(() => publicKeyFromBase64(text.slice(0, -1))).toThrow("publicKeyFromBase64: not canonical base64");
  });
});

describe("HKDF-SHA256 (RFC 5869)", () => {
  test.each([
    {
      name: "test case 1",
      ikm: hex("0b".repeat(22)),
      salt: range(0x00, 0x0d),
      info: range(0xf0, 0xfa),
      length: 42,
      okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    },
    {
      name: "test case 2 (long inputs)",
      ikm: range(0x00, 0x50),
      salt: range(0x60, 0xb0),
      info: range(0xb0, 0x100),
      length: 82,
      okm:
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09" +
        "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
    },
    {
      name: "test case 3 (empty salt and info)",
      ikm: hex("0b".repeat(22)),
      salt: new Uint8Array(0),
      info: new Uint8Array(0),
      length: 42,
      okm: "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    },
  ])("$name", async ({ ikm, salt, info, length, okm }) => {
    expect(toHex(await hkdfSha256(ikm, salt, info, length))).toBe(okm);
  });
});

describe("AES-256-GCM (GCM spec test cases 13-16)", () => {
  const k15 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
  const p15 =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
  const c15 =
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";
  const cases = [
    { name: "13", key: "00".repeat(32), iv: "00".repeat(12), pt: "", aad: "", ct: "", tag: "530f8afbc74536b9a963b4f1c4cb738b" },
    {
      name: "14",
      key: "00".repeat(32),
      iv: "00".repeat(12),
      pt: "00".repeat(16),
      aad: "",
      ct: "cea7403d4d606b6e074ec5d3baf39d18",
      tag: "d0d1c8a799996bf0265b98b5d48ab919",
    },
    { name: "15", key: k15, iv: "cafebabefacedbaddecaf888", pt: p15, aad: "", ct: c15, tag: "b094dac5d93471bdec1a502270e3cc6c" },
    {
      name: "16 (with AAD)",
      key: k15,
      iv: "cafebabefacedbaddecaf888",
      pt: p15.slice(0, 120),
      aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
      ct: c15.slice(0, 120),
      tag: "76fc6ece0f4e1768cddf8853bb2d551b",
    },
  ];

  test.each(cases)("test case $name encrypts", async ({ key, iv, pt, aad, ct, tag }) => {
    expect(toHex(await aesGcmEncrypt(hex(key), hex(iv), hex(pt), hex(aad)))).toBe(ct + tag);
  });

  test.each(cases)("test case $name decrypts, and fails with a flipped tag or AAD", async ({ key, iv, pt, aad, ct, tag }) => {
    expect(toHex(await aesGcmDecrypt(hex(key), hex(iv), hex(ct + tag), hex(aad)))).toBe(pt);
    const badTag = hex(ct + tag);
    badTag[badTag.length - 1]! ^= 1;
    await expect(aesGcmDecrypt(hex(key), hex(iv), badTag, hex(aad))).rejects.toMatchObject({
      code: "decrypt-failed",
      message: "aesGcmDecrypt: authentication failed",
    });
    await expect(aesGcmDecrypt(hex(key), hex(iv), hex(ct + tag), utf8Encode("x"))).rejects.toMatchObject({
      code: "decrypt-failed",
    });
  });

  test("round trip with random key and nonce; wrong key fails", async () => {
    const key = generateSymmetricKey();
    const nonce = randomBytes(12);
    const aad = utf8Encode("context");
    const plaintext = randomBytes(1000);
    const sealed = await aesGcmEncrypt(key, nonce, plaintext, aad);
    expect(sealed).toHaveLength(1016);
    expect(await aesGcmDecrypt(key, nonce, sealed, aad)).toEqual(plaintext);
    await expect(aesGcmDecrypt(generateSymmetricKey(), nonce, sealed, aad)).rejects.toMatchObject({
      code: "decrypt-failed",
    });
  });

  test("key, nonce and ciphertext lengths are checked", async () => {
    const aad = new Uint8Array(0);
    await expect(aesGcmEncrypt(new Uint8Array(16), new Uint8Array(12), aad, aad)).rejects.toThrow("aesGcmEncrypt: key must be 32 bytes");
    await expect(aesGcmEncrypt(new Uint8Array(32), new Uint8Array(16), aad, aad)).rejects.toThrow("aesGcmEncrypt: nonce must be 12 bytes");
    await expect(aesGcmDecrypt(new Uint8Array(32), new Uint8Array(12), new Uint8Array(15), aad)).rejects.toMatchObject({
      code: "malformed",
    });
  });
});

describe("Ed25519 (RFC 8032 §7.1)", () => {
  const cases = [
    {
      name: "TEST 1 (empty message)",
      seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      pub: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
      msg: "",
      sig:
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155" +
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    },
    {
      name: "TEST 2 (one byte)",
      seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
      pub: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
      msg: "72",
      sig:
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    },
    {
      name: "TEST 3 (two bytes)",
      seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
      pub: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
      msg: "af82",
      sig:
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac" +
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    },
  ];

  test.each(cases)("$name: public key, signature, verification", async ({ seed, pub, msg, sig }) => {
    expect(toHex(await ed25519PublicKey(hex(seed)))).toBe(pub);
    expect(toHex(await ed25519Sign(hex(seed), hex(msg)))).toBe(sig);
    expect(await ed25519Verify(hex(pub), hex(msg), hex(sig))).toBe(true);
  });

  const withOtherKey = cases.map((c, i) => ({ ...c, otherPub: cases[(i + 1) % cases.length]!.pub }));
  test.each(withOtherKey)(
    "$name: another message, key or any flipped signature bit does not verify",
    async ({ pub, otherPub, msg, sig }) => {
      expect(await ed25519Verify(hex(pub), hex(`${msg}00`), hex(sig))).toBe(false);
      expect(await ed25519Verify(hex(otherPub), hex(msg), hex(sig))).toBe(false);
      for (let byte = 0; byte < 64; byte++) {
        for (let bit = 0; bit < 8; bit++) {
          const bad = hex(sig);
          bad[byte]! ^= 1 << bit;
          expect(await ed25519Verify(hex(pub), hex(msg), bad)).toBe(false);
        }
      }
    },
  );

  test("S + L (a malleated signature, RFC 8032 §5.1.7) does not verify", async () => {
    const { pub, msg, sig } = cases[0]!;
    const bad = hex(sig);
    // L = 2^252 + 27742317777372353535851937790883648493, little-endian as S is.
    const l = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const sum = bad[32 + i]! + l[i]! + carry;
      bad[32 + i] = sum & 0xff;
      carry = sum >> 8;
    }
    expect(carry).toBe(0);
    expect(await ed25519Verify(hex(pub), hex(msg), bad)).toBe(false);
  });

  test("malformed signatures and keys: false for what comes from the network, errors for lengths we pass", async () => {
    const { seed, pub, msg, sig } = cases[1]!;
    expect(await ed25519Verify(hex(pub), hex(msg), hex(sig).subarray(0, 63))).toBe(false);
    expect(await ed25519Verify(hex(pub), hex(msg), hex(`${sig}00`))).toBe(false);
    expect(await ed25519Verify(hex(pub), hex(msg), new Uint8Array(64))).toBe(false);
    // Not a point on the curve (y = 2^255 - 1 is not reduced).
    expect(await ed25519Verify(hex("ff".repeat(32)), hex(msg), hex(sig))).toBe(false);
    await expect(ed25519Verify(hex(pub).subarray(1), hex(msg), hex(sig))).rejects.toThrow("ed25519Verify: public key must be 32 bytes");
    await expect(ed25519Sign(hex(seed).subarray(1), hex(msg))).rejects.toThrow("ed25519Sign: private key (seed) must be 32 bytes");
    await expect(ed25519PublicKey(new Uint8Array(33))).rejects.toThrow("ed25519PublicKey: private key (seed) must be 32 bytes");
  });
});

describe("HMAC-SHA256 (RFC 4231)", () => {
  test.each([
    {
      name: "test case 2 (key shorter than the block)",
      key: utf8Encode("Jefe"),
      data: utf8Encode("what do ya want for nothing?"),
      mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    },
  ])("$name", async ({ key, data, mac }) => {
    expect(toHex(await hmacSha256(key, data))).toBe(mac);
  });

  test("an empty key is refused", async () => {
    await expect(hmacSha256(new Uint8Array(0), new Uint8Array(1))).rejects.toThrow("hmacSha256: key must not be empty");
  });
});

describe("randomness", () => {
  test("randomBytes gives fresh bytes of the requested length, also above 64 KiB", () => {
    expect(randomBytes(32)).not.toEqual(randomBytes(32));
    expect(randomBytes(0)).toHaveLength(0);
    const big = randomBytes(70000);
    expect(big).toHaveLength(70000);
    expect(big.subarray(66000, 66032)).not.toEqual(new Uint8Array(32));
  });

  test("an injected rng must return exactly the requested length", () => {
    expect(() => randomBytes(12, () => new Uint8Array(11))).toThrow("randomBytes: rng output must be 12 bytes");
  });

  test("base64 helpers round trip", () => {
    const bytes = randomBytes(33);
    expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
  });
});
