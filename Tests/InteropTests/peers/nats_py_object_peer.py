#!/usr/bin/env python3
"""nats-py object store peer for Tributary's interop tests (nats-py 2.16.0, pinned in Tools/brokers.sh).

Run it with the Python recorded as TRIBUTARY_PYTHON in .brokers/env (it has nats-py).

    nats_py_object_peer.py put URL BUCKET NAME FILE
        Creates the object store BUCKET with nats-py (or binds to it when it exists), puts the
        bytes of FILE as object NAME with `ObjectStore.put`, and prints
            {"size": N, "chunks": N, "digest": "SHA-256=...", "nuid": "..."}

    nats_py_object_peer.py get URL BUCKET NAME FILE
        Gets object NAME with `ObjectStore.get` (nats-py checks the digest and raises on a
        mismatch), writes the bytes to FILE and prints
            {"size": N, "chunks": N, "digest": "...", "sha256_hex": "<hex of the bytes read>"}

Exit codes: 0 success, 2 usage, 4 connection or protocol error, 5 digest mismatch.
"""

import asyncio
import hashlib
import json
import sys

import nats
import nats.js.errors

EXIT_USAGE = 2
EXIT_ERROR = 4
EXIT_DIGEST = 5


async def connect(url):
    async def quiet(_error):
        pass

    return await nats.connect(servers=[url], error_cb=quiet, allow_reconnect=False, connect_timeout=5)


async def bucket(js, name):
    try:
        return await js.object_store(name)
    except nats.js.errors.NotFoundError:
        return await js.create_object_store(name)


async def put(url, bucket_name, name, path):
    nc = await connect(url)
    js = nc.jetstream()
    store = await bucket(js, bucket_name)
    with open(path, "rb") as f:
        data = f.read()
    info = await store.put(name, data)
    print(json.dumps({"size": info.size, "chunks": info.chunks, "digest": info.digest, "nuid": info.nuid}), flush=True)
    await nc.close()
    return 0


async def get(url, bucket_name, name, path):
    nc = await connect(url)
    js = nc.jetstream()
    store = await js.object_store(bucket_name)
    try:
        result = await store.get(name)
    except nats.js.errors.DigestMismatchError:
        await nc.close()
        return EXIT_DIGEST
    data = result.data or b""
    with open(path, "wb") as f:
        f.write(data)
    info = result.info
    print(json.dumps({"size": info.size, "chunks": info.chunks, "digest": info.digest,
                      "sha256_hex": hashlib.sha256(data).hexdigest()}), flush=True)
    await nc.close()
    return 0


def main(argv):
    if len(argv) != 6 or argv[1] not in ("put", "get"):
        print(__doc__, file=sys.stderr)
        return EXIT_USAGE
    command, url, bucket_name, name, path = argv[1:]
    try:
        return asyncio.run((put if command == "put" else get)(url, bucket_name, name, path))
    except Exception as error:  # reported to the test, which prints stderr on failure
        print("nats-py object peer: %s: %s" % (type(error).__name__, error), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main(sys.argv))
