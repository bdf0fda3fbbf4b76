import TributaryWire

/// A Kafka request or response body that can be encoded and decoded at every version in
/// `supportedVersions`. Generated types in `Generated/` conform.
///
/// Bodies do not include the request or response header or the size prefix; see
/// ``KafkaRequestHeader``, ``KafkaResponseHeader`` and ``KafkaFraming``.
public protocol KafkaMessage: Hashable, Sendable {
    /// The API this message belongs to.
    static var apiKey: KafkaAPIKey { get }
    /// The versions this type can encode and decode.
    static var supportedVersions: ClosedRange<Int16> { get }
    /// Fields and the versions they exist in.
    static var schema: KafkaMessageSchema { get }

    /// Creates a message with every field at its protocol default.
    init()

    /// Decodes a body at `version`, leaving the reader after it.
    ///
    /// - Throws: `WireDecodingError` for malformed input or an unsupported version.
    init(from reader: inout ByteReader, version: Int16) throws(WireDecodingError)

    /// Appends the body at `version`; on error nothing is appended.
    ///
    /// - Throws: `WireEncodingError` for values the version cannot carry.
    func encode(into writer: inout ByteWriter, version: Int16) throws(WireEncodingError)
}

/// A request body; `Response` is what the broker answers with.
public protocol KafkaRequestMessage: KafkaMessage {
    /// The response type of this API.
    associatedtype Response: KafkaResponseMessage
}

/// A response body; `Request` is the request it answers.
public protocol KafkaResponseMessage: KafkaMessage {
    /// The request type of this API.
    associatedtype Request: KafkaRequestMessage
}
