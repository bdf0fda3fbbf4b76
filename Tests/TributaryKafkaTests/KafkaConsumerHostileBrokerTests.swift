import Foundation
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
            let fetches = Locked<[FetchSeen]>([])
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

        /// Fetches seen so far.
        var fetchCount: Int { seen.count }

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

    // MARK: - A batch the broker never returns whole

    /// The first 100 bytes of a batch whose header states `statedLength` bytes after the offset
    /// and length fields.
    static func cutBatch(statedLength: Int32) throws -> [UInt8] {
        var whole = try batch(baseOffset: 0, records: [(delta: 0, value: Array(repeating: 0x61, count: 200))])
        whole.replaceSubrange(8..<12, with: withUnsafeBytes(of: statedLength.bigEndian, Array.init))
        return Array(whole.prefix(100))
    }

    static func consumer(_ client: KafkaClient, _ configure: (inout KafkaConsumerConfiguration) -> Void = { _ in }) async throws -> KafkaConsumer {
        var configuration = KafkaConsumerConfiguration()
        configure(&configuration)
        let consumer = try client.makeConsumer(configuration)
        try await consumer.assign(topic: topic, partition: 0, from: .offset(0))
        return consumer
    }

    /// Polls until records or an error arrive, for up to `timeout`.
    static func firstError(of consumer: KafkaConsumer, timeout: Duration = .seconds(90)) async -> KafkaError? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            do {
                _ = try await consumer.poll(timeout: .milliseconds(200))
            } catch {
                return error
            }
        }
        return nil
    }

    @Test func aBatchThatStaysCutIsAnErrorAfterABoundedNumberOfBackedOffFetches() async throws {
        // The header states 10 MB; the broker returns 100 bytes however much is asked for.
        let cut = try Self.cutBatch(statedLength: 10_000_000)
        let broker = FetchBroker(highWatermark: 1) { _, _ in cut }
        let client = try await broker.client()
        defer { client.close() }
        let consumer = try await Self.consumer(client)
        defer { consumer.close() }

        let error = try #require(await Self.firstError(of: consumer))
        #expect(error.code == .corruptRecords)
        #expect(error.topic == Self.topic && error.partition == 0 && error.offset == 0)
        #expect(error.message.contains("never a complete record batch"), "\(error)")
        #expect(error.message.contains("seek past offset 0"), "\(error)")
        let fetches = broker.seen
        #expect(fetches.count == KafkaConsumer.maxIncompleteFetches, "\(fetches.count) fetches")
        // The first fetch asked for maxPartitionFetchBytes; the next ones for the whole batch.
        #expect(fetches.first?.partitionMaxBytes == Int32(KafkaConsumerConfiguration.defaultMaxPartitionFetchBytes))
        #expect(fetches.dropFirst().allSatisfy { $0.partitionMaxBytes == 10_000_012 }, "\(fetches.map(\.partitionMaxBytes))")
        // Backed off between attempts (retryBackoff 20 ms, less 20 % jitter), not a hot loop.
        for (earlier, later) in zip(fetches, fetches.dropFirst()) {
            #expect(later.at - earlier.at >= .milliseconds(15), "\(later.at - earlier.at)")
        }
        // The partition stopped fetching.
        try await Task.sleep(for: .milliseconds(300))
        #expect(broker.fetchCount == fetches.count)
    }

    @Test func aBatchLargerThanFetchMaxBytesIsAnErrorNamingTheSetting() async throws {
        let cut = try Self.cutBatch(statedLength: 10_000_000)
        let broker = FetchBroker(highWatermark: 1) { _, _ in cut }
        let client = try await broker.client()
        defer { client.close() }
        let consumer = try await Self.consumer(client) { $0.fetchMaxBytes = 1024 * 1024 }
        defer { consumer.close() }

        let error = try #require(await Self.firstError(of: consumer))
        #expect(error.code == .corruptRecords)
        #expect(error.message.contains("is 10000012 bytes, more than fetchMaxBytes (1048576)"), "\(error)")
        #expect(error.message.contains("raise KafkaConsumerConfiguration.fetchMaxBytes"), "\(error)")
        #expect(broker.fetchCount == 1)
    }

    @Test func aBatchCutAtTheFetchSizeIsFetchedWholeWithALargerSize() async throws {
        // A broker without KIP-74 cuts the first batch at the partition's max bytes.
        let records = (0..<4).map { (delta: Int32($0), value: Array(repeating: UInt8(0x61 + $0), count: 600)) }
        let whole = try Self.batch(baseOffset: 0, records: records)
        let broker = FetchBroker(highWatermark: 4) { offset, maxBytes in
            offset == 0 ? Array(whole.prefix(Int(maxBytes))) : []
        }
        let client = try await broker.client()
        defer { client.close() }
        let consumer = try await Self.consumer(client) { $0.maxPartitionFetchBytes = 1000 }
        defer { consumer.close() }
        var received: [KafkaConsumerRecord] = []
        for try await record in consumer.records {
            received.append(record)
            if received.count == 4 { break }
        }
        #expect(received.map(\.offset) == [0, 1, 2, 3])
        #expect(broker.seen.prefix(2).map(\.partitionMaxBytes) == [1000, Int32(whole.count)])
        // The request as a whole asks for no more than its partition does.
        #expect(broker.seen.prefix(2).map(\.maxBytes) == [1000, Int32(whole.count)])
    }

    /// tansu 0.6.0 ignores `partitionMaxBytes` and fills a one-partition response up to the
    /// request's `maxBytes` (about 5 MB when asked for 50 MiB); the request therefore asks for
    /// at most what its partitions' limits add up to, and never more than `fetchMaxBytes`.
    @Test(arguments: [(partitions: 1, fetchMaxBytes: 50 * 1024 * 1024, expected: 1024 * 1024),
                      (partitions: 2, fetchMaxBytes: 50 * 1024 * 1024, expected: 2 * 1024 * 1024),
                      (partitions: 2, fetchMaxBytes: 1536 * 1024, expected: 1536 * 1024)])
    func aFetchAsksForNoMoreThanItsPartitionsLimitsAddUpTo(partitions: Int, fetchMaxBytes: Int, expected: Int) async throws {
        let asked = Locked<[(partitions: Int, maxBytes: Int32)]>([])
        let broker = InMemoryKafkaBroker { connection, _ in
            connection.serve(topics: [.init(name: Self.topic, partitions: Int32(partitions))]) { request in
                guard request.api == .fetch, let fetch = try? request.decode(FetchRequest.self) else { return false }
                asked.withLock { $0.append((fetch.topics.reduce(0) { $0 + $1.partitions.count }, fetch.maxBytes)) }
                var response = FetchResponse()
                for topic in fetch.topics {
                    let data = topic.partitions.map { partition -> FetchResponse.FetchableTopicResponse.PartitionData in
                        var data = FetchResponse.FetchableTopicResponse.PartitionData()
                        data.partitionIndex = partition.partition
                        return data
                    }
                    response.responses.append(.init(topic: topic.topic, partitions: data))
                }
                Thread.sleep(forTimeInterval: 0.05)
                return (try? connection.respond(response, to: request)) ?? false
            }
        }
        var configuration = try KafkaClientConfiguration(bootstrapServers: broker.bootstrapServers)
        configuration.streamFactory = broker.streamFactory
        let client = try await KafkaClient.connect(configuration)
        defer { client.close() }
        let consumer = try await Self.consumer(client) { $0.fetchMaxBytes = fetchMaxBytes }
        defer { consumer.close() }
        for partition in 1..<partitions { try await consumer.assign(topic: Self.topic, partition: Int32(partition), from: .offset(0)) }
        try await eventually("a fetch of every partition") { asked.withLock { $0.contains { $0.partitions == partitions } } }
        let full = asked.withLock { $0.first { $0.partitions == partitions } }
        #expect(full?.maxBytes == Int32(expected))
    }

    @Test func aPartitionCutByTheResponseLimitIsFetchedWholeWhenItLeads() async throws {
        // A KIP-74 broker: the partition that leads the request gets its batch whole, the
        // others are cut at the response's limit. Each partition leads a request in turn.
        let records = (0..<3).map { (delta: Int32($0), value: Self.value($0)) }
        let whole = try Self.batch(baseOffset: 0, records: records)
        let broker = InMemoryKafkaBroker { connection, _ in
            connection.serve(topics: [.init(name: Self.topic, partitions: 2)]) { request in
                guard request.api == .fetch, let fetch = try? request.decode(FetchRequest.self) else { return false }
                let asked = fetch.topics.flatMap { topic in topic.partitions.map { (topic: topic.topic, partition: $0) } }
                var response = FetchResponse()
                for (index, entry) in asked.enumerated() {
                    var data = FetchResponse.FetchableTopicResponse.PartitionData()
                    data.partitionIndex = entry.partition.partition
                    data.highWatermark = 3
                    data.logStartOffset = 0
                    data.records = entry.partition.fetchOffset >= 3 ? [] : (index == 0 ? whole : Array(whole.prefix(40)))
                    response.responses.append(.init(topic: entry.topic, partitions: [data]))
                }
                if asked.allSatisfy({ $0.partition.fetchOffset >= 3 }) { Thread.sleep(forTimeInterval: 0.05) }
                return (try? connection.respond(response, to: request)) ?? false
            }
        }
        var configuration = try KafkaClientConfiguration(bootstrapServers: broker.bootstrapServers)
        configuration.streamFactory = broker.streamFactory
        configuration.retryBackoff = .milliseconds(20)
        let client = try await KafkaClient.connect(configuration)
        defer { client.close() }
        let consumer = try client.makeConsumer()
        defer { consumer.close() }
        for partition: Int32 in [0, 1] { try await consumer.assign(topic: Self.topic, partition: partition, from: .offset(0)) }
        var received: [KafkaConsumerRecord] = []
        let deadline = ContinuousClock.now + .seconds(90)
        while received.count < 6 && ContinuousClock.now < deadline {
            received += try await consumer.poll(timeout: .milliseconds(200))
        }
        #expect(received.filter { $0.partition == 0 }.map(\.offset) == [0, 1, 2])
        #expect(received.filter { $0.partition == 1 }.map(\.offset) == [0, 1, 2])
    }

    // MARK: - Decompression bombs: the bound covers records, not just bytes

    /// A gzip batch of `count` records with a one-byte value each.
    static func tinyRecordsBatch(baseOffset: Int64, count: Int) throws -> [UInt8] {
        try batch(baseOffset: baseOffset, records: (0..<count).map { (delta: Int32($0), value: [UInt8(truncatingIfNeeded: $0)]) }, codec: .gzip)
    }

    /// Waits until the consumer buffered at least half its bound, lets it run on, and returns
    /// the most it buffered meanwhile.
    static func bufferedPeak(_ consumer: KafkaConsumer, bound: Int) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(90)
        var peak = 0
        while ContinuousClock.now < deadline {
            peak = max(peak, consumer.bufferedByteCount)
            if peak >= bound / 2 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        for _ in 0..<30 {
            peak = max(peak, consumer.bufferedByteCount)
            try await Task.sleep(for: .milliseconds(10))
        }
        return peak
    }

    /// Reads `count` records and checks their offsets run 0, 1, 2, …
    static func readAll(_ consumer: KafkaConsumer, count: Int) async throws {
        var expected: Int64 = 0
        for try await record in consumer.records {
            #expect(record.offset == expected)
            if record.offset != expected { return }
            expected += 1
            if expected == count { break }
        }
        #expect(expected == Int64(count))
    }

    @Test func aGzipBatchOfMillionsOfTinyRecordsIsHandedOverInPartsWithinTheBound() async throws {
        // 300,000 records: about 3.3 MB decompressed from well under 1 MB, 40 MB as records.
        let count = 300_000
        let bomb = try Self.tinyRecordsBatch(baseOffset: 0, count: count)
        #expect(bomb.count < 1_000_000)
        let broker = FetchBroker(highWatermark: Int64(count)) { offset, _ in offset == 0 ? bomb : [] }
        let client = try await broker.client()
        defer { client.close() }
        let bound = 4 * 1024 * 1024
        let consumer = try await Self.consumer(client) { $0.maxBufferedBytes = bound }
        defer { consumer.close() }

        let peak = try await Self.bufferedPeak(consumer, bound: bound)
        #expect(peak >= bound / 2)
        // The bound, plus at most one part handed over while the buffer was not yet full.
        #expect(peak <= bound + bound / 16 + 1024, "buffered \(peak) bytes with a bound of \(bound)")
        try await Self.readAll(consumer, count: count)
    }

    @Test func oneResponseOfManyBombBatchesStaysWithinTheBound() async throws {
        // Eight batches of 50,000 records in one response: 400,000 records, about 50 MB of them.
        let perBatch = 50_000
        var batches: [UInt8] = []
        for index in 0..<8 { batches += try Self.tinyRecordsBatch(baseOffset: Int64(index * perBatch), count: perBatch) }
        let response = batches
        let total = 8 * perBatch
        let broker = FetchBroker(highWatermark: Int64(total)) { offset, _ in offset == 0 ? response : [] }
        let client = try await broker.client()
        defer { client.close() }
        let bound = 2 * 1024 * 1024
        let consumer = try await Self.consumer(client) { $0.maxBufferedBytes = bound }
        defer { consumer.close() }

        let peak = try await Self.bufferedPeak(consumer, bound: bound)
        #expect(peak <= bound + bound / 16 + 1024, "buffered \(peak) bytes with a bound of \(bound)")
        try await Self.readAll(consumer, count: total)
        #expect(broker.seen.filter { $0.offset == 0 }.count == 1)   // decoded once, not fetched again
    }

    @Test func aSeekWhileDecodingWaitsForRoomStartsCleanlyAtTheNewOffset() async throws {
        // 2,000 records of 100 bytes: far more than a 64 KiB buffer holds, so decoding waits.
        let records = (0..<2000).map { (delta: Int32($0), value: Array(repeating: UInt8($0 % 251), count: 100)) }
        let bytes = try Self.batch(baseOffset: 0, records: records)
        let broker = FetchBroker(highWatermark: 2000) { offset, _ in offset < 2000 ? bytes : [] }
        let client = try await broker.client()
        defer { client.close() }
        let consumer = try await Self.consumer(client) { $0.maxBufferedBytes = 64 * 1024 }
        defer { consumer.close() }
        // Generous: under the parallel unit run on two cores the first fetch can start a minute late.
        let filled = ContinuousClock.now + .seconds(90)
        while consumer.bufferedByteCount == 0 && ContinuousClock.now < filled { try await Task.sleep(for: .milliseconds(10)) }
        #expect(consumer.bufferedByteCount > 0)

        try await consumer.seek(topic: Self.topic, partition: 0, to: .offset(1500))
        #expect(consumer.position(topic: Self.topic, partition: 0) == 1500)
        var expected: Int64 = 1500
        for try await record in consumer.records {
            #expect(record.offset == expected)
            if record.offset != expected { break }
            expected += 1
            if expected == 2000 { break }
        }
        #expect(expected == 2000)
        let deadline = ContinuousClock.now + .seconds(60)
        while !consumer.isAtEnd(topic: Self.topic, partition: 0) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(consumer.isAtEnd(topic: Self.topic, partition: 0))
        #expect(consumer.position(topic: Self.topic, partition: 0) == 2000)
    }

    @Test func aBatchThatDecompressesBeyondTheBufferBoundIsAnErrorNamingTheSetting() async throws {
        // 2 MB of zeros in one record's value, gzip-compressed to a few KB.
        let bomb = try Self.batch(baseOffset: 0, records: [(delta: 0, value: Array(repeating: 0, count: 2_000_000))], codec: .gzip)
        let broker = FetchBroker(highWatermark: 1) { offset, _ in offset == 0 ? bomb : [] }
        let client = try await broker.client()
        defer { client.close() }
        let consumer = try await Self.consumer(client) { $0.maxBufferedBytes = 1024 * 1024 }
        defer { consumer.close() }

        let error = try #require(await Self.firstError(of: consumer))
        #expect(error.code == .corruptRecords)
        #expect(error.topic == Self.topic && error.partition == 0 && error.offset == 0)
        #expect(error.message.contains("decompresses to more than maxBufferedBytes (1048576 bytes)"), "\(error)")
    }

    // MARK: - Offsets a batch cannot have

    @Test func repeatedOffsetDeltasAreACorruptBatchNamingTopicPartitionAndBaseOffset() async throws {
        // Five records, all at delta 0, in a batch that says its last delta is 4.
        let records = (0..<5).map { (delta: Int32(0), value: Self.value($0)) }
        let bad = try Self.batch(baseOffset: 7, records: records, lastOffsetDelta: 4)
        let broker = FetchBroker(highWatermark: 12) { offset, _ in offset == 7 ? bad : [] }
        let client = try await broker.client()
        defer { client.close() }
        var configuration = KafkaConsumerConfiguration()
        configuration.maxBufferedBytes = 1024 * 1024
        let consumer = try client.makeConsumer(configuration)
        defer { consumer.close() }
        try await consumer.assign(topic: Self.topic, partition: 0, from: .offset(7))

        let error = try #require(await Self.firstError(of: consumer))
        #expect(error.code == .corruptRecords)
        #expect(error.topic == Self.topic && error.partition == 0 && error.offset == 7)
        #expect(error.message.contains("offset deltas that increase strictly up to lastOffsetDelta 4"), "\(error)")
        #expect(error.message.contains("offset delta 0 after 0"), "\(error)")
        #expect(consumer.bufferedByteCount == 0)
    }

    @Test func aRecordCountBeyondLastOffsetDeltaIsACorruptBatch() async throws {
        let records = (0..<10).map { (delta: Int32($0), value: Self.value($0)) }
        let bad = try Self.batch(baseOffset: 0, records: records, lastOffsetDelta: 4)
        let broker = FetchBroker(highWatermark: 10) { offset, _ in offset == 0 ? bad : [] }
        let client = try await broker.client()
        defer { client.close() }
        let consumer = try await Self.consumer(client)
        defer { consumer.close() }

        let error = try #require(await Self.firstError(of: consumer))
        #expect(error.code == .corruptRecords)
        #expect(error.offset == 0)
        #expect(error.message.contains("records count of at most lastOffsetDelta + 1 (5)"), "\(error)")
    }
    /// `close()` shuts the connection of a fetch the broker is holding, so that fetch fails
    /// ("closed by the client"); that is no failure of the consumer: `poll` after `close()`
    /// returns nothing instead of throwing it.
    @Test func aFetchFailedByCloseIsNotThrownByPoll() async throws {
        let fetches = Locked(0)
        let broker = InMemoryKafkaBroker { connection, _ in
            connection.serve(topics: [.init(name: Self.topic, partitions: 1)]) { request in
                guard request.api == .fetch else { return false }
                fetches.withLock { $0 += 1 }
                Thread.sleep(forTimeInterval: 5)  // a broker holding the fetch for data; close() comes first
                return false
            }
        }
        var configuration = try KafkaClientConfiguration(bootstrapServers: broker.bootstrapServers)
        configuration.streamFactory = broker.streamFactory
        let client = try await KafkaClient.connect(configuration)
        defer { client.close() }
        let consumer = try client.makeConsumer()
        try await consumer.assign(topic: Self.topic, partition: 0, from: .offset(0))
        let deadline = ContinuousClock.now + .seconds(30)
        while fetches.withLock({ $0 }) == 0 && ContinuousClock.now < deadline { _ = try await consumer.poll(timeout: .milliseconds(20)) }
        #expect(fetches.withLock { $0 } >= 1, "the consumer never fetched")
        consumer.close()
        try await Task.sleep(for: .milliseconds(300))  // the held fetch has failed by now
        let records = try await consumer.poll(timeout: .milliseconds(50))
        #expect(records.isEmpty)
    }
}
