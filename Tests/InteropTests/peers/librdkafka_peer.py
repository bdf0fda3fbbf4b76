#!/usr/bin/env python3
"""librdkafka peer (confluent-kafka 2.16.1, pinned in Tools/brokers.sh) for Tributary's
Kafka interop tests. Run it with the Python recorded as TRIBUTARY_PYTHON in .brokers/env.

Records travel as JSON lines, bytes as hex so that null, empty and binary stay distinct:
    {"partition": P, "offset": O, "key": "hex" | null, "value": "hex" | null,
     "headers": [["name", "hex" | null], ...]}

    librdkafka_peer.py consume BROKERS TOPIC PARTITIONS COUNT TIMEOUT_SECONDS
        Assigns partitions 0..PARTITIONS-1 from offset 0, prints COUNT records (one JSON line
        each) and exits 0; 3 when TIMEOUT_SECONDS pass first.

    librdkafka_peer.py produce BROKERS TOPIC CODEC
        Reads records from stdin (JSON lines; "partition" may be null for the partitioner)
        and produces them with compression.type=CODEC, acks=all; prints one line per
        delivery, {"index": i, "partition": P, "offset": O}, and exits 0 when every record was
        delivered, 2 on any delivery error (printed to stderr).

    librdkafka_peer.py group BROKERS GROUP TOPIC ASSIGNOR SECONDS
        Joins GROUP (session timeout 6 s, heartbeat 500 ms, partition.assignment.strategy
        ASSIGNOR, auto commit off) subscribed to TOPIC for SECONDS, printing
        {"assigned": [partitions]} / {"revoked": [partitions]} on every rebalance and
        {"partition": P, "offset": O} per record read, then leaves the group and exits 0.

    librdkafka_peer.py committed BROKERS GROUP TOPIC PARTITIONS
        Prints {"P": committed offset, ...} for partitions 0..PARTITIONS-1 (-1001 when none),
        as librdkafka's committed() returns them.

    librdkafka_peer.py commit BROKERS GROUP TOPIC P:O[,P:O...]
        Commits those offsets for GROUP (synchronously, without joining) and exits 0.

    librdkafka_peer.py partitions BROKERS TOPIC [PARTITIONER]
        Reads hex keys from stdin, one per line, produces one record per key with the
        PARTITIONER (default murmur2_random, the Java client's placement) and prints the
        partition librdkafka chose for each key, one number per line, in input order.

SASL: with PEER_SASL_MECHANISM, PEER_SASL_USERNAME and PEER_SASL_PASSWORD in the environment,
every client uses security.protocol=SASL_PLAINTEXT with those settings. With
PEER_SASL_MECHANISM=OAUTHBEARER, PEER_OAUTHBEARER_CONFIG instead gives librdkafka's
sasl.oauthbearer.config (principal=NAME ...) for its unsecured-JWT mode
(enable.sasl.oauthbearer.unsecure.jwt=true).
"""
import json
import os
import sys

from confluent_kafka import Consumer, Producer, TopicPartition


def secured(config):
    """Adds the SASL settings from the environment, if any."""
    mechanism = os.environ.get("PEER_SASL_MECHANISM")
    if mechanism == "OAUTHBEARER":
        config.update({
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": mechanism,
            "enable.sasl.oauthbearer.unsecure.jwt": True,
            "sasl.oauthbearer.config": os.environ["PEER_OAUTHBEARER_CONFIG"],
        })
    elif mechanism:
        config.update({
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": mechanism,
            "sasl.username": os.environ["PEER_SASL_USERNAME"],
            "sasl.password": os.environ["PEER_SASL_PASSWORD"],
        })
    return config


def unhex(value):
    return None if value is None else bytes.fromhex(value)


def tohex(value):
    return None if value is None else value.hex()


def consume(brokers, topic, partitions, count, timeout):
    import time
    consumer = Consumer(secured({
        "bootstrap.servers": brokers,
        "group.id": "tributary-interop-peer",
        "enable.auto.commit": False,
        "api.version.request": True,
    }))
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    deadline = time.time() + timeout
    seen = 0
    while seen < count:
        if time.time() > deadline:
            return 3
        message = consumer.poll(0.5)
        if message is None:
            continue
        if message.error():
            print(f"consume error: {message.error()}", file=sys.stderr)
            continue
        headers = message.headers() or []
        print(json.dumps({
            "partition": message.partition(),
            "offset": message.offset(),
            "key": tohex(message.key()),
            "value": tohex(message.value()),
            "headers": [[name, tohex(value)] for name, value in headers],
        }), flush=True)
        seen += 1
    consumer.close()
    return 0


