#!/usr/bin/env python3
# Writes client/crypto/vectors.json, which is generated, do not edit: change this script and rerun it.
#
# Independent implementation of the formats of DESIGN §5 / docs/ENCRYPTION.md with Python's
# `cryptography` (X25519, Ed25519, HKDF, AESGCM), hashlib (scrypt, SHA-2) and hmac; the TypeScript
# tests must open these vectors and reproduce them byte for byte from the same keys, nonces and
# salts. Every input comes from random.Random(SEED), and the signed identities' (§10) from their
# own random.Random(SEED2), message contents' (§11) from random.Random(SEED3), typing notices'
# (§12) from random.Random(SEED4) and the search cache's (§13) from random.Random(SEED5), so the
# older vectors stay byte-identical; a rerun gives the identical file:
#
#     python3 client/crypto/gen_vectors.py > client/crypto/vectors.json
import base64
import hashlib
import hmac
import json
import random
import struct
import sys
import unicodedata
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEED = 20240611
rnd = random.Random(SEED)
SEED2 = 20250301
rnd2 = random.Random(SEED2)
SEED3 = 20261202
rnd3 = random.Random(SEED3)
SEED4 = 20261203
rnd4 = random.Random(SEED4)
SEED5 = 20261215
rnd5 = random.Random(SEED5)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def new_uuid(r: random.Random = rnd) -> str:
    return str(uuid.UUID(bytes=r.randbytes(16), version=4))


def keypair(r: random.Random = rnd) -> tuple[bytes, bytes]:
    private = r.randbytes(32)
    public = X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()
    return private, public


# --- sealed fields -------------------------------------------------------------------------

SEALED_FIELDS = {
    "msg-body": ["channelId", "messageId", "senderUserId"],
    "msg-content": ["channelId", "messageId", "senderUserId"],
    "msg-sender": ["channelId", "messageId", "senderUserId"],
    "channel-name": ["channelId"],
    "profile-name": ["userId"],
    "voice-signal": ["channelId", "senderDeviceId", "recipientDeviceId"],
    "typing": ["channelId", "senderUserId", "senderDeviceId"],
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
    kind = context["kind"]
    # identity and backup envelopes: scope = the account's user id, epoch always 1.
    scope = context["channelId"] if kind == "channel" else "directory" if kind == "directory" else context["userId"]
    assert kind in ("channel", "directory") or context["epoch"] == 1
    return "|".join(["dialtone/v1/envelope", context["kind"], scope, str(context["epoch"]),
                     context["senderDeviceId"], context["recipientDeviceId"]])


def envelope_vector(r: random.Random, kind: str, scope, epoch: int, key: bytes | None = None) -> dict:
    """One envelope; `scope` is the scope fields, or a function drawing them after the key pairs."""
    sender_private, sender_public = keypair(r)
    recipient_private, recipient_public = keypair(r)
    context = {"kind": kind, **(scope() if callable(scope) else scope)}
    context.update({"epoch": epoch, "senderDeviceId": new_uuid(r), "recipientDeviceId": new_uuid(r)})
    if key is None:
        key = r.randbytes(32)
    salt = r.randbytes(32)
    nonce = r.randbytes(12)
    shared = X25519PrivateKey.from_private_bytes(sender_private).exchange(
        X25519PublicKey.from_public_bytes(recipient_public))
    kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
               info=b"dialtone/v1/envelope").derive(shared)
    aad = envelope_aad(context)
    ct = AESGCM(kek).encrypt(nonce, key, aad.encode("utf-8"))
    return {
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
    }


def envelope_vectors() -> list:
    return [envelope_vector(rnd, kind, (lambda: {"channelId": new_uuid()}) if kind == "channel" else {}, epoch)
            for kind, epoch in (("channel", 1), ("directory", 2))]


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


