#!/usr/bin/env python3
"""nats-py key-value peer for Tributary's interop tests (nats-py 2.16.0, pinned in Tools/brokers.sh).

Run it with the Python recorded as TRIBUTARY_PYTHON in .brokers/env (it has nats-py).

    nats_py_kv_peer.py make URL BUCKET
        Creates bucket BUCKET with nats-py (history 5; its stream has allow_direct false), puts
        a = "1", a = "2", b = "3", then deletes b. Prints {"revisions": [r1, r2, r3, r4]}.

    nats_py_kv_peer.py read URL BUCKET
        Binds the existing bucket BUCKET and prints one JSON object:
            {"a": <value of a or null>, "b_missing": true|false, "keys": [...],
             "history_a": [[value, operation or null, revision], ...], "history": N}

    nats_py_kv_peer.py watch URL BUCKET COUNT TIMEOUT_SECONDS
        Watches every key; prints {"initial": [[key, value, operation], ...]} when the initial
        values are done, then READY, then one [key, value, operation] array per update until
        COUNT updates arrived. Exits 3 when TIMEOUT_SECONDS pass first.

Exit codes: 0 success, 2 usage, 3 timeout, 4 connection or protocol error.
"""

import asyncio
import json
import sys

import nats
import nats.errors
import nats.js.errors

EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_ERROR = 4


async def connect(url):
    async def quiet(_error):
        pass

    return await nats.connect(servers=[url], error_cb=quiet, allow_reconnect=False, connect_timeout=5)


def text(value):
    return None if value is None else value.decode("utf-8", "replace")


async def make(url, bucket):
    nc = await connect(url)
    js = nc.jetstream()
    kv = await js.create_key_value(bucket=bucket, history=5)
    revisions = [await kv.put("a", b"1"), await kv.put("a", b"2"), await kv.put("b", b"3")]
    await kv.delete("b")
    status = await kv.status()
    revisions.append(status.stream_info.state.last_seq)
    print(json.dumps({"revisions": revisions}), flush=True)
    await nc.close()
    return 0


async def read(url, bucket):
    nc = await connect(url)
    js = nc.jetstream()
    kv = await js.key_value(bucket)
    result = {}
    try:
        result["a"] = text((await kv.get("a")).value)
    except nats.js.errors.KeyNotFoundError:
        result["a"] = None
    try:
        await kv.get("b")
        result["b_missing"] = False
    except nats.js.errors.KeyNotFoundError:
        result["b_missing"] = True
    try:
        result["keys"] = sorted(await kv.keys())
    except nats.js.errors.NoKeysError:
        result["keys"] = []
    result["history_a"] = [[text(e.value), e.operation, e.revision] for e in await kv.history("a")]
    result["history"] = (await kv.status()).history
    print(json.dumps(result), flush=True)
    await nc.close()
    return 0


async def watch(url, bucket, count, timeout):
    nc = await connect(url)
    js = nc.jetstream()
    kv = await js.key_value(bucket)
    watcher = await kv.watchall()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    initial = []
    while True:
        left = deadline - loop.time()
        if left <= 0:
            return EXIT_TIMEOUT
        try:
            entry = await watcher.updates(timeout=left)
        except nats.errors.TimeoutError:
            return EXIT_TIMEOUT
        if entry is None:
            break
        initial.append([entry.key, text(entry.value), entry.operation])
    print(json.dumps({"initial": initial}), flush=True)
    print("READY", flush=True)
    received = 0
    while received < count:
        left = deadline - loop.time()
        if left <= 0:
            return EXIT_TIMEOUT
        try:
            entry = await watcher.updates(timeout=left)
        except nats.errors.TimeoutError:
            return EXIT_TIMEOUT
        if entry is None:
            continue
        received += 1
        print(json.dumps([entry.key, text(entry.value), entry.operation]), flush=True)
    await watcher.stop()
    await nc.close()
    return 0


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "make":
            return asyncio.run(make(argv[2], argv[3]))
        if len(argv) == 4 and argv[1] == "read":
            return asyncio.run(read(argv[2], argv[3]))
        if len(argv) == 6 and argv[1] == "watch":
            return asyncio.run(watch(argv[2], argv[3], int(argv[4]), float(argv[5])))
    except ValueError as error:
        print("bad argument: %s" % error, file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # connection, protocol or API errors
        print("error: %r" % (error,), file=sys.stderr)
        return EXIT_ERROR
    print(__doc__, file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main(sys.argv))
