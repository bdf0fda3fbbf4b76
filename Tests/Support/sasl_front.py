#!/usr/bin/env python3
"""A Kafka-protocol SASL front for the test suite: it authenticates clients itself and then relays
their connection byte for byte to a Kafka-protocol broker without SASL (tansu 0.6.0).

Why: tansu 0.6.0 accepts the SCRAM handshake but never stores credentials, so every SCRAM login
fails, and PLAIN closes the connection (see Tests/ConformanceTests/KafkaSASLConformanceTests.swift
for the measured deviations). The server side of SCRAM here is the PyPI package `scramp`
(pinned in Tools/brokers.sh), an implementation independent of Tributary's; PLAIN is checked
here, and so is OAUTHBEARER (RFC 7628, KIP-255) with unsecured JWTs, as Kafka's default
OAuthBearerUnsecuredValidatorCallbackHandler checks them. librdkafka (confluent-kafka) logs in
through this front as the control.

    sasl_front.py --listen PORT --upstream PORT --user NAME:PASSWORD [--user ...]
                  [--mechanisms PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER]
                  [--oauth-principal NAME ...] [--session-lifetime-ms MS]

Start the broker with `--advertised-listener-url tcp://127.0.0.1:<front port>` so that its
metadata sends clients back through the front.

Per connection, like a Kafka broker's SASL listener (KIP-43, KIP-152, KIP-368):
* ApiVersions is forwarded to the broker (tansu lists SaslHandshake 0-1 and SaslAuthenticate
  0-2 itself); any other request before authentication closes the connection.
* SaslHandshake v1 answers error 0 or UNSUPPORTED_SASL_MECHANISM (33) with the enabled
  mechanisms; version 0 (tokens outside Kafka framing) is not served: the connection is closed.
* SaslAuthenticate v0-2 carries the tokens; a failure answers SASL_AUTHENTICATION_FAILED (58)
  with a message, then closes the connection. v1+ responses carry the session lifetime.
* OAUTHBEARER, like Kafka's OAuthBearerSaslServer: the client-first message is the GS2 header
  `n,[a=authzid],`, then `%x01`-separated `key=value` pairs: `auth=Bearer TOKEN` and SASL
  extensions (KIP-342), ending in `%x01%x01`. TOKEN must be an unsecured JWT:
  `base64url(header).base64url(claims).` with header alg "none", an empty signature, `sub` one
  of the --oauth-principal names and `exp` in the future. A bad token is answered with the RFC
  7628 error challenge `{"status":"invalid_token"}` as a successful SaslAuthenticate response;
  the client must answer with a lone `%x01`, and then gets SASL_AUTHENTICATION_FAILED (58) and the
  connection is closed. The session lifetime is the smaller of --session-lifetime-ms and the
  token's remaining life, and only given when --session-lifetime-ms is set (as Kafka does with
  `connections.max.reauth.ms`). The token itself is never logged.
* After authentication, requests are relayed to the broker and responses back, whole frames at
  a time. A SaslHandshake on an authenticated connection starts a re-authentication. A request
  other than SaslHandshake/SaslAuthenticate arriving after the session expired closes the
  connection, as Kafka does with `connections.max.reauth.ms`.

Every event is one line on stderr, for the tests to count:
    front: listening on 127.0.0.1:PORT
    front: conn N authenticated user=U mechanism=M (reauthentication=no|yes)
    front: conn N authenticated user=U mechanism=OAUTHBEARER (reauthentication=no|yes) extensions=K=V,...
    front: conn N token rejected user=U mechanism=OAUTHBEARER: REASON   (the error challenge went out)
    front: conn N authentication failed user=U mechanism=M: REASON
    front: conn N unsupported mechanism M
    front: conn N session expired: closing
"""
import argparse
import asyncio
import base64
import json
import signal
import struct
import sys
import time

from scramp import ScramMechanism

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
MAX_FRAME = 100 * 1024 * 1024
UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE, SASL_AUTHENTICATION_FAILED = 33, 34, 58


def log(text):
    print("front: " + text, file=sys.stderr, flush=True)


