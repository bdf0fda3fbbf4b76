#!/usr/bin/env python3
"""nats-py JetStream peer for Tributary's interop tests (nats-py 2.16.0, pinned in Tools/brokers.sh).

Run it with the Python recorded as TRIBUTARY_PYTHON in .brokers/env (it has nats-py).

    nats_py_jetstream_peer.py pub URL SUBJECT COUNT
        Publishes COUNT messages with `js.publish`, i = 0 ..< COUNT, payload b"py-%d" % i and
        header Nats-Msg-Id: py-<i>, then publishes message 0 again with the same id. Prints one
        JSON object per acknowledgement: {"stream": "...", "seq": N, "duplicate": true|false}.

    nats_py_jetstream_peer.py pull URL STREAM DURABLE COUNT TIMEOUT_SECONDS
        Binds a pull subscription to the existing durable consumer DURABLE of STREAM, fetches
        until COUNT messages arrived, acknowledges each with `msg.ack_sync()` (the server
        confirms), and prints one JSON object per message:
            {"data": "...", "stream_seq": N, "delivered": N, "msg_id": "..." or null}
        Exits 0 after COUNT messages, 3 when TIMEOUT_SECONDS pass first.

    nats_py_jetstream_peer.py kv URL BUCKET KEY VALUE
        Creates the key-value bucket BUCKET with nats-py (its stream KV_<BUCKET> has
        allow_direct false) and puts KEY = VALUE; prints {"revision": N}.

Exit codes: 0 success, 2 usage, 3 timeout, 4 connection or protocol error.
"""

import asyncio
import json
import sys

import nats
import nats.errors

EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_ERROR = 4


async def connect(url):
    async def quiet(_error):
        pass

    return await nats.connect(servers=[url], error_cb=quiet, allow_reconnect=False, connect_timeout=5)


async def publish(url, subject, count):
    nc = await connect(url)
    js = nc.jetstream()
    for i in list(range(count)) + [0]:
        ack = await js.publish(subject, b"py-%d" % i, headers={"Nats-Msg-Id": "py-%d" % i})
        print(json.dumps({"stream": ack.stream, "seq": ack.seq, "duplicate": bool(ack.duplicate)}), flush=True)
    await nc.close()
    return 0


async def pull(url, stream, durable, count, timeout):
    nc = await connect(url)
    js = nc.jetstream()
    psub = await js.pull_subscribe_bind(durable=durable, stream=stream)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    received = 0
    while received < count:
        left = deadline - loop.time()
        if left <= 0:
            await nc.close()
            return EXIT_TIMEOUT
        try:
            msgs = await psub.fetch(count - received, timeout=min(left, 2.0))
        except nats.errors.TimeoutError:
            continue
        for msg in msgs:
            await msg.ack_sync()
            received += 1
            headers = msg.headers or {}
            print(json.dumps({
                "data": msg.data.decode("utf-8", "replace"),
                "stream_seq": msg.metadata.sequence.stream,
                "delivered": msg.metadata.num_delivered,
                "msg_id": headers.get("Nats-Msg-Id"),
            }), flush=True)
    await nc.close()
    return 0


async def key_value(url, bucket, key, value):
    nc = await connect(url)
    js = nc.jetstream()
    kv = await js.create_key_value(bucket=bucket)
    revision = await kv.put(key, value.encode())
    print(json.dumps({"revision": revision}), flush=True)
    await nc.close()
    return 0


def main(argv):
    try:
        if len(argv) == 5 and argv[1] == "pub":
            return asyncio.run(publish(argv[2], argv[3], int(argv[4])))
        if len(argv) == 7 and argv[1] == "pull":
            return asyncio.run(pull(argv[2], argv[3], argv[4], int(argv[5]), float(argv[6])))
        if len(argv) == 6 and argv[1] == "kv":
            return asyncio.run(key_value(argv[2], argv[3], argv[4], argv[5]))
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
