import Foundation
import Synchronization
import Testing
import TributaryCompression
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// The consumer against a broker that answers Fetch with hand-made record bytes: an
/// `InMemoryKafkaBroker` serves ApiVersions and Metadata and lets each test decide what a
/// Fetch returns.
@Suite("KafkaConsumer against a hostile broker")
struct KafkaConsumerHostileBrokerTests {
    static let topic = "hostile"

    /// What one Fetch asked for, as the fake broker saw it.
    struct FetchSeen: Sendable {
        var offset: Int64
        var partitionMaxBytes: Int32
        var maxBytes: Int32
        var at: ContinuousClock.Instant
    }

    /// A broker whose Fetch answers come from `records` (given the fetch offset and the
    /// partition's max bytes), with a high watermark of `highWatermark`. Every Fetch is
    /// recorded in `fetches`.
    final class FetchBroker: Sendable {
        /// The Fetch requests seen so far.
        final class Recorder: Sendable {
            let fetches = Mutex<[FetchSeen]>([])
        }

        let broker: InMemoryKafkaBroker
        private let recorder = Recorder()

        init(highWatermark: Int64, records: @escaping @Sendable (_ offset: Int64, _ partitionMaxBytes: Int32) -> [UInt8]) {
            let recorder = self.recorder
            broker = InMemoryKafkaBroker { connection, _ in
                connection.serve(topics: [.init(name: KafkaConsumerHostileBrokerTests.topic, partitions: 1)]) { request in
                    guard request.api == .fetch, let fetch = try? request.decode(FetchRequest.self),
                          let partition = fetch.topics.first?.partitions.first
                    else { return false }
                    let seen = FetchSeen(offset: partition.fetchOffset, partitionMaxBytes: partition.partitionMaxBytes, maxBytes: fetch.maxBytes, at: .now)
                    recorder.fetches.withLock { $0.append(seen) }
                    var data = FetchResponse.FetchableTopicResponse.PartitionData()
                    data.partitionIndex = partition.partition
                    data.highWatermark = highWatermark
                    data.lastStableOffset = highWatermark
                    data.logStartOffset = 0
                    data.records = partition.fetchOffset < highWatermark ? records(partition.fetchOffset, partition.partitionMaxBytes) : []
                    var response = FetchResponse()
                    response.responses = [.init(topic: KafkaConsumerHostileBrokerTests.topic, partitions: [data])]
                    if partition.fetchOffset >= highWatermark {
                        // Nothing more: hold the fetch a little, as a broker does (fetch.max.wait.ms).
                        Thread.sleep(forTimeInterval: 0.05)
                    }
                    return (try? connection.respond(response, to: request)) ?? false
                }
            }
        }

        var seen: [FetchSeen] { recorder.fetches.withLock { $0 } }

        func client() async throws -> KafkaClient {
            var configuration = try KafkaClientConfiguration(bootstrapServers: broker.bootstrapServers)
            configuration.streamFactory = broker.streamFactory
            configuration.retryBackoff = .milliseconds(20)
            configuration.retryBackoffMax = .milliseconds(200)
            return try await KafkaClient.connect(configuration)
        }
    }

    /// A magic-2 batch built by hand from records given as (offset delta, value): the header
    /// says `lastOffsetDelta` and `count` (default: from the records), the records section is
    /// compressed with `codec`, and the CRC is right.
    static func batch(baseOffset: Int64, records: [(delta: Int32, value: [UInt8])], lastOffsetDelta: Int32? = nil,
                      count: Int32? = nil, codec: KafkaCompressionCodec = .none) throws -> [UInt8] {
        var section = ByteWriter()
        for record in records {
            var body = ByteWriter()
            body.writeInt8(0)                          // attributes
            body.writeVarlong(0)                       // timestamp delta
            body.writeVarint(record.delta)             // offset delta
            body.writeVarint(-1)                       // null key
            body.writeVarint(Int32(record.value.count))
            body.writeRawBytes(record.value)
            body.writeVarint(0)                        // no headers
            section.writeVarint(Int32(body.bytes.count))
            section.writeRawBytes(body.bytes)
        }
        return try batch(baseOffset: baseOffset, section: section.bytes, lastOffsetDelta: lastOffsetDelta ?? (records.last?.delta ?? 0),
                         count: count ?? Int32(records.count), codec: codec)
    }

    /// A magic-2 batch around an already-written records section.
    static func batch(baseOffset: Int64, section: [UInt8], lastOffsetDelta: Int32, count: Int32, codec: KafkaCompressionCodec) throws -> [UInt8] {
        let payload = codec == .none ? section : try Compression.codec(for: codec).compress(section)
        var tail = ByteWriter()                         // attributes .. end, what the CRC covers
        tail.writeInt16(Int16(codec.rawValue))
        tail.writeInt32(lastOffsetDelta)
        tail.writeInt64(1_700_000_000_000)              // base timestamp
        tail.writeInt64(1_700_000_000_000)              // max timestamp
        tail.writeInt64(-1)                             // producer id
        tail.writeInt16(-1)                             // producer epoch
        tail.writeInt32(-1)                             // base sequence
        tail.writeInt32(count)
        tail.writeRawBytes(payload)
        var batch = ByteWriter()
        batch.writeInt64(baseOffset)
        batch.writeInt32(Int32(4 + 1 + 4 + tail.bytes.count))   // leader epoch, magic, crc, rest
        batch.writeInt32(0)
        batch.writeInt8(2)
        batch.writeUInt32(CRC32C.checksum(tail.bytes))
        batch.writeRawBytes(tail.bytes)
        return batch.bytes
    }

    static func value(_ index: Int) -> [UInt8] { Array("value-\(index)".utf8) }

    // MARK: - The fake broker itself

    @Test func aWellFormedBatchIsConsumedThroughTheFakeBroker() async throws {
        let records = (0..<3).map { (delta: Int32($0), value: Self.value($0)) }
        let bytes = try Self.batch(baseOffset: 0, records: records)
        let broker = FetchBroker(highWatermark: 3) { offset, _ in offset == 0 ? bytes : [] }
        let client = try await broker.client()
        defer { client.close() }
        let consumer = try client.makeConsumer()
        defer { consumer.close() }
        try await consumer.assign(topic: Self.topic, partition: 0, from: .offset(0))
        var received: [KafkaConsumerRecord] = []
        for try await record in consumer.records {
            received.append(record)
            if received.count == 3 { break }
        }
        #expect(received.map(\.offset) == [0, 1, 2])
        #expect(received.map { $0.value ?? [] } == (0..<3).map(Self.value))
        #expect(received.allSatisfy { $0.topic == Self.topic && $0.partition == 0 })
        #expect(broker.seen.first?.offset == 0)
        #expect(broker.broker.acceptedCount >= 2)   // the bootstrap connection and the fetch connection
    }
}
