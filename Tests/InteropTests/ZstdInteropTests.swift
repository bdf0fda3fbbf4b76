import Foundation
import Testing
import TributaryCompression
import TributaryKafka
import TributaryTestSupport

/// zstd-compressed record batches between Tributary and librdkafka 2.16 (confluent-kafka), both
/// ways, with realistic payloads: 6,000 JSON order events (about 700 KB) sent in a burst, so
/// batches grow large and their frames hold compressed blocks (Huffman literals, FSE sequences).
@Suite("zstd interop with librdkafka", .serialized)
struct ZstdInteropTests {
    static let recordCount = 6000

    /// Order events like `{"order_id":"ord-000123","customer":"c-42","amount":123.45,...}`,
    /// each value different.
    static func orderEvents() -> [[UInt8]] {
        var rng = SeededRandom(seed: 0x2575)
        let statuses = ["created", "paid", "shipped", "delivered", "cancelled"]
        let currencies = ["EUR", "USD", "GBP", "CHF"]
        return (0..<recordCount).map { index in
            let id = String(index)
            let padded = String(repeating: "0", count: max(0, 6 - id.count)) + id
            let cents = String(rng.next() % 100)
            let text = "{\"order_id\":\"ord-\(padded)\",\"customer\":\"c-\(rng.next() % 1000)\","
                + "\"amount\":\(rng.next() % 1000).\(cents.count == 1 ? "0" + cents : cents),"
                + "\"currency\":\"\(currencies[Int(rng.next() % 4)])\",\"status\":\"\(statuses[Int(rng.next() % 5)])\","
                + "\"ts\":\(1_733_450_000_000 + index * 37)}"
            return Array(text.utf8)
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    private static func peer(_ arguments: [String]) throws -> ChildProcess {
        try pythonPeer("librdkafka_peer.py", arguments)
    }

    private static func client() async throws -> (KafkaClient, String) {
        try await harnessKafkaClient()
    }

    @Test("librdkafka reads every value of zstd batches the Tributary producer wrote")
    func librdkafkaReadsOurZstd() async throws {
        let (client, brokers) = try await Self.client()
        defer { client.close() }
        let topic = "zstd-to-rdk-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 2))
        var configuration = KafkaProducerConfiguration()
        configuration.compression = .zstd
        configuration.linger = .milliseconds(50)
        let producer = try client.makeProducer(configuration)
        let values = Self.orderEvents()
        for (index, value) in values.enumerated() {
            try await producer.produce(topic: topic, key: Array("c-\(index % 97)".utf8), value: value)
        }
        try await producer.flush()
        try await producer.close()

        let peer = try Self.peer(["consume", brokers, topic, "2", "\(values.count)", "60"])
        try peer.start()
        let result = await peer.finish(timeout: .seconds(90))
        #expect(result.status == 0, "peer: \(result.stderr)")
        struct Line: Decodable { var value: String? }
        let received = result.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)).value }
        #expect(received.count == values.count, "librdkafka read \(received.count) of \(values.count) records")
        let expected = Set(values.map(Self.hex))
        #expect(Set(received) == expected, "values differ: \(expected.subtracting(received).count) missing")
        try await client.deleteTopics([topic])
    }

    @Test("Tributary reads every value of zstd batches librdkafka wrote")
    func tributaryReadsLibrdkafkaZstd() async throws {
        let (client, brokers) = try await Self.client()
        defer { client.close() }
        let topic = "zstd-from-rdk-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 2))
        let values = Self.orderEvents()
        let input = values.map { "{\"key\":null,\"value\":\"\(Self.hex($0))\",\"headers\":[]}" }.joined(separator: "\n")
        let peer = try Self.peer(["produce", brokers, topic, "zstd"])
        try peer.start()
        let result = await peer.finish(stdin: Data(input.utf8), timeout: .seconds(90))
        #expect(result.status == 0, "peer: \(result.stderr)")

        var configuration = KafkaConsumerConfiguration()
        configuration.fetchMaxWait = .milliseconds(100)
        let consumer = try client.makeConsumer(configuration)
        defer { consumer.close() }
        for partition in Int32(0)..<2 { try await consumer.assign(topic: topic, partition: partition, from: .earliest) }
        var received: [[UInt8]] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while received.count < values.count && ContinuousClock.now < deadline {
            received += try await consumer.poll(maxRecords: 2000, timeout: .milliseconds(500)).compactMap(\.value)
        }
        #expect(received.count == values.count, "read \(received.count) of \(values.count) records")
        #expect(Set(received.map(Self.hex)) == Set(values.map(Self.hex)), "values differ")
        try await client.deleteTopics([topic])
    }
}