# --- signed identities (§10), all drawn from rnd2 ------------------------------------------

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def identity_keypair() -> tuple[bytes, bytes]:
    seed = rnd2.randbytes(32)
    return seed, Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def statement_text(s: dict) -> str:
    fields = {
        "device-cert": ["userId", "deviceId", "devicePublicKey"],
        "device-revoked": ["userId", "deviceId"],
        "admission": ["userId", "identityPublicKey", "role"],
        "removal": ["userId", "identityPublicKey"],
        "channel-key": ["channelId", "epoch", "keyHash"],
        "directory-key": ["epoch", "keyHash"],
    }[s["kind"]]
    values = [str(s[name]) for name in fields]
    assert all(v and "|" not in v for v in values)
    return "|".join(["dialtone/v1/" + s["kind"], *values])


def identity_fingerprint(public: bytes) -> bytes:
    return hashlib.sha256(b"dialtone/v1/identity-fingerprint|" + public).digest()


def short_fingerprint(fp: bytes) -> str:
    digits = fp[:10].hex()
    return " ".join(digits[i:i + 4] for i in range(0, 20, 4))


def identity_digits(user_id: str, public: bytes) -> str:
    digest = struct.pack(">H", 1) + public + user_id.encode("utf-8")
    for _ in range(5200):
        digest = hashlib.sha512(digest + public).digest()
    return "".join(f"{int.from_bytes(digest[i:i + 5], 'big') % 100000:05d}" for i in range(0, 30, 5))


