#!/usr/bin/env python3
"""nats-py peer for Tributary's interop tests (nats-py 2.16.0, pinned in Tools/brokers.sh).

Run it with the Python recorded as TRIBUTARY_PYTHON in .brokers/env (it has nats-py).

    nats_py_peer.py pub URL SUBJECT COUNT
        Publishes COUNT messages, i = 0 ..< COUNT, payload b"py-%d" % i, headers
            X-Seq: <i>
            X-Multi: a
            X-Multi: b          (one header name, two values, in this order)
            Tributary-Test: 1
        then one message with an empty payload and headers
            X-Seq: <COUNT>
            Tributary-Test: 1
        flushes (the server has everything) and exits 0.

    nats_py_peer.py sub URL SUBJECT COUNT TIMEOUT_SECONDS
        Subscribes, flushes (the SUB is registered on the server), prints the line READY
        and flushes stdout. Then prints one JSON object per message, one per line:
            {"subject": "...", "reply": "..." or null,
             "headers": {"Name": ["value", ...], ...},   ({} when the message has none)
             "payload_hex": "..."}
        Exits 0 after COUNT messages, 3 when TIMEOUT_SECONDS pass first.

    nats_py_peer.py req URL SUBJECT BODY TIMEOUT_SECONDS
        Sends one request with nats-py's `request` (its own "new style" inbox scheme: one
        wildcard inbox subscription, a token per request), prints the reply payload decoded
        as UTF-8 on one line and exits 0; 3 when no reply comes within TIMEOUT_SECONDS,
        4 when the server reports no responders.

Credentials (for servers with nkey users or in operator mode), from the environment:
    PEER_NKEYS_SEED=FILE        connect with nats-py's nkeys_seed= (a user seed file)
    PEER_USER_CREDENTIALS=FILE  connect with nats-py's user_credentials= (a .creds file)

Exit codes: 0 success, 2 usage, 3 timeout, 4 connection or protocol error.

Multi-value headers in nats-py 2.16.0 (read from nats/aio/client.py):
  * Publishing: `publish(..., headers=Dict[str, str])` writes one `Name: value` line per
    dict entry and calls `value.strip()`, so a list value raises AttributeError and a dict
    cannot hold one name twice. nats-py cannot send a multi-value header through its public
    API. The numbered messages therefore build the header block here (same name/value
    checks as nats-py) and send it as HPUB through nats-py's own connection, using
    `nats.protocol.command.hpub_cmd` and the private `Client._send_command` — the same two
    calls `Client.publish` makes. The empty-payload message goes through the public
    `publish(headers=...)`, so nats-py's own header encoder is exercised too.
  * Receiving: `Msg.headers` is a `Dict[str, str]`; for a repeated name the LAST value wins
    (`_parse_header_lines` assigns `out[key] = value`; with the optional fast_mail_parser
    installed it goes through an email parser instead). To report every value, the `sub`
    command wraps the private `Client._process_headers` so each message keeps its raw header
    block and parses it itself: lines after the `NATS/1.0` status line, split at the first
    ':', name and value stripped of surrounding whitespace, values in arrival order.
"""

import asyncio
import json
import os
import sys

import nats
import nats.errors
from nats.protocol import command as prot_command

USAGE = (
    "usage: nats_py_peer.py pub URL SUBJECT COUNT\n"
    "       nats_py_peer.py sub URL SUBJECT COUNT TIMEOUT_SECONDS\n"
    "       nats_py_peer.py req URL SUBJECT BODY TIMEOUT_SECONDS\n"
)

EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_ERROR = 4


def header_block(headers):
    """Encodes [(name, value)] as a NATS/1.0 header block, keeping repeated names."""
    out = bytearray(b"NATS/1.0\r\n")
    for name, value in headers:
        if not name or any(c in name for c in ":\r\n \t"):
            raise ValueError("bad header name %r" % name)
        if "\r" in value or "\n" in value:
            raise ValueError("bad header value for %r" % name)
        out += ("%s: %s\r\n" % (name, value)).encode()
    out += b"\r\n"
    return bytes(out)


def parse_header_block(raw):
    """Parses a raw header block into {name: [values...]} (order of first appearance)."""
    result = {}
    lines = raw.split(b"\r\n")
    # lines[0] is "NATS/1.0" or "NATS/1.0 503 description" (inline status).
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        key = name.strip().decode("utf-8", "replace")
        result.setdefault(key, []).append(value.strip().decode("utf-8", "replace"))
    return result


