#!/usr/bin/env python3
"""SCRAM-SHA-512 test vector for Tests/TributaryKafkaProtocolTests/Security/SCRAMClientTests.swift.

Computed with two implementations that share no code with Tributary: the PyPI package `scramp`
(1.4.17, pinned in Tools/brokers.sh) plays both sides with fixed nonces and a fixed salt, and the
proof and server signature are recomputed from RFC 5802's formulas with Python's hashlib/hmac.

    python3 Tests/Fixtures/scram/make_scram_vectors.py
"""
import base64
import hashlib
import hmac

from scramp import ScramClient, ScramMechanism

USER, PASSWORD = "user", "pencil"
C_NONCE = "rOprNGfwEbeRWgbNEkqO"
S_NONCE = "3rfcNHYJY1ZVvWVs7j"
SALT = bytes.fromhex("4b6166b0c2a1e3f4d5c6b7a8")
ITERATIONS = 4096

mechanism = ScramMechanism("SCRAM-SHA-512")
auth_info = mechanism.make_auth_info(PASSWORD, iteration_count=ITERATIONS, salt=SALT)
server = mechanism.make_server(lambda _user: auth_info, s_nonce=S_NONCE)
client = ScramClient(["SCRAM-SHA-512"], USER, PASSWORD, c_nonce=C_NONCE)

client_first = client.get_client_first()
server.set_client_first(client_first)
server_first = server.get_server_first()
client.set_server_first(server_first)
client_final = client.get_client_final()
server.set_client_final(client_final)
server_final = server.get_server_final()
client.set_server_final(server_final)

# The same values from RFC 5802 §3 with hashlib.
salted = hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), SALT, ITERATIONS)
client_key = hmac.new(salted, b"Client Key", "sha512").digest()
stored_key = hashlib.sha512(client_key).digest()
without_proof = "c=biws,r=" + C_NONCE + S_NONCE
auth_message = (client_first[3:] + "," + server_first + "," + without_proof).encode()
proof = bytes(a ^ b for a, b in zip(client_key, hmac.new(stored_key, auth_message, "sha512").digest()))
server_key = hmac.new(salted, b"Server Key", "sha512").digest()
signature = hmac.new(server_key, auth_message, "sha512").digest()
assert client_final == without_proof + ",p=" + base64.b64encode(proof).decode(), client_final
assert server_final == "v=" + base64.b64encode(signature).decode(), server_final

for name, value in [("clientFirst", client_first), ("serverFirst", server_first),
                    ("clientFinal", client_final), ("serverFinal", server_final)]:
    print(f'{name}: "{value}"')
