#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TributaryTestSupport
import TributaryTransport

/// The Kafka-protocol broker the harness starts (tansu, or KAFKA_BROKERS) answers the protocol.
/// The request and response bytes are written out by hand from the Kafka protocol guide, so this
/// checks the broker independently of the project's generated Kafka code.
@Suite("Kafka broker from the harness")
struct KafkaBrokerHarnessTests {
    @Test func apiVersionsV0ListsProduceAndFetch() throws {
        let brokers = try BrokerEnvironment.recorded("KAFKA_BROKERS")
        let first = brokers.split(separator: ",")[0]
        guard let colon = first.lastIndex(of: ":"), let port = Int(first[first.index(after: colon)...]) else {
            Issue.record("KAFKA_BROKERS '\(brokers)' is not host:port")
            return
        }
        let socket = try TCPSocket.connect(host: String(first[..<colon]), port: port, timeout: .seconds(5))
        defer { socket.close() }

        // Request header v1: api_key INT16 = 18 (ApiVersions), api_version INT16 = 0,
        // correlation_id INT32 = 7, client_id NULLABLE_STRING "tributary"; ApiVersions v0 has no body.
        var request: [UInt8] = [0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x09]
        request += Array("tributary".utf8)
        let frame = [UInt8(0), 0, 0, UInt8(request.count)] + request
        try frame.withUnsafeBytes { try socket.writeAll($0, timeout: .seconds(5)) }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < 4 || received.count < 4 + Int(UInt32(bigEndian: received.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })) {
            guard try socket.waitFor(events: Int16(POLLIN), timeout: .seconds(5)) else {
                Issue.record("no complete ApiVersions response within 5 s (got \(received.count) bytes)")
                return
            }
            if case .bytes(let n) = try buffer.withUnsafeMutableBytes({ try socket.read(into: $0) }) {
                received += buffer[0..<n]
            }
        }
        func int16(_ at: Int) -> Int { Int(Int16(bitPattern: UInt16(received[at]) << 8 | UInt16(received[at + 1]))) }
        func int32(_ at: Int) -> Int { Int(Int32(bitPattern: UInt32(received[at]) << 24 | UInt32(received[at + 1]) << 16 | UInt32(received[at + 2]) << 8 | UInt32(received[at + 3]))) }
        // Response header v0: correlation_id; body v0: error_code INT16, [api_key min max] INT32-counted array.
        #expect(int32(4) == 7, "correlation id")
        #expect(int16(8) == 0, "error code")
        let count = int32(10)
        #expect(count > 0 && count < 200)
        var keys: Set<Int> = []
        for index in 0..<max(0, min(count, 200)) where 14 + index * 6 + 6 <= received.count {
            keys.insert(int16(14 + index * 6))
        }
        #expect(keys.isSuperset(of: [0, 1, 2, 3, 18]), "Produce, Fetch, ListOffsets, Metadata, ApiVersions: \(keys.sorted())")
    }
}

@Suite("Kafka broker profile")
struct KafkaBrokerProfileTests {
    @Test func profileFollowsTheAnnouncedAPIs() {
        // tansu 0.6.0's ApiVersions answer, as measured.
        let tansu: Set<Int16> = [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 24, 25, 26, 28, 29, 30, 32, 36, 42, 44, 46, 50, 51, 60, 69, 71, 75]
        #expect(KafkaBrokerProfile.profile(announcing: tansu) == .tansu)
        #expect(KafkaBrokerProfile.profile(announcing: tansu.union([23, 37])) == .kafka)
    }

    @Test func theHarnessBrokerIsProfiledFromItsApiVersions() throws {
        let keys = try KafkaBrokerProfile.announcedAPIs()
        #expect(keys.isSuperset(of: [0, 1, 2, 3, 18]), "\(keys.sorted())")
        // Tools/brokers.sh leaves kafka.pid when it started tansu itself (not with --external).
        let startedHere = FileManager.default.fileExists(atPath: BrokerEnvironment.repoRoot().appendingPathComponent(".brokers/kafka.pid").path)
        if startedHere {
            #expect(try KafkaBrokerProfile.current() == .tansu)
        }
    }
}
