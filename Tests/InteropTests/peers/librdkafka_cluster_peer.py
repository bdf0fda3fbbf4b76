#!/usr/bin/env python3
"""librdkafka peer (confluent-kafka 2.16.1, pinned in Tools/brokers.sh) for the three-broker
view tests: librdkafka as the control on the same set-up as Tributary's producer.
Run it with the Python recorded as TRIBUTARY_PYTHON in .brokers/env.

    librdkafka_cluster_peer.py produce BROKERS TOPIC COUNT PAUSES
        Produces COUNT records, value "seq-<i>-" plus padding, key "order-<i % 40>", with
        enable.idempotence=true and acks=all. Before record i for each i in PAUSES (comma
        separated), prints "pause <i>" and waits for one line on stdin, so the test can move a
        leader or take a broker down while earlier records are still in flight. At the end
        it flushes and prints {"delivered": D, "errors": E, "first_error": "..." | null} and
        exits 0 when every record was delivered, 2 otherwise.
"""
import json
import sys

from confluent_kafka import Producer


def produce(brokers, topic, count, pauses):
    outcome = {"delivered": 0, "errors": 0, "first_error": None}

    def report(error, _message):
        if error is None:
            outcome["delivered"] += 1
        else:
            outcome["errors"] += 1
            if outcome["first_error"] is None:
                outcome["first_error"] = str(error)

    producer = Producer({
        "bootstrap.servers": brokers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "retry.backoff.ms": 50,
        "message.timeout.ms": 120000,
        "socket.timeout.ms": 10000,
    })
    padding = b"." * 60
    for index in range(count):
        if index in pauses:
            print(f"pause {index}", flush=True)
            if not sys.stdin.readline():
                break
        value = f"seq-{index}-".encode() + padding
        while True:
            try:
                producer.produce(topic, key=f"order-{index % 40}".encode(), value=value, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    remaining = producer.flush(150)
    if remaining:
        outcome["errors"] += remaining
        outcome["first_error"] = outcome["first_error"] or f"{remaining} records still queued after flush"
    print(json.dumps(outcome), flush=True)
    return 0 if outcome["delivered"] == count and outcome["errors"] == 0 else 2


def main(argv):
    if len(argv) == 6 and argv[1] == "produce":
        pauses = {int(p) for p in argv[5].split(",") if p}
        return produce(argv[2], argv[3], int(argv[4]), pauses)
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
