#!/usr/bin/env python3
# Writes client/crypto/vectors.json, which is generated, do not edit: change this script and rerun it.
#
# Independent implementation of the formats of DESIGN §5 / docs/ENCRYPTION.md with Python's
# `cryptography` (X25519, HKDF, AESGCM) and hashlib (scrypt, SHA-2); the TypeScript tests must
# open these vectors and reproduce them byte for byte from the same keys, nonces and salts.
# Every input comes from random.Random(SEED), so a rerun gives the identical file:
#
#     python3 client/crypto/gen_vectors.py > client/crypto/vectors.json
import base64
import hashlib
import json
import random
import struct
import sys
import unicodedata
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEED = 20240611
rnd = random.Random(SEED)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def new_uuid() -> str:
    return str(uuid.UUID(bytes=rnd.randbytes(16), version=4))


def keypair() -> tuple[bytes, bytes]:
    private = rnd.randbytes(32)
    public = X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()
    return private, public


# --- sealed fields -------------------------------------------------------------------------

SEALED_FIELDS = {
    "msg-body": ["channelId", "messageId", "senderUserId"],
    "msg-sender": ["channelId", "messageId", "senderUserId"],
    "channel-name": ["channelId"],
    "profile-name": ["userId"],
    "voice-signal": ["channelId", "senderDeviceId", "recipientDeviceId"],
}


def sealed_aad(context: dict) -> str:
    fields = [context[name] for name in SEALED_FIELDS[context["purpose"]]]
    return "|".join(["dialtone/v1/" + context["purpose"], *fields])


def seal(key: bytes, epoch: int, nonce: bytes, context: dict, plaintext: bytes) -> str:
    aad = sealed_aad(context).encode("utf-8")
    header = b"\x01" + struct.pack(">I", epoch) + nonce
    return b64(header + AESGCM(key).encrypt(nonce, plaintext, aad))


def sealed_vectors() -> list:
    channel = new_uuid()
    message = new_uuid()
    sender = new_uuid()
    cases = [
        ({"purpose": "msg-body", "channelId": channel, "messageId": message, "senderUserId": sender},
         1, "Hello, Dialtone! Grüße 👋\nsecond line"),
        ({"purpose": "msg-sender", "channelId": channel, "messageId": message, "senderUserId": sender},
         1, "alice"),
        ({"purpose": "channel-name", "channelId": channel}, 3, "general"),
        ({"purpose": "profile-name", "userId": sender}, 0x01020304, "Alice Ünicode"),
        ({"purpose": "voice-signal", "channelId": channel, "senderDeviceId": new_uuid(),
          "recipientDeviceId": new_uuid()},
         4294967295, '{"type":"offer","sdp":"v=0\\r\\n"}'),
    ]
    out = []
    for context, epoch, text in cases:
        key = rnd.randbytes(32)
        nonce = rnd.randbytes(12)
        out.append({
            "context": context,
            "epoch": epoch,
            "key": b64(key),
            "nonce": b64(nonce),
            "plaintext": text,
            "aad": sealed_aad(context),
            "sealed": seal(key, epoch, nonce, context, text.encode("utf-8")),
        })
    return out


# --- envelopes -----------------------------------------------------------------------------

def envelope_aad(context: dict) -> str:
    scope = context["channelId"] if context["kind"] == "channel" else "directory"
    return "|".join(["dialtone/v1/envelope", context["kind"], scope, str(context["epoch"]),
                     context["senderDeviceId"], context["recipientDeviceId"]])


def envelope_vectors() -> list:
    out = []
    for kind, epoch in (("channel", 1), ("directory", 2)):
        sender_private, sender_public = keypair()
        recipient_private, recipient_public = keypair()
        context = {"kind": kind}
        if kind == "channel":
            context["channelId"] = new_uuid()
        context.update({"epoch": epoch, "senderDeviceId": new_uuid(), "recipientDeviceId": new_uuid()})
        key = rnd.randbytes(32)
        salt = rnd.randbytes(32)
        nonce = rnd.randbytes(12)
        shared = X25519PrivateKey.from_private_bytes(sender_private).exchange(
            X25519PublicKey.from_public_bytes(recipient_public))
        kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                   info=b"dialtone/v1/envelope").derive(shared)
        aad = envelope_aad(context)
        ct = AESGCM(kek).encrypt(nonce, key, aad.encode("utf-8"))
        out.append({
            "context": context,
            "senderPrivateKey": b64(sender_private),
            "senderPublicKey": b64(sender_public),
            "recipientPrivateKey": b64(recipient_private),
            "recipientPublicKey": b64(recipient_public),
            "key": b64(key),
            "salt": b64(salt),
            "nonce": b64(nonce),
            "sharedSecret": b64(shared),
            "kek": b64(kek),
            "aad": aad,
            "envelope": b64(b"\x01" + salt + nonce + ct),
        })
    return out