class Reader:
    """Bounded reads from one request body; a short body raises ValueError."""

    def __init__(self, data):
        self.data, self.offset = data, 0

    def take(self, count):
        if count < 0 or self.offset + count > len(self.data):
            raise ValueError("truncated request")
        value = self.data[self.offset:self.offset + count]
        self.offset += count
        return value

    def int16(self):
        return struct.unpack(">h", self.take(2))[0]

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self):
        shift = value = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 28:
                raise ValueError("varint too long")

    def nullable_string(self):
        length = self.int16()
        return None if length < 0 else self.take(length).decode()

    def tagged_fields(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def uvarint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class Connection:
    count = 0

    def __init__(self, front, reader, writer):
        Connection.count += 1
        self.id = Connection.count
        self.front, self.reader, self.writer = front, reader, writer
        self.mechanism = None
        self.scram = None
        self.user = None
        self.authenticated = False
        self.reauthenticating = False
        self.scram_first_done = False
        self.expires = None
        self.oauth_rejected = None  # the reason, after an OAUTHBEARER error challenge

    async def run(self):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.front.upstream)
        except OSError as error:
            log(f"conn {self.id} upstream unreachable: {error}")
            self.writer.close()
            return
        relay = asyncio.create_task(self.relay(up_reader))
        try:
            while True:
                frame = await read_frame(self.reader)
                if frame is None:
                    break
                if not await self.handle(frame, up_writer):
                    break
        except (ValueError, UnicodeDecodeError) as error:
            log(f"conn {self.id} bad request: {error}")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            relay.cancel()
            up_writer.close()
            self.writer.close()

    async def relay(self, up_reader):
        """Broker → client, one whole frame at a time, so the front's own answers never land
        inside a broker frame."""
        try:
            while True:
                frame = await read_frame(up_reader)
                if frame is None:
                    break
                self.writer.write(struct.pack(">i", len(frame)) + frame)
                await self.writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self.writer.close()

    async def handle(self, frame, up_writer):
        """Returns False to close the connection."""
        header = Reader(frame)
        api_key, api_version, correlation_id = header.int16(), header.int16(), header.int32()
        if api_key in (SASL_HANDSHAKE, SASL_AUTHENTICATE):
            header.nullable_string()  # client id
            if api_key == SASL_AUTHENTICATE and api_version >= 2:
                header.tagged_fields()
            body = Reader(frame[header.offset:])
            if api_key == SASL_HANDSHAKE:
                return await self.handshake(api_version, correlation_id, body)
            return await self.authenticate(api_version, correlation_id, body)
        if not self.authenticated:
            if api_key != API_VERSIONS:
                log(f"conn {self.id} request {api_key} before authentication: closing")
                return False
        elif self.expires is not None and time.monotonic() > self.expires:
            log(f"conn {self.id} session expired: closing")
            return False
        up_writer.write(struct.pack(">i", len(frame)) + frame)
        await up_writer.drain()
        return True

    async def respond(self, correlation_id, body, flexible=False):
        header = struct.pack(">i", correlation_id) + (b"\x00" if flexible else b"")
        payload = header + body
        self.writer.write(struct.pack(">i", len(payload)) + payload)
        await self.writer.drain()

    async def handshake(self, version, correlation_id, body):
        mechanism = body.nullable_string() or ""
        enabled = self.front.mechanisms
        names = struct.pack(">i", len(enabled)) + b"".join(struct.pack(">h", len(m)) + m.encode() for m in enabled)
        if version < 1:
            log(f"conn {self.id} SaslHandshake v0 (unframed tokens) is not served: closing")
            return False
        if mechanism not in enabled:
            log(f"conn {self.id} unsupported mechanism {mechanism}")
            await self.respond(correlation_id, struct.pack(">h", UNSUPPORTED_SASL_MECHANISM) + names)
            return False
        if self.authenticated and mechanism != self.mechanism:
            log(f"conn {self.id} re-authentication with another mechanism {mechanism}: closing")
            return False
        self.reauthenticating = self.authenticated
        self.mechanism = mechanism
        self.scram = None
        self.scram_first_done = False
        self.oauth_rejected = None
        if mechanism.startswith("SCRAM-"):
            self.scram = self.front.scram[mechanism].make_server(self.front.scram_credentials(mechanism))
        await self.respond(correlation_id, struct.pack(">h", 0) + names)
        return True

    async def authenticate(self, version, correlation_id, body):
        if version >= 2:
            token = body.take(body.uvarint() - 1)
        else:
            token = body.take(body.int32())
        if self.mechanism is None:
            await self.fail(version, correlation_id, "no SaslHandshake before SaslAuthenticate", ILLEGAL_SASL_STATE)
            return False
        if self.mechanism == "PLAIN":
            parts = token.split(b"\x00")
            user = parts[1].decode(errors="replace") if len(parts) == 3 else "?"
            if len(parts) != 3 or self.front.users.get(user) != parts[2].decode(errors="replace"):
                await self.fail(version, correlation_id, "Authentication failed: Invalid username or password", user=user)
                return False
            self.user = user
            return await self.succeed(version, correlation_id, b"")
        if self.mechanism == "OAUTHBEARER":
            return await self.oauthbearer(version, correlation_id, token)
        # SCRAM: the first token is client-first, the second client-final.
        try:
            text = token.decode()
            if not self.scram_first_done:
                self.user = scram_user(text)
                self.scram.set_client_first(text)
                self.scram_first_done = True
                await self.respond_authenticate(version, correlation_id, 0, None, self.scram.get_server_first().encode(), 0)
                return True
            self.scram.set_client_final(text)
            return await self.succeed(version, correlation_id, self.scram.get_server_final().encode())
        except Exception as error:  # scramp raises ScramException; auth_fn KeyError for unknown users
            await self.fail(version, correlation_id,
                            f"Authentication failed during authentication due to invalid credentials with SASL mechanism {self.mechanism}",
                            user=self.user or "?", reason=repr(error))
            return False

    async def oauthbearer(self, version, correlation_id, token):
        if self.oauth_rejected is not None:
            # RFC 7628 3.2.3: after the error challenge the client sends a lone %x01; either way
            # the exchange fails now, as with Kafka.
            reason = self.oauth_rejected if token == b"\x01" else f"{self.oauth_rejected}; then {len(token)} bytes instead of %x01"
            await self.fail(version, correlation_id,
                            "Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER",
                            user=self.user or "?", reason=reason)
            return False
        try:
            bearer, extensions = parse_oauth_client_first(token)
            self.user, exp = self.front.check_unsecured_jwt(bearer)
        except ValueError as error:
            self.oauth_rejected = str(error.args[0])
            self.user = error.args[1] if len(error.args) > 1 else None
            log(f"conn {self.id} token rejected user={self.user or '?'} mechanism=OAUTHBEARER: {self.oauth_rejected}")
            challenge = json.dumps({"status": "invalid_token"}, separators=(",", ":")).encode()
            await self.respond_authenticate(version, correlation_id, 0, None, challenge, 0)
            return True
        lifetime = self.front.session_lifetime_ms
        if lifetime > 0:
            lifetime = max(1, min(lifetime, int((exp - time.time()) * 1000)))
        suffix = " extensions=" + ",".join(f"{k}={v}" for k, v in sorted(extensions.items())) if extensions else ""
        return await self.succeed(version, correlation_id, b"", lifetime=lifetime, suffix=suffix)

    async def succeed(self, version, correlation_id, token, lifetime=None, suffix=""):
        if lifetime is None:
            lifetime = self.front.session_lifetime_ms
        self.expires = time.monotonic() + lifetime / 1000.0 if lifetime > 0 else None
        log(f"conn {self.id} authenticated user={self.user} mechanism={self.mechanism} "
            f"(reauthentication={'yes' if self.reauthenticating else 'no'}){suffix}")
        self.authenticated = True
        self.reauthenticating = False
        self.scram_first_done = False
        await self.respond_authenticate(version, correlation_id, 0, None, token, lifetime)
        return True

    async def fail(self, version, correlation_id, message, code=SASL_AUTHENTICATION_FAILED, user="?", reason=""):
        log(f"conn {self.id} authentication failed user={user} mechanism={self.mechanism}: {message} {reason}".rstrip())
        await self.respond_authenticate(version, correlation_id, code, message, b"", 0)

    async def respond_authenticate(self, version, correlation_id, code, message, token, lifetime):
        body = struct.pack(">h", code)
        if version >= 2:
            body += uvarint(0) if message is None else uvarint(len(message.encode()) + 1) + message.encode()
            body += uvarint(len(token) + 1) + token
        else:
            body += struct.pack(">h", -1) if message is None else struct.pack(">h", len(message.encode())) + message.encode()
            body += struct.pack(">i", len(token)) + token
        if version >= 1:
            body += struct.pack(">q", lifetime)
        if version >= 2:
            body += b"\x00"
        await self.respond(correlation_id, body, flexible=version >= 2)


