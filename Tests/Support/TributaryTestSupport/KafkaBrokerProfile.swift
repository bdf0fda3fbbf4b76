#if canImport(Glibc)
import TributaryWire
import Glibc
#endif
import TributaryTransport

/// Which Kafka-protocol broker the suite talks to, for the tests whose expectations differ by
/// broker. Found from the broker's ApiVersions answer, written and read by hand here so the
/// answer does not depend on the client under test.
///
/// - `.tansu`: tansu 0.6 (what `Tools/brokers.sh` starts). It announces neither
///   OffsetForLeaderEpoch (API 23) nor CreatePartitions (API 37). Its measured deviations
///   (BROKERS.md): no aborted-transactions list in Fetch, an offsets-only transaction keeps the
///   earlier offset, ListOffsets by timestamp may answer an earlier offset, DescribeGroups
///   carries neither assignor nor assignments.
/// - `.kafka`: a broker that announces both, as Apache Kafka and Redpanda do (for example
///   `Tools/test.sh --external` against `Tools/docker/docker-compose.yml`). Tests expect Kafka's
///   documented behaviour from it.
public enum KafkaBrokerProfile: String, Sendable {
    case tansu
    case kafka

    /// The API keys the broker at `KAFKA_BROKERS` announces.
    public static func announcedAPIs() throws -> Set<Int16> {
        try cache.withLock { cached in
            if let cached { return cached }
            let keys = try fetchAnnouncedAPIs()
            cached = keys
            return keys
        }
    }

    /// The profile of the broker at `KAFKA_BROKERS` (asked once per test process).
    public static func current() throws -> KafkaBrokerProfile {
        profile(announcing: try announcedAPIs())
    }

    /// The profile for a set of announced API keys.
    public static func profile(announcing keys: Set<Int16>) -> KafkaBrokerProfile {
        keys.contains(23) || keys.contains(37) ? .kafka : .tansu
    }

    private static let cache = Locked<Set<Int16>?>(nil)

    private static func fetchAnnouncedAPIs() throws -> Set<Int16> {
        let brokers = try BrokerEnvironment.recorded("KAFKA_BROKERS")
        let first = String(brokers.split(separator: ",")[0])
        guard let colon = first.lastIndex(of: ":"), let port = Int(first[first.index(after: colon)...]) else {
            throw BrokerEnvironmentError("KAFKA_BROKERS '\(brokers)' is not host:port[,host:port...]")
        }
        let host = String(first[..<colon])
        let socket = try TCPSocket.connect(host: host, port: port, timeout: .seconds(10))
        defer { socket.close() }
        // Request header v1: api_key 18 (ApiVersions), api_version 0, correlation_id 1,
        // client_id "tributary-tests"; ApiVersions v0 has no body.
        var request: [UInt8] = [0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0F]
        request += Array("tributary-tests".utf8)
        let frame = [UInt8(0), 0, 0, UInt8(request.count)] + request
        try frame.withUnsafeBytes { try socket.writeAll($0, timeout: .seconds(10)) }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        func declared() -> Int {
            Int(UInt32(received[0]) << 24 | UInt32(received[1]) << 16 | UInt32(received[2]) << 8 | UInt32(received[3]))
        }
        while received.count < 4 || received.count < 4 + declared() {
            if received.count >= 4, declared() > 64 * 1024 {
                throw BrokerEnvironmentError("the ApiVersions answer from \(first) declares \(declared()) bytes: not a Kafka broker?")
            }
            guard try socket.waitFor(events: Int16(POLLIN), timeout: .seconds(10)) else {
                throw BrokerEnvironmentError("no complete ApiVersions answer from \(first) within 10 s (got \(received.count) bytes)")
            }
            if case .bytes(let n) = try buffer.withUnsafeMutableBytes({ try socket.read(into: $0) }) {
                received += buffer[0..<n]
            }
        }
        func int16(_ at: Int) -> Int16 { Int16(bitPattern: UInt16(received[at]) << 8 | UInt16(received[at + 1])) }
        // Response header v0: correlation_id; body v0: error_code INT16, [api_key min max].
        guard received.count >= 14, int16(8) == 0 else {
            throw BrokerEnvironmentError("ApiVersions v0 to \(first) failed (\(received.count) bytes, error \(received.count >= 10 ? Int(int16(8)) : -1))")
        }
        let count = Int(Int32(bitPattern: UInt32(received[10]) << 24 | UInt32(received[11]) << 16 | UInt32(received[12]) << 8 | UInt32(received[13])))
        guard count >= 0, 14 + count * 6 <= received.count else {
            throw BrokerEnvironmentError("the ApiVersions answer from \(first) lists \(count) APIs in \(received.count) bytes")
        }
        return Set((0..<count).map { int16(14 + $0 * 6) })
    }
}
