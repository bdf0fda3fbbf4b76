/// One request a client sent, as reported on ``KafkaClient/requestTraces``.
public struct KafkaRequestTrace: Sendable, Hashable, CustomStringConvertible {
    /// `host:port` of the broker.
    public var broker: String
    /// The API.
    public var api: KafkaAPIKey
    /// The API version.
    public var version: Int16
    /// The correlation id.
    public var correlationID: Int32
    /// The frame's size in bytes, without the size prefix.
    public var size: Int

    /// `Sent Metadata request (v12, 51 bytes @ 127.0.0.1:9092, corrid 2)`.
    public var description: String {
        "Sent \(api.name) request (v\(version), \(size) bytes @ \(broker), corrid \(correlationID))"
    }
}

/// The sending side of ``KafkaClient/requestTraces``: connections report here. Never blocks:
/// the stream keeps the newest traces when nobody reads.
final class KafkaRequestTracer: Sendable {
    let stream: AsyncStream<KafkaRequestTrace>
    private let continuation: AsyncStream<KafkaRequestTrace>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: KafkaRequestTrace.self, bufferingPolicy: .bufferingNewest(10_000))
    }

    /// Reports a queued request frame (size prefix, API key, version, correlation id, …).
    func sent(_ frame: [UInt8], api: KafkaAPIKey, broker: String) {
        guard frame.count >= 12 else { return }
        let version = Int16(bitPattern: UInt16(frame[6]) << 8 | UInt16(frame[7]))
        let id = Int32(bitPattern: UInt32(frame[8]) << 24 | UInt32(frame[9]) << 16 | UInt32(frame[10]) << 8 | UInt32(frame[11]))
        continuation.yield(KafkaRequestTrace(broker: broker, api: api, version: version, correlationID: id, size: frame.count - 4))
    }

    func finish() { continuation.finish() }
}