def scram_user(client_first):
    """The n= attribute of a client-first message, unescaped (RFC 5802 saslname)."""
    for attribute in client_first.split(",")[2:]:
        if attribute.startswith("n="):
            return attribute[2:].replace("=2C", ",").replace("=3D", "=")
    return "?"


def parse_oauth_client_first(message):
    """(token, extensions) of an OAUTHBEARER client-first message (RFC 7628 3.1); ValueError
    names what is wrong without quoting the token."""
    try:
        text = message.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("the client-first message is not ASCII")
    if not text.startswith("n,") or "," not in text[2:]:
        raise ValueError("the client-first message does not start with a GS2 header n,[a=authzid],")
    rest = text[text.index(",", 2) + 1:]
    if not rest.startswith("\x01") or not rest.endswith("\x01\x01"):
        raise ValueError("the client-first message is not framed by %x01 ... %x01%x01")
    token, extensions = None, {}
    for pair in rest[1:-2].split("\x01"):
        key, equals, value = pair.partition("=")
        if not equals or not key.isalpha() or not key.isascii():
            raise ValueError(f"malformed key=value pair (key {key[:20]!r})")
        if key == "auth":
            if not value.startswith("Bearer ") or len(value) <= len("Bearer "):
                raise ValueError("the auth value is not 'Bearer <token>'")
            token = value[len("Bearer "):]
        elif key in extensions:
            raise ValueError(f"extension {key} given twice")
        else:
            extensions[key] = value
    if token is None:
        raise ValueError("no auth=Bearer pair")
    return token, extensions


