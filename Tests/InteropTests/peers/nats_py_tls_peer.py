#!/usr/bin/env python3
"""nats-py over TLS, for Tributary's interop tests (nats-py 2.16.0).

    nats_py_tls_peer.py reply URL SUBJECT CA_FILE CERT_FILE KEY_FILE
        Connects with TLS (server verified against CA_FILE, client certificate CERT_FILE and
        KEY_FILE), subscribes to SUBJECT, flushes, prints READY, answers ONE request with
        b"py:" + payload, flushes and exits 0.

    nats_py_tls_peer.py request URL SUBJECT BODY CA_FILE CERT_FILE KEY_FILE
        Sends one request, prints the reply payload as UTF-8 and exits 0 (3 on timeout).

Exit codes: 0 success, 2 usage, 3 timeout, 4 connection error.
"""

import asyncio
import ssl
import sys

import nats
from nats.errors import TimeoutError as NatsTimeout


def context(ca, cert, key):
    ctx = ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH, cafile=ca)
    ctx.load_cert_chain(certfile=cert, keyfile=key)
    return ctx


async def reply(url, subject, ca, cert, key):
    nc = await nats.connect(url, tls=context(ca, cert, key), allow_reconnect=False)
    done = asyncio.get_running_loop().create_future()

    async def handler(msg):
        await nc.publish(msg.reply, b"py:" + msg.data)
        await nc.flush()
        if not done.done():
            done.set_result(True)

    await nc.subscribe(subject, cb=handler)
    await nc.flush()
    print("READY", flush=True)
    try:
        await asyncio.wait_for(done, 20)
    except asyncio.TimeoutError:
        return 3
    await nc.close()
    return 0


async def request(url, subject, body, ca, cert, key):
    nc = await nats.connect(url, tls=context(ca, cert, key), allow_reconnect=False)
    try:
        msg = await nc.request(subject, body.encode(), timeout=5)
    except NatsTimeout:
        return 3
    print(msg.data.decode(), flush=True)
    await nc.close()
    return 0


def main(argv):
    try:
        if len(argv) == 7 and argv[1] == "reply":
            return asyncio.run(reply(*argv[2:]))
        if len(argv) == 8 and argv[1] == "request":
            return asyncio.run(request(*argv[2:]))
    except Exception as error:  # connection and TLS failures
        print("error: %s" % error, file=sys.stderr)
        return 4
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