def crockford(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    chars = "".join(CROCKFORD[(n >> (5 * (31 - i))) & 31] for i in range(32))
    return "-".join(chars[i:i + 4] for i in range(0, 32, 4))


def messy_spelling(code: str) -> str:
    # How a person might copy it: lower case, O/I/L for 0/1, spaces and a line break for dashes.
    zeros, ones = iter("Oo" * 16), iter("IlLi" * 8)
    out = "".join(next(zeros) if c == "0" else next(ones) if c == "1" else c.lower() for c in code)
    groups = out.split("-")
    return "  " + " ".join(groups[:4]) + "\n" + "--".join(groups[4:]) + " \t"


def signed_identity_vectors() -> dict:
    root_user, member_user = new_uuid(rnd2), new_uuid(rnd2)
    root_seed, root_public = identity_keypair()
    member_seed, member_public = identity_keypair()
    device_id = new_uuid(rnd2)
    device_public = keypair(rnd2)[1]
    channel_id = new_uuid(rnd2)
    channel_key, directory_key = rnd2.randbytes(32), rnd2.randbytes(32)
    signed = [
        (root_seed, {"kind": "admission", "userId": root_user, "identityPublicKey": b64(root_public), "role": "admin"}, None),
        (root_seed, {"kind": "admission", "userId": member_user, "identityPublicKey": b64(member_public), "role": "member"}, None),
        (member_seed, {"kind": "device-cert", "userId": member_user, "deviceId": device_id,
                       "devicePublicKey": b64(device_public)}, None),
        (member_seed, {"kind": "device-revoked", "userId": member_user, "deviceId": device_id}, None),
        (root_seed, {"kind": "removal", "userId": member_user, "identityPublicKey": b64(member_public)}, None),
        (member_seed, {"kind": "channel-key", "channelId": channel_id, "epoch": 12,
                       "keyHash": b64(hashlib.sha256(channel_key).digest())}, channel_key),
        (root_seed, {"kind": "directory-key", "epoch": 2147483647,
                     "keyHash": b64(hashlib.sha256(directory_key).digest())}, directory_key),
    ]
    statements = []
    for seed, statement, key in signed:
        private = Ed25519PrivateKey.from_private_bytes(seed)
        text = statement_text(statement)
        signature = private.sign(text.encode("utf-8"))
        private.public_key().verify(signature, text.encode("utf-8"))
        entry = {"signerSeed": b64(seed), "signerPublicKey": b64(private.public_key().public_bytes_raw()),
                 "statement": statement, "text": text, "signature": b64(signature)}
        if key is not None:
            entry["key"] = b64(key)
        statements.append(entry)

    fingerprints = [{"publicKey": b64(public), "fingerprint": b64(identity_fingerprint(public)),
                     "formatted": short_fingerprint(identity_fingerprint(public))}
                    for public in (root_public, member_public)]

    secret = rnd2.randbytes(32)
    mac_text = f"dialtone/v1/admission-request|{member_user}|{b64(member_public)}"
    admission_mac = {"admissionSecret": b64(secret), "userId": member_user, "identityPublicKey": b64(member_public),
                     "text": mac_text, "mac": b64(hmac.new(secret, mac_text.encode("utf-8"), hashlib.sha256).digest())}

    while True:
        token = b64url(rnd2.randbytes(32))
        if not token.startswith("-"):
            break
    invite = {"serverToken": token, "admissionSecret": b64(secret), "rootPublicKey": b64(root_public),
              "rootFingerprint": b64(identity_fingerprint(root_public)),
              "code": ".".join([token, b64url(secret), b64url(identity_fingerprint(root_public))])}

    # Draw until the code has two 0s and two 1s, so the messy spelling exercises O, o, I and l.
    while True:
        code_bytes = rnd2.randbytes(20)
        code = crockford(code_bytes)
        if code.count("0") >= 2 and code.count("1") >= 2:
            break
    recovery = {"bytes": b64(code_bytes), "code": code, "messy": messy_spelling(code)}

    backup_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes(32),
                      info=("dialtone/v1/key-backup|" + member_user).encode("utf-8")).derive(code_bytes)
    # Insertion order is deliberately unsorted; the two last ids sort differently by UTF-16 code
    # unit (the format's order: U+1F600 is D83D DE00) than by code point.
    channel_entries = [(channel_id, 10), ("\uff5e", 1), (channel_id, 2), ("\U0001f600", 1), (new_uuid(rnd2), 3),
                       (channel_id, 1)]
    channel_entries = [(cid, epoch, rnd2.randbytes(32)) for cid, epoch in channel_entries]
    directory_entries = [(4294967295, rnd2.randbytes(32)), (1, rnd2.randbytes(32))]
    channel_keys: dict = {}
    for cid in sorted({cid for cid, _, _ in channel_entries}, key=lambda c: c.encode("utf-16-be")):
        channel_keys[cid] = {str(e): b64(k) for e, k in sorted((e, k) for c, e, k in channel_entries if c == cid)}
    document = {"version": 1, "userId": member_user, "identity": b64(member_seed), "channelKeys": channel_keys,
                "directoryKeys": {str(e): b64(k) for e, k in sorted(directory_entries)}}
    document_text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    sealed = []
    for version in (1, 2**40 + 7):
        nonce = rnd2.randbytes(12)
        aad = f"dialtone/v1/key-backup|{member_user}|{version}"
        ct = AESGCM(backup_key).encrypt(nonce, document_text.encode("utf-8"), aad.encode("utf-8"))
        sealed.append({"version": str(version), "nonce": b64(nonce), "aad": aad, "sealed": b64(b"\x01" + nonce + ct)})
    key_backup = {
        "userId": member_user,
        "codeBytes": b64(code_bytes),
        "backupKey": b64(backup_key),
        "identity": b64(member_seed),
        "channelKeys": [[cid, epoch, b64(key)] for cid, epoch, key in channel_entries],
        "directoryKeys": [[epoch, b64(key)] for epoch, key in directory_entries],
        "document": document_text,
        "sealed": sealed,
    }

    envelopes = [envelope_vector(rnd2, "identity", {"userId": member_user}, 1, member_seed),
                 envelope_vector(rnd2, "backup", {"userId": member_user}, 1, backup_key)]

    safety = []
    other_user = new_uuid(rnd2)
    other_public = identity_keypair()[1]
    for (ua, pa), (ub, pb) in (((root_user, root_public), (member_user, member_public)),
                               ((member_user, member_public), (other_user, other_public))):
        fa, fb = identity_digits(ua, pa), identity_digits(ub, pb)
        safety.append({"a": {"userId": ua, "identityPublicKey": b64(pa)},
                       "b": {"userId": ub, "identityPublicKey": b64(pb)},
                       "fingerprintA": fa, "fingerprintB": fb,
                       "safetyNumber": fa + fb if fa <= fb else fb + fa})

    return {
        "seed": SEED2,
        "statements": statements,
        "identityFingerprint": fingerprints,
        "admissionMac": admission_mac,
        "inviteCode": invite,
        "recoveryCode": recovery,
        "keyBackup": key_backup,
        "envelope": envelopes,
        "identitySafetyNumber": safety,
    }


