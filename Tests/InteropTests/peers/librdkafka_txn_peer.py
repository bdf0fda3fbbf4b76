#!/usr/bin/env python3
"""librdkafka (confluent-kafka) as a transactional peer of Tributary's Kafka client.

    librdkafka_txn_peer.py produce BROKERS TOPIC TRANSACTIONAL_ID
        one partition (0): commits "c1" "c2", aborts "a1" "a2", commits "c3"; prints one JSON
        line per delivered record: {"value": ..., "offset": ...}
    librdkafka_txn_peer.py consume BROKERS TOPIC ISOLATION SECONDS
        reads partition 0 from the start with isolation.level ISOLATION (read_committed or
        read_uncommitted) until SECONDS pass without a new record; prints {"value", "offset"}
"""

import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def produce(brokers, topic, transactional_id):
    producer = Producer({"bootstrap.servers": brokers, "transactional.id": transactional_id, "linger.ms": 5})
    delivered = []

    def callback(error, message):
        if error is None:
            delivered.append({"value": message.value().decode(), "offset": message.offset()})
        else:
            print(f"delivery failed: {error}", file=sys.stderr)

    producer.init_transactions(30)
    for values, commit in ((["c1", "c2"], True), (["a1", "a2"], False), (["c3"], True)):
        producer.begin_transaction()
        for value in values:
            producer.produce(topic, value.encode(), partition=0, on_delivery=callback)
        producer.flush(30)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    for entry in delivered:
        print(json.dumps(entry), flush=True)
    return 0 if len(delivered) == 5 else 2


def consume(brokers, topic, isolation, seconds):
    consumer = Consumer({
        "bootstrap.servers": brokers,
        "group.id": "tributary-txn-peer",
        "enable.auto.commit": False,
        "isolation.level": isolation,
    })
    consumer.assign([TopicPartition(topic, 0, 0)])
    quiet_until = time.time() + seconds
    while time.time() < quiet_until:
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error():
            print(f"consume error: {message.error()}", file=sys.stderr)
            continue
        print(json.dumps({"value": message.value().decode(), "offset": message.offset()}), flush=True)
        quiet_until = time.time() + seconds
    consumer.close()
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "produce":
        return produce(argv[2], argv[3], argv[4])
    if len(argv) == 6 and argv[1] == "consume":
        return consume(argv[2], argv[3], argv[4], float(argv[5]))
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