class RawHeaders(dict):
    """nats-py's parsed header dict plus the raw block it came from."""

    raw = b""


async def connect(url):
    async def quiet(_error):
        # Errors surface through the awaited calls; keep stderr for our own messages.
        pass

    credentials = {}
    if os.environ.get("PEER_NKEYS_SEED"):
        credentials["nkeys_seed"] = os.environ["PEER_NKEYS_SEED"]
    if os.environ.get("PEER_USER_CREDENTIALS"):
        credentials["user_credentials"] = os.environ["PEER_USER_CREDENTIALS"]
    return await nats.connect(
        servers=[url],
        name="tributary-interop-nats-py",
        allow_reconnect=False,
        connect_timeout=5,
        error_cb=quiet,
        **credentials,
    )


async def run_pub(url, subject, count):
    nc = await connect(url)
    try:
        for i in range(count):
            block = header_block(
                [
                    ("X-Seq", str(i)),
                    ("X-Multi", "a"),
                    ("X-Multi", "b"),
                    ("Tributary-Test", "1"),
                ]
            )
            # What Client.publish does after encoding headers (see module docstring).
            await nc._send_command(prot_command.hpub_cmd(subject, "", block, b"py-%d" % i))
        await nc.publish(subject, b"", headers={"X-Seq": str(count), "Tributary-Test": "1"})
        await nc.flush(timeout=10)
    finally:
        await nc.close()
    return 0


async def run_sub(url, subject, count, timeout):
    nc = await connect(url)

    original = nc._process_headers

    async def keep_raw(raw):
        parsed = await original(raw)
        if not raw:
            return parsed
        headers = RawHeaders(parsed or {})
        headers.raw = bytes(raw)
        return headers

    nc._process_headers = keep_raw

    received = 0
    done = asyncio.get_running_loop().create_future()

    async def on_message(msg):
        nonlocal received
        raw = getattr(msg.headers, "raw", b"")
        if raw:
            headers = parse_header_block(raw)
        else:
            headers = {k: [v] for k, v in (msg.headers or {}).items()}
        line = {
            "subject": msg.subject,
            "reply": msg.reply or None,
            "headers": headers,
            "payload_hex": msg.data.hex(),
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        received += 1
        if received >= count and not done.done():
            done.set_result(None)

    try:
        await nc.subscribe(subject, cb=on_message)
        await nc.flush(timeout=10)
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        if count <= 0:
            return 0
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout)
        except asyncio.TimeoutError:
            sys.stderr.write(
                "nats_py_peer: timeout after %ss: received %d of %d messages on %s\n"
                % (timeout, received, count, subject)
            )
            return EXIT_TIMEOUT
        return 0
    finally:
        await nc.close()


async def run_req(url, subject, body, timeout):
    nc = await connect(url)
    try:
        try:
            reply = await nc.request(subject, body.encode(), timeout=timeout)
        except nats.errors.NoRespondersError:
            sys.stderr.write("nats_py_peer: no responders on %s\n" % subject)
            return EXIT_ERROR
        except nats.errors.TimeoutError:
            sys.stderr.write("nats_py_peer: no reply on %s within %ss\n" % (subject, timeout))
            return EXIT_TIMEOUT
        sys.stdout.write(reply.data.decode("utf-8", "replace") + "\n")
        sys.stdout.flush()
        return 0
    finally:
        await nc.close()


def main(argv):
    try:
        if len(argv) == 4 and argv[0] == "pub":
            return asyncio.run(run_pub(argv[1], argv[2], int(argv[3])))
        if len(argv) == 5 and argv[0] == "sub":
            return asyncio.run(run_sub(argv[1], argv[2], int(argv[3]), float(argv[4])))
        if len(argv) == 5 and argv[0] == "req":
            return asyncio.run(run_req(argv[1], argv[2], argv[3], float(argv[4])))
    except ValueError as error:
        sys.stderr.write("nats_py_peer: %s\n%s" % (error, USAGE))
        return EXIT_USAGE
    except Exception as error:  # connection refused, auth, protocol errors
        sys.stderr.write("nats_py_peer: %s: %s\n" % (type(error).__name__, error))
        return EXIT_ERROR
    sys.stderr.write(USAGE)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
