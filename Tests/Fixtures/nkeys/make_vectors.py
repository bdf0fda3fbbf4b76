#!/usr/bin/env python3
"""Prints the NKEY vectors of Tests/TributaryNATSProtocolTests/NATSNKeyTests.swift.

Run once with the PyPI package nkeys 0.2.1 (pinned in Tools/brokers.sh) and pasted into the
test as constants: the expected values come from an implementation independent of ours.

    python3 make_vectors.py
"""

import base64
import hashlib

import nkeys

TYPES = [
    ("user", nkeys.PREFIX_BYTE_USER),
    ("account", nkeys.PREFIX_BYTE_ACCOUNT),
    ("operator", nkeys.PREFIX_BYTE_OPERATOR),
    ("server", nkeys.PREFIX_BYTE_SERVER),
    ("cluster", nkeys.PREFIX_BYTE_CLUSTER),
]
NONCE = b"pQq0CH0U2VRfC-w"  # the shape of a nats-server nonce (11 random bytes, base64url)

for index, (name, prefix) in enumerate(TYPES):
    # Deterministic raw seeds: SHA-256 of the type name.
    raw = hashlib.sha256(name.encode()).digest()
    seed = nkeys.encode_seed(raw, prefix)
    kp = nkeys.from_seed(seed)
    signature = kp.sign(NONCE)
    print("NKeyVector(type: .%s, rawSeedHex: \"%s\"," % (name if name != "operator" else "`operator`", raw.hex()))
    print("           seed: \"%s\"," % seed.decode())
    print("           publicKey: \"%s\"," % kp.public_key.decode())
    print("           nonceSignature: \"%s\")," % base64.urlsafe_b64encode(signature).rstrip(b"=").decode())

print("crc16(\"123456789\") = 0x%04x" % nkeys.crc16(b"123456789"))
print("crc16(b\"\\x00\" * 33) = 0x%04x" % nkeys.crc16(b"\x00" * 33))
