import Foundation
import Testing
import TributaryCompression
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport

/// Tributary's Kafka client against librdkafka 2.16 (confluent-kafka), both directions, on the
/// harness's broker.
@Suite("Kafka interop with librdkafka", .serialized)
struct LibrdkafkaInteropTests {
    struct PeerRecord: Codable, Equatable {
        var partition: Int32?
        var offset: Int64?
        var key: String?
        var value: String?
        var headers: [[String?]]
    }

    private static func hex(_ bytes: [UInt8]?) -> String? {
        bytes.map { $0.map { String(format: "%02x", $0) }.joined() }
    }

    private static func unhex(_ text: String?) -> [UInt8]? {
        guard let text else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    private static func peer(_ arguments: [String]) throws -> ChildProcess {
        try pythonPeer("librdkafka_peer.py", arguments)
    }

    private static func client() async throws -> (KafkaClient, String) {
        try await harnessKafkaClient()
    }

    /// Every shape a record can take: keys and no key, null and empty values, headers with
    /// repeated names and null values, binary bytes.
    private static let samples: [(key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header])] = (0..<60).map { index in
        let key: [UInt8]? = index % 5 == 0 ? nil : Array("order-\(index % 13)".utf8)
        let value: [UInt8]?
        switch index % 6 {
        case 0: value = nil
        case 1: value = []
        case 2: value = (0..<256).map { UInt8($0) }
        default: value = Array("payload \(index) ".utf8) + Array(repeating: UInt8(ascii: "x"), count: index * 17)
        }
        let headers: [KafkaRecord.Header] = index % 2 == 0 ? [("trace-id", Array("t-\(index)".utf8)), ("dup", [1]), ("dup", [2]), ("nothing", nil)] : []
        return (key, value, headers)
    }

    private static func peerShape(_ sample: (key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header])) -> PeerRecord {
        PeerRecord(partition: nil, offset: nil, key: hex(sample.key), value: hex(sample.value), headers: sample.headers.map { [$0.key, hex($0.value)] })
    }

    @Test(arguments: [KafkaCompressionCodec.none, .gzip, .snappy, .lz4, .zstd])
    func librdkafkaReadsWhatTributaryProduces(codec: KafkaCompressionCodec) async throws {
        let (client, brokers) = try await Self.client()
        defer { client.close() }
        let topic = "interop-to-rdk-\(codec)-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        var configuration = KafkaProducerConfiguration()
        configuration.compression = codec
        let producer = try client.makeProducer(configuration)
        var placed: [(partition: Int32, offset: Int64)] = []
        for sample in Self.samples {
            let metadata = try await producer.send(topic: topic, key: sample.key, value: sample.value, headers: sample.headers)
            placed.append((metadata.partition, metadata.offset))
        }
        try await producer.close()

        let peer = try Self.peer(["consume", brokers, topic, "3", "\(Self.samples.count)", "30"])
        try peer.start()
        let result = await peer.finish(timeout: .seconds(60))
        #expect(result.status == 0, "peer: \(result.stderr)")
        let received = result.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(PeerRecord.self, from: Data($0.utf8)) }
        #expect(received.count == Self.samples.count)
        for (index, sample) in Self.samples.enumerated() {
            var expected = Self.peerShape(sample)
            expected.partition = placed[index].partition
            expected.offset = placed[index].offset
            #expect(received.contains(expected), "record \(index) (\(codec)) did not arrive byte-identically")
        }
        try await client.deleteTopics([topic])
    }

    @Test(arguments: ["none", "gzip", "snappy", "lz4", "zstd"])
    func tributaryReadsWhatLibrdkafkaProduces(codec: String) async throws {
        let (client, brokers) = try await Self.client()
        defer { client.close() }
        let topic = "interop-from-rdk-\(codec)-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        let input = try Self.samples.map { sample -> String in
            String(decoding: try JSONEncoder().encode(Self.peerShape(sample)), as: UTF8.self)
        }.joined(separator: "\n")
        let peer = try Self.peer(["produce", brokers, topic, codec])
        try peer.start()
        let result = await peer.finish(stdin: Data(input.utf8), timeout: .seconds(60))
        #expect(result.status == 0, "peer: \(result.stderr)")
        struct Delivery: Codable { var index: Int; var partition: Int32; var offset: Int64 }
        let deliveries = result.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(Delivery.self, from: Data($0.utf8)) }
        #expect(deliveries.count == Self.samples.count)

        var configuration = KafkaConsumerConfiguration()
        configuration.fetchMaxWait = .milliseconds(100)
        let consumer = try client.makeConsumer(configuration)
        defer { consumer.close() }
        for partition in Int32(0)..<3 { try await consumer.assign(topic: topic, partition: partition, from: .earliest) }
        var records: [KafkaConsumerRecord] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while records.count < Self.samples.count && ContinuousClock.now < deadline {
            records += try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(500))
        }
        #expect(records.count == Self.samples.count)
        for delivery in deliveries {
            let sample = Self.samples[delivery.index]
            let record = records.first { $0.partition == delivery.partition && $0.offset == delivery.offset }
            #expect(record != nil, "record \(delivery.index) missing")
            guard let record else { continue }
            #expect(record.key == sample.key)
            #expect(record.value == sample.value)
            #expect(record.headers.map(\.key) == sample.headers.map(\.key))
            #expect(record.headers.map(\.value) == sample.headers.map(\.value))
        }
        try await client.deleteTopics([topic])
    }

    @Test func keysLandOnTheSamePartitionAsWithLibrdkafka() async throws {
        let (client, brokers) = try await Self.client()
        defer { client.close() }
        let partitionCount = 7
        let topic = "interop-partitioner-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: Int32(partitionCount)))
        var generator = SystemRandomNumberGenerator()
        let keys: [[UInt8]] = (0..<1000).map { index in
            index % 2 == 0 ? Array("order-\(index)".utf8) : (0..<(1 + index % 40)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        let peer = try Self.peer(["partitions", brokers, topic])
        try peer.start()
        let result = await peer.finish(stdin: Data(keys.map { Self.hex($0)! }.joined(separator: "\n").utf8), timeout: .seconds(60))
        #expect(result.status == 0, "peer: \(result.stderr)")
        let theirs = result.stdout.split(separator: "\n").compactMap { Int($0) }
        #expect(theirs.count == keys.count)
        let ours = keys.map { KafkaPartitioner.partition(forKey: $0, partitionCount: partitionCount) }
        #expect(ours == theirs)

        // And the producer itself puts them there.
        let producer = try client.makeProducer()
        for key in keys.prefix(50) {
            let metadata = try await producer.send(topic: topic, key: key, value: [1])
            #expect(Int(metadata.partition) == KafkaPartitioner.partition(forKey: key, partitionCount: partitionCount))
        }
        try await producer.close()
        try await client.deleteTopics([topic])
    }
}
