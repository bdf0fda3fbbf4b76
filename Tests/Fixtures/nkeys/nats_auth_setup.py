#!/usr/bin/env python3
"""Makes NKEY and JWT credentials for Tributary's conformance and interop tests, at test time.

Uses the PyPI packages nkeys (0.2.1) and nats-jwt (0.2.2), pinned in Tools/brokers.sh: an
implementation independent of the Swift one under test. Run it with TRIBUTARY_PYTHON from
.brokers/env.

    nats_auth_setup.py DIR EXPIRES_IN_SECONDS

writes into DIR:
    nkey-user.seed        a user seed (one "SU..." line) configured as an nkey user
    nkey-other.seed       a user seed that no server knows (the "wrong seed")
    nkey-users.conf       authorization { users = [ { nkey: U... } ] } for nkey-user
    operator.conf         operator mode: operator JWT, system account, resolver MEMORY and
                          resolver_preload with the application account (which revokes
                          "revoked") and the system account
    alice.creds bob.creds valid users of the application account
    expired.creds         a user whose JWT expired 60 s ago
    revoked.creds         a user revoked by the preloaded account JWT
    soon.creds            a user whose JWT expires EXPIRES_IN_SECONDS from now
    live.creds            a user to be revoked while connected
    sys.creds             a user of the system account (may update account JWTs)
    revoke-live.jwt       the application account's JWT revoking "live" (and "revoked")
    summary.json          {"account": ACCOUNT_PUBLIC_KEY, "secrets": [every seed and JWT],
                           "users": {name: public key}}

Creds files use the layout nsc writes (decorated JWT block, then the seed block).

nats-jwt 0.2.2 does not serialize an account's revocations (its RevocationList is dropped), so
revocations are added to the account claims here and the JWT is signed again with the operator
key through nkeys, as any JWT library does: base64url(header).base64url(claims).base64url(sig).
"""

import base64
import json
import os
import sys
import time

import nkeys
from nats_jwt.nkeys_ext import create_account_pair, create_operator_pair, create_user_pair
from nats_jwt.v2.account_claims import AccountClaims
from nats_jwt.v2.operator_claims import OperatorClaims
from nats_jwt.v2.user_claims import UserClaims


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def with_revocations(jwt, signer, revocations):
    header, payload, _ = jwt.split(".")
    claims = json.loads(unb64(payload))
    claims["nats"]["revocations"] = revocations
    body = b64(unb64(header)) + b"." + b64(json.dumps(claims).encode())
    return (body + b"." + b64(signer.sign(body))).decode()


def creds(jwt, seed):
    return (
        "-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
        "************************* IMPORTANT *************************\n"
        "NKEY Seed printed below can be used to sign and prove identity.\n"
        "NKEYs are sensitive and should be treated as secrets.\n\n"
        "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\n"
        "*************************************************************\n" % (jwt, seed)
    )


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: nats_auth_setup.py DIR EXPIRES_IN_SECONDS")
    out, expires_in = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    secrets = []
    users = {}

    def write(name, text):
        with open(os.path.join(out, name), "w") as f:
            f.write(text)

    # NKEY users.
    nkey_user = nkeys.from_seed(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER))
    other = nkeys.from_seed(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER))
    for name, kp in (("nkey-user", nkey_user), ("nkey-other", other)):
        write(name + ".seed", kp.seed.decode() + "\n")
        secrets.append(kp.seed.decode())
        users[name] = kp.public_key.decode()
    write("nkey-users.conf", "authorization {\n  users = [\n    { nkey: %s }\n  ]\n}\n" % users["nkey-user"])

    # Operator mode.
    operator = create_operator_pair()
    system = create_account_pair()
    operator_claims = OperatorClaims(operator.public_key.decode(), "tributary-test-operator")
    operator_claims.nats.system_account = system.public_key.decode()
    operator_jwt = operator_claims.encode(operator)
    account = create_account_pair()
    account_claims = AccountClaims(account.public_key.decode(), "app")
    system_jwt = AccountClaims(system.public_key.decode(), "SYS").encode(operator)

    now = int(time.time())
    pairs = {}

    def user(name, issuer, expires=0):
        kp = create_user_pair()
        claims = UserClaims(kp.public_key.decode(), name)
        if expires:
            claims.exp = expires
        jwt = claims.encode(issuer)
        write(name + ".creds", creds(jwt, kp.seed.decode()))
        secrets.extend([jwt, kp.seed.decode()])
        users[name] = kp.public_key.decode()
        pairs[name] = kp

    user("alice", account)
    user("bob", account)
    user("expired", account, now - 60)
    user("revoked", account)
    user("soon", account, now + expires_in)
    user("live", account)
    user("sys", system)

    # A revocation covers JWTs issued at or before its time.
    preload_jwt = with_revocations(account_claims.encode(operator), operator, {users["revoked"]: now + 1})
    revoke_live = with_revocations(account_claims.encode(operator), operator,
                                   {users["revoked"]: now + 1, users["live"]: now + 1})
    write("revoke-live.jwt", revoke_live)
    write(
        "operator.conf",
        "operator: %s\nsystem_account: %s\nresolver: MEMORY\nresolver_preload: {\n  %s: %s\n  %s: %s\n}\n"
        % (operator_jwt, system.public_key.decode(), account.public_key.decode(), preload_jwt,
           system.public_key.decode(), system_jwt),
    )
    write("summary.json", json.dumps({"account": account.public_key.decode(), "secrets": secrets, "users": users}))


if __name__ == "__main__":
    main()