# --- message content (§11) ------------------------------------------------------------------

def varint(n: int) -> bytes:
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def pb_field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def pb_varint_field(number: int, value: int) -> bytes:
    """A varint field (wire type 0); proto3 leaves zeros out."""
    return varint(number << 3) + varint(value) if value else b""


RELATION_KINDS = {"reply": 1, "edit": 2, "reaction": 3}


def encode_content(c: dict) -> bytes:
    out = pb_field(1, c["text"].encode("utf-8")) if c["text"] else b""
    if "sentAt" in c:
        seconds, nanos = c["sentAt"]
        out += pb_field(2, pb_varint_field(1, seconds) + pb_varint_field(2, nanos))
    for user_id in c.get("mentionUserIds", []):
        out += pb_field(3, user_id.encode("utf-8"))
    if "relation" in c:
        kind, message_id = c["relation"]
        out += pb_field(4, pb_varint_field(1, RELATION_KINDS[kind]) + pb_field(2, message_id.encode("utf-8")))
    # Padding (field 15): zeros up to the smallest multiple of 256 that leaves a gap of at least
    # 3 bytes (tag, length, one zero) and not of exactly 130 (no one- or two-byte length fills it).
    total = 256
    while total - len(out) < 3 or total - len(out) == 130:
        total += 256
    gap = total - len(out)
    zeros = gap - 2 if gap - 2 <= 127 else gap - 3
    field = bytes([15 << 3 | 2]) + varint(zeros) + bytes(zeros)
    assert len(out) + len(field) == total
    return out + field


def message_content_vectors() -> list:
    channel, sender = new_uuid(rnd3), new_uuid(rnd3)
    target = new_uuid(rnd3)
    mentioned = new_uuid(rnd3)
    cases = [
        {"text": "hi"},
        {"text": "Grüße @bob, see you 👋", "sentAt": (1796208000, 123000000), "mentionUserIds": [mentioned]},
        {"text": "yes, the second one", "sentAt": (1796208061, 0), "relation": ("reply", target)},
        {"text": "fixed typo", "sentAt": (1796208122, 5), "relation": ("edit", target)},
        {"text": "👍", "sentAt": (1796208183, 999999999), "relation": ("reaction", target)},
        # 253 bytes before padding: a gap of 3, the padding holds one zero.
        {"text": "x" * 250},
        # 254 bytes: a gap of 2 is too small, so the content takes 512 bytes.
        {"text": "x" * 251},
        # 126 bytes: a gap of 130 cannot be filled, so 512 bytes again.
        {"text": "y" * 123},
        # 125 bytes: a gap of 131, filled by a padding of 128 zeros with a two-byte length.
        {"text": "y" * 122},
    ]
    out = []
    for c in cases:
        key = rnd3.randbytes(32)
        nonce = rnd3.randbytes(12)
        context = {"purpose": "msg-content", "channelId": channel, "messageId": new_uuid(rnd3), "senderUserId": sender}
        plaintext = encode_content(c)
        out.append({
            "content": {k: list(v) if isinstance(v, tuple) else v for k, v in c.items()},
            "plaintext": plaintext.hex(),
            "context": context,
            "epoch": 2,
            "key": b64(key),
            "nonce": b64(nonce),
            "aad": sealed_aad(context),
            "sealed": seal(key, 2, nonce, context, plaintext),
        })
    return out


def encode_typing(typing: bool, sent_at: tuple[int, int]) -> bytes:
    # TypingNotice: typing (field 1, omitted when false), sent_at (field 2, a Timestamp). No padding.
    seconds, nanos = sent_at
    out = pb_varint_field(1, 1) if typing else b""
    return out + pb_field(2, pb_varint_field(1, seconds) + pb_varint_field(2, nanos))


