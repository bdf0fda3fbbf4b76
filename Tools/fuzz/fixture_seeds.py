#!/usr/bin/env python3
"""Writes fuzz seeds derived from the golden test fixtures into a corpus directory.

    python3 Tools/fuzz/fixture_seeds.py TARGET DIRECTORY

TARGET is a fuzz target name (fuzz-kafka-responses, fuzz-kafka-records, fuzz-gzip, ...); targets
without fixtures get nothing here (their seeds come from the target's own encoders). Each seed
carries the steering bytes the target reads first (see the target's main.swift).
"""
import json
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# The order of FuzzKafkaResponses/main.swift's `responseTypes`.
RESPONSES = [
    "Produce", "Fetch", "ListOffsets", "Metadata", "OffsetCommit", "OffsetFetch", "FindCoordinator", "JoinGroup",
    "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups", "SaslHandshake", "ApiVersions",
    "CreateTopics", "DeleteTopics", "DescribeConfigs", "SaslAuthenticate", "CreatePartitions", "DeleteGroups",
]


def hex_block(text):
    """The bytes of a hex block in a test: `//` comments and white space are dropped."""
    digits = "".join(re.sub(r"//.*", "", line) for line in text.splitlines())
    digits = re.sub(r"\s+", "", digits)
    return bytes.fromhex(digits)


def lowest_version(name):
    source = open(os.path.join(ROOT, "Sources/TributaryKafkaProtocol/Generated", name + ".swift")).read()
    match = re.search(r"struct %sResponse: KafkaResponseMessage \{.*?supportedVersions: ClosedRange<Int16> = (\d+)\.\.\." % name, source, re.S)
    return int(match.group(1))


def kafka_responses():
    """Every `// make_golden.py: XResponse vN` block in the Kafka protocol tests."""
    tests = os.path.join(ROOT, "Tests/TributaryKafkaProtocolTests")
    for file in sorted(os.listdir(tests)):
        if not file.endswith(".swift"):
            continue
        text = open(os.path.join(tests, file)).read()
        for match in re.finditer(r'// make_golden.py: (\w+)Response v(\d+)\n[^\n]*"""\n(.*?)"""', text, re.S):
            name, version, block = match.group(1), int(match.group(2)), match.group(3)
            if name not in RESPONSES:
                continue
            body = hex_block(block)
            yield "golden-%s-v%d" % (name, version), bytes([RESPONSES.index(name), version - lowest_version(name)]) + body


def kafka_records():
    """The hex record batches and legacy messages of the record tests."""
    tests = os.path.join(ROOT, "Tests/TributaryKafkaProtocolTests/Records")
    for file in sorted(os.listdir(tests)):
        text = open(os.path.join(tests, file)).read()
        for match in re.finditer(r'let (\w+Hex) = """\n(.*?)"""', text, re.S):
            try:
                body = hex_block(match.group(2))
            except ValueError:
                continue
            yield "golden-" + match.group(1), bytes([0]) + body


def compressed(codec):
    """The compressed samples of Tests/Fixtures/compression (made by the reference libraries)."""
    fixtures = json.load(open(os.path.join(ROOT, "Tests/Fixtures/compression", codec + ".json")))
    for index, vector in enumerate(fixtures["vectors"]):
        data = bytes.fromhex(vector["compressed"])
        if len(data) > 64 * 1024:
            continue
        # Limit selector 0 (1 MiB); for snappy, bit 7 picks the xerial framing for compression.
        yield "fixture-%d" % index, bytes([0]) + data


def main():
    target, directory = sys.argv[1], sys.argv[2]
    sources = {
        "fuzz-kafka-responses": kafka_responses,
        "fuzz-kafka-records": kafka_records,
        "fuzz-gzip": lambda: compressed("gzip"),
        "fuzz-snappy": lambda: compressed("snappy"),
        "fuzz-lz4": lambda: compressed("lz4"),
        "fuzz-zstd": lambda: compressed("zstd"),
    }
    if target not in sources:
        return
    os.makedirs(directory, exist_ok=True)
    count = 0
    for name, data in sources[target]():
        with open(os.path.join(directory, name), "wb") as file:
            file.write(data)
        count += 1
    print("%s: %d seeds from the test fixtures" % (target, count))


if __name__ == "__main__":
    main()