def produce(brokers, topic, codec):
    producer = Producer(secured({
        "bootstrap.servers": brokers,
        "compression.type": codec,
        "acks": "all",
        "linger.ms": 5,
    }))
    failures = []
    results = {}

    def report(index):
        def callback(error, message):
            if error is not None:
                failures.append(f"record {index}: {error}")
            else:
                results[index] = (message.partition(), message.offset())
        return callback

    lines = [line for line in sys.stdin.read().splitlines() if line.strip()]
    for index, line in enumerate(lines):
        record = json.loads(line)
        kwargs = {
            "key": unhex(record.get("key")),
            "value": unhex(record.get("value")),
            "headers": [(name, unhex(value)) for name, value in record.get("headers", [])],
            "on_delivery": report(index),
        }
        if record.get("partition") is not None:
            kwargs["partition"] = record["partition"]
        producer.produce(topic, **kwargs)
        producer.poll(0)
    remaining = producer.flush(30)
    if remaining or failures:
        print(f"{remaining} undelivered; failures: {failures[:5]}", file=sys.stderr)
        return 2
    for index in range(len(lines)):
        partition, offset = results[index]
        print(json.dumps({"index": index, "partition": partition, "offset": offset}))
    return 0


def partitions(brokers, topic, partitioner="murmur2_random"):
    producer = Producer({"bootstrap.servers": brokers, "partitioner": partitioner, "linger.ms": 5})
    keys = [bytes.fromhex(line.strip()) for line in sys.stdin.read().splitlines() if line.strip()]
    chosen = [None] * len(keys)
    failures = []

    def report(index):
        def callback(error, message):
            if error is not None:
                failures.append(str(error))
            else:
                chosen[index] = message.partition()
        return callback

    for index, key in enumerate(keys):
        producer.produce(topic, key=key, value=b"p", on_delivery=report(index))
        producer.poll(0)
    producer.flush(30)
    if failures or any(value is None for value in chosen):
        print(f"delivery failures: {failures[:5]}", file=sys.stderr)
        return 2
    for value in chosen:
        print(value)
    return 0


def group(brokers, group_id, topic, assignor, seconds):
    import time
    consumer = Consumer({
        "bootstrap.servers": brokers,
        "group.id": group_id,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
        "partition.assignment.strategy": assignor,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    })

    def on_assign(_, partitions):
        print(json.dumps({"assigned": sorted(p.partition for p in partitions)}), flush=True)

    def on_revoke(_, partitions):
        print(json.dumps({"revoked": sorted(p.partition for p in partitions)}), flush=True)

    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    deadline = time.time() + seconds
    while time.time() < deadline:
        message = consumer.poll(0.2)
        if message is None or message.error():
            continue
        print(json.dumps({"partition": message.partition(), "offset": message.offset()}), flush=True)
    consumer.close()
    return 0


def committed(brokers, group_id, topic, partitions):
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": group_id, "enable.auto.commit": False})
    result = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=15)
    print(json.dumps({str(tp.partition): tp.offset for tp in result}))
    consumer.close()
    return 0


def commit(brokers, group_id, topic, spec):
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": group_id, "enable.auto.commit": False})
    offsets = []
    for item in spec.split(","):
        partition, offset = item.split(":")
        offsets.append(TopicPartition(topic, int(partition), int(offset)))
    consumer.commit(offsets=offsets, asynchronous=False)
    consumer.close()
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 1
    command = argv[1]
    if command == "consume" and len(argv) == 7:
        return consume(argv[2], argv[3], int(argv[4]), int(argv[5]), float(argv[6]))
    if command == "produce" and len(argv) == 5:
        return produce(argv[2], argv[3], argv[4])
    if command == "group" and len(argv) == 7:
        return group(argv[2], argv[3], argv[4], argv[5], float(argv[6]))
    if command == "committed" and len(argv) == 6:
        return committed(argv[2], argv[3], argv[4], int(argv[5]))
    if command == "commit" and len(argv) == 6:
        return commit(argv[2], argv[3], argv[4], argv[5])
    if command == "partitions" and len(argv) == 4:
        return partitions(argv[2], argv[3])
    if command == "partitions" and len(argv) == 5:
        return partitions(argv[2], argv[3], argv[4])
    print(__doc__, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
