#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A key or value the producer can send: `[UInt8]`, `String` (UTF-8), `Substring`, `Data`, or
/// any `Encodable` wrapped in ``KafkaJSON``. Conform your own types to send them directly.
public protocol KafkaPayload {
    /// The bytes to send.
    ///
    /// - Throws: an error when the value cannot be encoded; the producer reports it as
    ///   ``KafkaError`` `invalidArgument`.
    func kafkaBytes() throws -> [UInt8]
}

extension Array: KafkaPayload where Element == UInt8 {
    /// The bytes themselves.
    public func kafkaBytes() -> [UInt8] { self }
}

extension String: KafkaPayload {
    /// The UTF-8 bytes.
    public func kafkaBytes() -> [UInt8] { Array(utf8) }
}

extension Substring: KafkaPayload {
    /// The UTF-8 bytes.
    public func kafkaBytes() -> [UInt8] { Array(utf8) }
}

extension Data: KafkaPayload {
    /// The bytes.
    public func kafkaBytes() -> [UInt8] { [UInt8](self) }
}

/// An `Encodable` value sent as JSON: `producer.send(topic: "orders", key: order.id, value: KafkaJSON(order))`.
public struct KafkaJSON<Value: Encodable>: KafkaPayload {
    /// The value.
    public var value: Value
    /// The encoder used. Default: a plain `JSONEncoder()`.
    public var encoder: JSONEncoder

    /// Wraps `value`; `encoder` defaults to `JSONEncoder()`.
    public init(_ value: Value, encoder: JSONEncoder = JSONEncoder()) {
        self.value = value
        self.encoder = encoder
    }

    /// The JSON encoding of ``value``.
    public func kafkaBytes() throws -> [UInt8] { [UInt8](try encoder.encode(value)) }
}

extension KafkaProducer {
    /// ``send(topic:key:value:headers:partition:timestamp:)`` with any ``KafkaPayload`` key and
    /// value: `String`, `Data`, `[UInt8]` or `KafkaJSON(value)`.
    ///
    /// - Throws: ``KafkaError`` `invalidArgument` when the key or value cannot be encoded, else as
    ///   the byte version.
    @discardableResult
    public func send(topic: String, key: (any KafkaPayload)?, value: (any KafkaPayload)?, headers: [KafkaRecord.Header] = [],
                     partition: Int32? = nil, timestamp: Int64? = nil) async throws(KafkaError) -> KafkaRecordMetadata {
        let (keyBytes, valueBytes) = try Self.bytes(key: key, value: value, topic: topic)
        return try await send(topic: topic, key: keyBytes, value: valueBytes, headers: headers, partition: partition, timestamp: timestamp)
    }

    /// ``produce(topic:key:value:headers:partition:timestamp:onDelivery:)`` with any
    /// ``KafkaPayload`` key and value: `String`, `Data`, `[UInt8]` or `KafkaJSON(value)`.
    ///
    /// - Throws: ``KafkaError`` `invalidArgument` when the key or value cannot be encoded, else as
    ///   the byte version.
    public func produce(topic: String, key: (any KafkaPayload)?, value: (any KafkaPayload)?, headers: [KafkaRecord.Header] = [],
                        partition: Int32? = nil, timestamp: Int64? = nil,
                        onDelivery: (@Sendable (Result<KafkaRecordMetadata, KafkaError>) -> Void)? = nil) async throws(KafkaError) {
        let (keyBytes, valueBytes) = try Self.bytes(key: key, value: value, topic: topic)
        try await produce(topic: topic, key: keyBytes, value: valueBytes, headers: headers, partition: partition, timestamp: timestamp, onDelivery: onDelivery)
    }

    private static func bytes(key: (any KafkaPayload)?, value: (any KafkaPayload)?, topic: String) throws(KafkaError) -> ([UInt8]?, [UInt8]?) {
        do {
            return (try key?.kafkaBytes(), try value?.kafkaBytes())
        } catch {
            throw KafkaError(.invalidArgument, "a record for topic '\(topic)' could not be encoded: \(error); check the value's Encodable conformance or encoder",
                             topic: topic, underlying: error)
        }
    }
}

extension KafkaConsumerRecord {
    /// The value as UTF-8 text (invalid sequences replaced), nil for a null value.
    public var valueString: String? { value.map { String(decoding: $0, as: UTF8.self) } }
    /// The key as UTF-8 text (invalid sequences replaced), nil for a null key.
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
    /// The value as `Data`, nil for a null value.
    public var valueData: Data? { value.map { Data($0) } }

    /// The value decoded from JSON.
    ///
    /// - Throws: ``KafkaError`` `invalidArgument` naming the record and the decoding problem
    ///   (never the payload) when the value is null or does not decode as `type`.
    public func decode<Value: Decodable>(_ type: Value.Type, decoder: JSONDecoder = JSONDecoder()) throws(KafkaError) -> Value {
        guard let value else {
            throw KafkaError(.invalidArgument, "\(self) has a null value (a tombstone); there is no \(Value.self) to decode",
                             topic: topic, partition: partition, offset: offset)
        }
        do {
            return try decoder.decode(Value.self, from: Data(value))
        } catch {
            throw KafkaError(.invalidArgument, "the value of \(self) (\(value.count) bytes) does not decode as \(Value.self): \(Self.describe(error)); check the producer's format",
                             topic: topic, partition: partition, offset: offset, underlying: error)
        }
    }

    /// What a decoding error says, without the payload.
    private static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return String(describing: type(of: error)) }
        let (context, what): (DecodingError.Context, String) = switch decoding {
        case .dataCorrupted(let context): (context, "not valid JSON")
        case .keyNotFound(let key, let context): (context, "missing key '\(key.stringValue)'")
        case .typeMismatch(let type, let context): (context, "expected \(type)")
        case .valueNotFound(let type, let context): (context, "null where \(type) was expected")
        @unknown default: (DecodingError.Context(codingPath: [], debugDescription: ""), "decoding failed")
        }
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? what : "\(what) at '\(path)'"
    }
}