# --- keystore file -------------------------------------------------------------------------

def keystore_vector() -> dict:
    origin = "https://chat.example.org:8443"
    # Decomposed "é" (e + U+0301): the format normalises the passphrase to NFC first.
    passphrase = "correct horse battery staple e\u0301"
    salt = rnd.randbytes(16)
    nonce = rnd.randbytes(12)
    plaintext = json.dumps({"version": 1, "example": "inner keystore document"}, separators=(",", ":"))
    key = hashlib.scrypt(unicodedata.normalize("NFC", passphrase).encode("utf-8"), salt=salt,
                         n=32768, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32)
    ct = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"),
                             ("dialtone/v1/keystore|" + origin).encode("utf-8"))
    document = {
        "version": 1,
        "kdf": {"name": "scrypt", "N": 32768, "r": 8, "p": 1, "salt": b64(salt)},
        "nonce": b64(nonce),
        "ciphertext": b64(ct),
    }
    return {
        "serverOrigin": origin,
        "passphrase": passphrase,
        "salt": b64(salt),
        "nonce": b64(nonce),
        "fileKey": b64(key),
        "plaintext": plaintext,
        "aad": "dialtone/v1/keystore|" + origin,
        "file": json.dumps(document, separators=(",", ":")),
    }


# --- safety numbers ------------------------------------------------------------------------

def fingerprint(user_id: str, keys: list[bytes]) -> str:
    logical = b"".join(sorted(set(keys)))
    digest = struct.pack(">H", 0) + logical + user_id.encode("utf-8")
    for _ in range(5200):
        digest = hashlib.sha512(digest + logical).digest()
    return "".join(f"{int.from_bytes(digest[i:i + 5], 'big') % 100000:05d}" for i in range(0, 30, 5))


def safety_vectors() -> list:
    out = []
    for count_a, count_b in ((1, 1), (3, 2)):
        a = {"userId": new_uuid(), "devicePublicKeys": [keypair()[1] for _ in range(count_a)]}
        b = {"userId": new_uuid(), "devicePublicKeys": [keypair()[1] for _ in range(count_b)]}
        if count_b > 1:
            # A repeated key counts once: the number is over the set of keys.
            b["devicePublicKeys"].append(b["devicePublicKeys"][0])
        fa = fingerprint(a["userId"], a["devicePublicKeys"])
        fb = fingerprint(b["userId"], b["devicePublicKeys"])
        out.append({
            "a": {"userId": a["userId"], "devicePublicKeys": [b64(k) for k in a["devicePublicKeys"]]},
            "b": {"userId": b["userId"], "devicePublicKeys": [b64(k) for k in b["devicePublicKeys"]]},
            "fingerprintA": fa,
            "fingerprintB": fb,
            "safetyNumber": fa + fb if fa <= fb else fb + fa,
        })
    return out


def device_fingerprint_vectors() -> list:
    out = []
    for _ in range(2):
        public = keypair()[1]
        digest = hashlib.sha256(b"dialtone/v1/device-fingerprint|" + public).digest()[:10].hex()
        out.append({"publicKey": b64(public),
                    "fingerprint": " ".join(digest[i:i + 4] for i in range(0, 20, 4))})
    return out


def main() -> None:
    vectors = {
        "_comment": "generated by client/crypto/gen_vectors.py, do not edit",
        "seed": SEED,
        "sealed": sealed_vectors(),
        "envelope": envelope_vectors(),
        "keystore": keystore_vector(),
        "safetyNumber": safety_vectors(),
        "deviceFingerprint": device_fingerprint_vectors(),
    }
    json.dump(vectors, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