def b64url_json(part, what):
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"the JWT {what} is not base64url JSON")
    if not isinstance(value, dict):
        raise ValueError(f"the JWT {what} is not a JSON object")
    return value


async def read_frame(reader):
    try:
        size = struct.unpack(">i", await reader.readexactly(4))[0]
    except asyncio.IncompleteReadError:
        return None
    if size < 8 or size > MAX_FRAME:
        raise ValueError(f"frame size {size} out of bounds")
    return await reader.readexactly(size)


class Front:
    def __init__(self, arguments):
        self.upstream = arguments.upstream
        self.mechanisms = [m for m in arguments.mechanisms.split(",") if m]
        self.session_lifetime_ms = arguments.session_lifetime_ms
        self.users = {}
        for entry in arguments.user:
            name, _, password = entry.partition(":")
            self.users[name] = password
        self.oauth_principals = set(arguments.oauth_principal)
        self.scram = {m: ScramMechanism(m) for m in self.mechanisms if m.startswith("SCRAM-")}
        # Credentials as a broker stores them: salt, stored key, server key, iterations.
        self.auth_info = {m: {name: mech.make_auth_info(password, iteration_count=4096) for name, password in self.users.items()}
                          for m, mech in self.scram.items()}

    def check_unsecured_jwt(self, token):
        """(sub, exp) of a valid unsecured JWT; ValueError with the reason otherwise."""
        parts = token.split(".")
        if len(parts) != 3:
            raise ValueError(f"the token has {len(parts)} dot-separated parts, a JWS has 3")
        header, claims = b64url_json(parts[0], "header"), b64url_json(parts[1], "claims")
        if header.get("alg") != "none" or parts[2]:
            raise ValueError("the token is not an unsecured JWT (alg none, empty signature)")
        sub, exp = claims.get("sub"), claims.get("exp")
        name = sub if isinstance(sub, str) else None
        if name is None or name not in self.oauth_principals:
            raise ValueError(f"principal {sub!r} is not allowed", name)
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise ValueError("no numeric exp claim", name)
        if exp <= time.time():
            raise ValueError(f"the token expired {time.time() - exp:.0f} s ago", name)
        return sub, exp

    def scram_credentials(self, mechanism):
        table = self.auth_info[mechanism]

        def lookup(username):
            return table[username]  # KeyError for an unknown user fails the exchange
        return lookup


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--user", action="append", default=[])
    parser.add_argument("--mechanisms", default="PLAIN,SCRAM-SHA-256,SCRAM-SHA-512")
    parser.add_argument("--oauth-principal", action="append", default=[])
    parser.add_argument("--session-lifetime-ms", type=int, default=0)
    arguments = parser.parse_args()
    front = Front(arguments)
    server = await asyncio.start_server(lambda r, w: Connection(front, r, w).run(), "127.0.0.1", arguments.listen)
    log(f"listening on 127.0.0.1:{arguments.listen} for 127.0.0.1:{arguments.upstream}, "
        f"mechanisms {','.join(front.mechanisms)}, session lifetime {front.session_lifetime_ms} ms")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    # A process started from a Swift test inherits the spawning thread's signal mask, which
    # blocks SIGTERM; the tests stop the front with SIGTERM, so unblock it and exit on it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
