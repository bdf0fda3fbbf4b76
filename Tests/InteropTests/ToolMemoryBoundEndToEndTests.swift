import Foundation
import Synchronization
import Testing
import TributaryCompression
import TributaryKafka
import TributaryKafkaProtocol
import TributaryNATS
import TributaryTestSupport
import TributaryWire

/// A tool whose stdout is a pipe nobody reads (a stalled reader, like `tool | sleep 1000`):
/// once the pipe is full, every write blocks. Its stderr is collected.
final class StalledReaderChild: @unchecked Sendable {
    // The Process and pipes are used by one test task; `collected` is shared with the stderr
    // reader thread under its lock.
    let process = Subprocess()
    private let out = SubprocessPipe()
    private let err = SubprocessPipe()
    private let collected = Collected()

    private final class Collected: Sendable {
        let data = Mutex(Data())
    }

    init(_ executable: String, _ arguments: [String]) {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
    }

    deinit { stop() }

    func start() throws {
        try process.run()
        let handle = err.fileHandleForReading
        let collected = self.collected
        Thread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                collected.data.withLock { $0.append(chunk) }
            }
        }.start()
    }

    var stderr: String { String(decoding: collected.data.withLock { $0 }, as: UTF8.self) }

    /// Waits until stderr contains `text` (or `timeout` passes); whether it did.
    func waitForStderr(containing text: String, timeout: Duration = .seconds(20)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Peak resident set size so far (`VmHWM` in /proc/PID/status), in bytes.
    var peakResidentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }

    /// CPU time used so far (utime + stime in /proc/PID/stat), in clock ticks.
    var cpuTicks: Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    /// Waits until the tool has been idle for `quiet` (its peak RSS did not grow and it used
    /// almost no CPU: it is blocked on its output), at least `minimum` after the start and at
    /// most `timeout`, and returns the peak RSS.
    func settledPeakResidentBytes(quiet: Duration = .seconds(3), minimum: Duration = .seconds(5), timeout: Duration = .seconds(120)) async throws -> Int {
        let start = ContinuousClock.now
        var peak = 0
        var ticks = 0
        var activeAt = start
        while ContinuousClock.now - start < timeout, process.isRunning {
            let rss = peakResidentBytes ?? peak
            let used = cpuTicks ?? ticks
            // More than 2 ticks (20 ms) of CPU in a 250 ms sample is work, not idling.
            if rss > peak || used > ticks + 2 { activeAt = .now }
            peak = max(peak, rss)
            ticks = used
            if ContinuousClock.now - start >= minimum && ContinuousClock.now - activeAt >= quiet { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        return peak
    }

    func stop() {
        if process.isRunning {
            // A killed child ends within milliseconds; this short wait reaps it.
            process.signal(SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// The tools keep their memory bounded when their reader stalls, and name a peer that is not
/// what they expected. Peak RSS comes from /proc/PID/status (VmHWM) of the tool itself.
@Suite("Tools: memory bounds and wrong peers", .serialized)
struct ToolMemoryBoundEndToEndTests {
    static let mebibyte = 1024 * 1024

    @Test func kafkaCatListOnANATSPortSaysItIsNotAKafkaBroker() async throws {
        let natsURL = try BrokerEnvironment.natsURL()
        let port = try #require(natsURL.split(separator: ":").last.map(String.init))
        let child = ChildProcess(try toolPath("kafka-cat"), ["-L", "-b", "127.0.0.1:\(port)"])
        try child.start()
        let result = await child.finish()
        #expect(result.status != 0)
        // What the peer sent, quoted, escaped and cut short, and what to check.
        #expect(result.stderr.contains("127.0.0.1:\(port) is not a Kafka broker (it sent \"INFO {\\\"server_id\\\""), "\(result.stderr)")
        #expect(result.stderr.contains("…\")"), "\(result.stderr)")
        #expect(result.stderr.contains("bootstrap.servers"), "\(result.stderr)")
        #expect(!result.stderr.contains("ByteReader") && !result.stderr.contains("limit"), "\(result.stderr)")
    }

    /// kafka-cat -C on a 200 MB topic whose output nobody reads: the consumer stops fetching at
    /// its buffer bound (`maxBufferedBytes`, 64 MiB by default). The margin covers the process
    /// itself (about 27 MiB before the first fetch), the response being decoded, the part of
    /// records waiting for room and the allocator's per-thread arenas (measured here: 99 to
    /// 127 MiB in all).
    @Test func aStalledKafkaCatConsumerStaysWithinItsBufferBound() async throws {
        let brokers = try BrokerEnvironment.recorded("KAFKA_BROKERS")
        let client = try await KafkaClient.connect(try KafkaClientConfiguration(bootstrapServers: brokers))
        defer { client.close() }
        let topic = "stalled-cat-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 1, replicationFactor: 1))
        let producer = try client.makeProducer()
        let value = [UInt8](repeating: 0x78, count: 1024)
        let records = 200 * 1024   // 200 MiB of values
        for index in 0..<records {
            try await producer.produce(topic: topic, key: nil, value: value, partition: 0)
            if index % 10_000 == 9_999 { try await producer.flush() }
        }
        try await producer.close()

        let child = StalledReaderChild(try toolPath("kafka-cat"), ["-b", brokers, "-C", "-t", topic, "-o", "beginning", "-q"])
        try child.start()
        defer { child.stop() }
        let peak = try await child.settledPeakResidentBytes()
        #expect(child.process.isRunning, "\(child.stderr)")
        let bound = KafkaConsumerConfiguration.defaultMaxBufferedBytes + 96 * Self.mebibyte
        print("kafka-cat -C, stalled reader, 200 MiB topic: peak RSS \(peak / Self.mebibyte) MiB (bound \(bound / Self.mebibyte) MiB)")
        // It did fill its buffer (tens of MiB fetched), and stopped at the bound.
        #expect(peak >= 48 * Self.mebibyte, "peak RSS \(peak) bytes")
        #expect(peak <= bound, "peak RSS \(peak) bytes")
        try await client.deleteTopics([topic])
    }

    /// nats-sub with a stalled reader under a flood: pending limits hold, and the drops are
    /// reported as a rate-limited line with a running count.
    func floodStalledNATSSub(messages: Int, payload: [UInt8], headers: NATSHeaders?, bound: Int, label: String) async throws {
        let natsURL = try BrokerEnvironment.natsURL()
        let subject = "stalled.\(UInt32.random(in: 0...UInt32.max))"
        let child = StalledReaderChild(try toolPath("nats-sub"), ["-s", natsURL, subject])
        try child.start()
        defer { child.stop() }
        #expect(try await child.waitForStderr(containing: "Subscribing on \(subject)"), "\(child.stderr)")

        let publisher = try await NATSClient.connect(NATSOptions(url: natsURL))
        let started = ContinuousClock.now
        for index in 0..<messages {
            try await publisher.publishWaiting(payload, to: subject, headers: headers)
            if index % 50_000 == 49_999 { try await publisher.flush() }
        }
        try await publisher.flush()
        #expect(try await child.waitForStderr(containing: "dropped"), "\(child.stderr)")
        let peak = try await child.settledPeakResidentBytes(quiet: .seconds(3), minimum: .seconds(3))
        let elapsed = ContinuousClock.now - started
        await publisher.close()

        let reports = child.stderr.split(separator: "\n").filter { $0.contains("dropped") }
        print("nats-sub, stalled reader, \(label): peak RSS \(peak / Self.mebibyte) MiB (bound \(bound / Self.mebibyte) MiB), \(reports.count) drop reports in \(elapsed)")
        #expect(child.process.isRunning, "\(child.stderr)")
        #expect(peak <= bound, "peak RSS \(peak) bytes")
        // At most one report a second (plus the first), each with the running total.
        #expect(!reports.isEmpty)
        #expect(reports.count <= Int(elapsed.components.seconds) + 2, "\(reports.count) reports in \(elapsed)")
        #expect(reports.allSatisfy { $0.contains(" in total)") }, "\(reports)")
    }

    @Test func aStalledNATSSubUnderAPlainFloodStaysBounded() async throws {
        // 1,000,000 messages of 16 bytes: past the 524,288-message pending limit.
        try await floodStalledNATSSub(messages: 1_000_000, payload: Array("0123456789abcdef".utf8), headers: nil,
                                      bound: 192 * Self.mebibyte, label: "16 B flood")
    }

    @Test func aStalledNATSSubUnderAHeaderHeavyFloodStaysBounded() async throws {
        // 5,000 messages with 32 KiB of headers: 160 MB, past the 64 MiB pending byte limit.
        var headers = NATSHeaders()
        headers["Blob"] = String(repeating: "h", count: 32 * 1024)
        try await floodStalledNATSSub(messages: 5_000, payload: Array("x".utf8), headers: headers,
                                      bound: 64 * Self.mebibyte + 96 * Self.mebibyte, label: "32 KiB-header flood")
    }

    // MARK: - A decompression bomb from a scripted broker

    /// The records section of `count` records with empty values at offset deltas 0, 1, 2, …:
    /// about 10 bytes a record.
    static func tinyRecordsSection(count: Int) -> [UInt8] {
        var section: [UInt8] = []
        section.reserveCapacity(count * 11)
        var body: [UInt8] = []
        func varint(_ value: UInt64, into bytes: inout [UInt8]) {
            var rest = value
            while rest >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            bytes.append(UInt8(rest))
        }
        for delta in 0..<count {
            body.removeAll(keepingCapacity: true)
            body.append(0)                          // attributes
            body.append(0)                          // timestamp delta 0
            varint(UInt64(delta) << 1, into: &body) // offset delta (zigzag)
            body.append(1)                          // key: null (-1)
            body.append(0)                          // value: empty
            body.append(0)                          // no headers
            varint(UInt64(body.count) << 1, into: &section)
            section += body
        }
        return section
    }

    /// A gzip batch at `baseOffset` around a compressed records section of `count` records.
    static func gzipBatch(baseOffset: Int64, compressedSection: [UInt8], count: Int32) -> [UInt8] {
        var tail = ByteWriter()
        tail.writeInt16(Int16(KafkaCompressionCodec.gzip.rawValue))
        tail.writeInt32(count - 1)                  // last offset delta
        tail.writeInt64(1_700_000_000_000)
        tail.writeInt64(1_700_000_000_000)
        tail.writeInt64(-1)
        tail.writeInt16(-1)
        tail.writeInt32(-1)
        tail.writeInt32(count)
        tail.writeRawBytes(compressedSection)
        var batch = ByteWriter()
        batch.writeInt64(baseOffset)
        batch.writeInt32(Int32(9 + tail.bytes.count))
        batch.writeInt32(0)
        batch.writeInt8(2)
        batch.writeUInt32(CRC32C.checksum(tail.bytes))
        batch.writeRawBytes(tail.bytes)
        return batch.bytes
    }

    /// kafka-cat -C against a broker whose one Fetch response holds three gzip batches of
    /// 4,000,000 empty records each (about 40 MB decompressed per batch, 12 million records),
    /// with output nobody reads: records are decoded only as the buffer has room, so the peak
    /// stays near one decompressed batch plus the buffer bound instead of gigabytes.
    @Test func kafkaCatOnAGzipBombOfTinyRecordsStaysWithinItsBound() async throws {
        let perBatch = 4_000_000
        let section = Self.tinyRecordsSection(count: perBatch)
        let compressed = try Compression.codec(for: .gzip).compress(section)
        var response: [UInt8] = []
        for index in 0..<3 {
            response += Self.gzipBatch(baseOffset: Int64(index * perBatch), compressedSection: compressed, count: Int32(perBatch))
        }
        let broker = try Self.scriptedBroker(topic: "bomb", records: response, end: Int64(3 * perBatch))
        defer { broker.stop() }
        print("gzip bomb: \(response.count) bytes in one response, \(section.count) bytes decompressed per batch, \(3 * perBatch) records")

        let child = StalledReaderChild(try toolPath("kafka-cat"), ["-b", broker.bootstrapServers, "-C", "-t", "bomb", "-o", "beginning", "-q"])
        try child.start()
        defer { child.stop() }
        let peak = try await child.settledPeakResidentBytes()
        #expect(child.process.isRunning, "\(child.stderr)")
        #expect(!child.stderr.contains("error"), "\(child.stderr)")
        // The buffer bound, one decompressed batch (at most the bound too), and a margin for the
        // process, the 16.8 MB response it holds while decoding and the allocator's arenas
        // (measured: 160 to 190 MiB in all).
        let bound = 2 * KafkaConsumerConfiguration.defaultMaxBufferedBytes + 128 * Self.mebibyte
        print("kafka-cat -C, stalled reader, gzip bomb: peak RSS \(peak / Self.mebibyte) MiB (bound \(bound / Self.mebibyte) MiB)")
        // It did decompress a batch and decode records into its buffer.
        #expect(peak >= 96 * Self.mebibyte, "peak RSS \(peak) bytes")
        #expect(peak <= bound, "peak RSS \(peak) bytes")
    }

    /// A broker on a TCP port with one topic of one partition whose log ends at `end`: a Fetch
    /// at offset 0 returns `records`, later ones nothing; ListOffsets answers 0 and `end`.
    static func scriptedBroker(topic: String, records: [UInt8], end: Int64) throws -> InMemoryKafkaBroker {
        try InMemoryKafkaBroker.listening { connection, _ in
            connection.serve(topics: [.init(name: topic, partitions: 1)], timeout: .seconds(120)) { request in
                switch request.api {
                case .listOffsets?:
                    guard let asked = try? request.decode(ListOffsetsRequest.self) else { return false }
                    var answer = ListOffsetsResponse()
                    answer.topics = asked.topics.map { topic in
                        .init(name: topic.name, partitions: topic.partitions.map {
                            .init(partitionIndex: $0.partitionIndex, timestamp: -1, offset: $0.timestamp == -1 ? end : 0)
                        })
                    }
                    return (try? connection.respond(answer, to: request)) ?? false
                case .fetch?:
                    guard let asked = try? request.decode(FetchRequest.self), let partition = asked.topics.first?.partitions.first else { return false }
                    var data = FetchResponse.FetchableTopicResponse.PartitionData()
                    data.partitionIndex = partition.partition
                    data.highWatermark = end
                    data.lastStableOffset = end
                    data.logStartOffset = 0
                    data.records = partition.fetchOffset == 0 ? records : []
                    if partition.fetchOffset != 0 { Thread.sleep(forTimeInterval: 0.2) }
                    var answer = FetchResponse()
                    answer.responses = [.init(topic: topic, partitions: [data])]
                    return (try? connection.respond(answer, to: request)) ?? false
                default:
                    return false
                }
            }
        }
    }

    /// kafka-cat -C -e on a partition whose only batch states 10 MB and comes back as 100
    /// bytes: it exits with an error naming the partition and offset after a few backed-off
    /// fetches, instead of fetching the same bytes forever.
    @Test func kafkaCatExitsOnABatchThatNeverComesWhole() async throws {
        var cut = Self.gzipBatch(baseOffset: 0, compressedSection: try Compression.codec(for: .gzip).compress(Self.tinyRecordsSection(count: 100)), count: 100)
        cut.replaceSubrange(8..<12, with: [0x00, 0x98, 0x96, 0x80])   // batch length 10,000,000
        let broker = try Self.scriptedBroker(topic: "cut", records: Array(cut.prefix(100)), end: 100)
        defer { broker.stop() }
        let child = ChildProcess(try toolPath("kafka-cat"), ["-b", broker.bootstrapServers, "-C", "-t", "cut", "-o", "beginning", "-e"])
        try child.start()
        let result = await child.finish(timeout: .seconds(60))
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("fetches of cut [0] at offset 0"), "\(result.stderr)")
        #expect(result.stderr.contains("never a complete record batch"), "\(result.stderr)")
    }
}
