import Foundation
import Synchronization
import Testing
import TributaryKafka
import TributaryNATS
import TributaryTestSupport

/// A tool whose stdout is a pipe nobody reads (a stalled reader, like `tool | sleep 1000`):
/// once the pipe is full, every write blocks. Its stderr is collected.
final class StalledReaderChild: @unchecked Sendable {
    // The Process and pipes are used by one test task; `collected` is shared with the stderr
    // reader thread under its lock.
    let process = Process()
    private let out = Pipe()
    private let err = Pipe()
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

    /// Waits until the peak RSS has not grown for `quiet` (at least `minimum` after the start,
    /// at most `timeout`) and returns it.
    func settledPeakResidentBytes(quiet: Duration = .seconds(4), minimum: Duration = .seconds(6), timeout: Duration = .seconds(90)) async throws -> Int {
        let start = ContinuousClock.now
        var peak = 0
        var grewAt = start
        while ContinuousClock.now - start < timeout, process.isRunning {
            let now = peakResidentBytes ?? peak
            if now > peak {
                peak = now
                grewAt = .now
            }
            if ContinuousClock.now - start >= minimum && ContinuousClock.now - grewAt >= quiet { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        return peak
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
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
}