def typing_vectors() -> list:
    channel, sender, device = new_uuid(rnd4), new_uuid(rnd4), new_uuid(rnd4)
    out = []
    for typing, sent_at in [(True, (1796208000, 250000000)), (False, (1796208004, 0))]:
        key = rnd4.randbytes(32)
        nonce = rnd4.randbytes(12)
        context = {"purpose": "typing", "channelId": channel, "senderUserId": sender, "senderDeviceId": device}
        plaintext = encode_typing(typing, sent_at)
        out.append({
            "notice": {"typing": typing, "sentAt": list(sent_at)},
            "plaintext": plaintext.hex(),
            "context": context,
            "epoch": 3,
            "key": b64(key),
            "nonce": b64(nonce),
            "aad": sealed_aad(context),
            "sealed": seal(key, 3, nonce, context, plaintext),
        })
    return out


# --- search cache segments (§13) ------------------------------------------------------------

def search_record(r: dict) -> dict:
    if r["op"] == "remove":
        return {"op": "remove", "messageId": r["messageId"]}
    return {k: r[k] for k in ("op", "channelId", "messageId", "seq", "senderUserId", "time", "text")}


def search_cache_vectors() -> dict:
    origin = "https://chat.example.org:8443"
    user = new_uuid(rnd5)
    channels = [new_uuid(rnd5), new_uuid(rnd5)]
    sender = new_uuid(rnd5)
    key = rnd5.randbytes(32)
    key_id = hmac.new(key, b"dialtone/v1/search-cache-key-id", hashlib.sha256).digest()[:8]
    first = new_uuid(rnd5)
    segments = []
    cases = [
        ("0000019adf2a0c00a1b2c3d4-0000", [
            {"op": "put", "channelId": channels[0], "messageId": first, "seq": "1", "senderUserId": user,
             "time": 1796208000123, "text": "Grüße, the café opens at nine"},
            {"op": "put", "channelId": channels[1], "messageId": new_uuid(rnd5), "seq": "18446744073709551615",
             "senderUserId": sender, "time": 1796208061000, "text": "line one\nline \"two\" \\ tab\t 👋 \u0001"},
            {"op": "put", "channelId": channels[1], "messageId": new_uuid(rnd5), "seq": "0", "senderUserId": sender,
             "time": 0, "text": ""},
        ]),
        ("0000019adf2a0c00a1b2c3d4-0001", [
            {"op": "put", "channelId": channels[0], "messageId": first, "seq": "1", "senderUserId": user,
             "time": 1796208000123, "text": "Grüße, the café opens at ten (edited)"},
            {"op": "remove", "messageId": new_uuid(rnd5)},
        ]),
        ("0000019adf2a0c00a1b2c3d4-0002", []),
    ]
    for name, records in cases:
        nonce = rnd5.randbytes(12)
        aad = "|".join(["dialtone/v1/search-cache", origin, user, name])
        plaintext = json.dumps({"version": 1, "records": [search_record(r) for r in records]},
                               separators=(",", ":"), ensure_ascii=False)
        segment = b"DTSC\x01" + key_id + nonce + AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), aad.encode("utf-8"))
        segments.append({
            "segmentName": name,
            "records": records,
            "nonce": b64(nonce),
            "aad": aad,
            "plaintext": plaintext,
            "segment": b64(segment),
        })
    return {
        "seed": SEED5,
        "serverOrigin": origin,
        "userId": user,
        "key": b64(key),
        "keyId": key_id.hex(),
        "segments": segments,
    }


def main() -> None:
    vectors = {
        "_comment": "generated by client/crypto/gen_vectors.py, do not edit",
        "seed": SEED,
        "sealed": sealed_vectors(),
        "envelope": envelope_vectors(),
        "keystore": keystore_vector(),
        "safetyNumber": safety_vectors(),
        "deviceFingerprint": device_fingerprint_vectors(),
        "signedIdentities": signed_identity_vectors(),
        "messageContent": {"seed": SEED3, "cases": message_content_vectors()},
        "typingNotice": {"seed": SEED4, "cases": typing_vectors()},
        "searchCache": search_cache_vectors(),
    }
    json.dump(vectors, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
