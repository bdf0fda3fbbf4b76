import TributaryWire

/// The header in front of every Kafka response body.
///
/// - Version 0: the correlation ID.
/// - Version 1: adds a tagged-field section; used with flexible response versions, except for
///   ApiVersions, which always answers with version 0 (KIP-511).
///
/// ``KafkaAPIKey/responseHeaderVersion(for:)`` picks the version.
public struct KafkaResponseHeader: Hashable, Sendable {
    /// The correlation ID of the request this response answers.
    public var correlationID: Int32
    /// Tagged fields of header version 1 that this code does not know.
    public var unknownTaggedFields: [WireTaggedField]

    /// Creates a header.
    public init(correlationID: Int32, unknownTaggedFields: [WireTaggedField] = []) {
        self.correlationID = correlationID
        self.unknownTaggedFields = unknownTaggedFields
    }

    /// Reads a header of `headerVersion` (0 or 1).
    ///
    /// - Throws: `WireDecodingError` for truncated or malformed input or an unknown header version.
    public init(from reader: inout ByteReader, headerVersion: Int16) throws(WireDecodingError) {
        guard (0...1).contains(headerVersion) else {
            throw reader.error(.unsupportedVersion, expected: "response header version 0 or 1", found: "version \(headerVersion)")
        }
        correlationID = try reader.readInt32("correlationID")
        unknownTaggedFields = []
        if headerVersion >= 1 {
            unknownTaggedFields = try reader.readTaggedFields("response header") { _, _ in false }
        }
    }

    /// Appends the header at `headerVersion` (0 or 1).
    ///
    /// - Throws: `WireEncodingError` for an unknown header version or a duplicate tag in
    ///   `unknownTaggedFields`. Nothing is appended then.
    public func encode(into writer: inout ByteWriter, headerVersion: Int16) throws(WireEncodingError) {
        guard (0...1).contains(headerVersion) else {
            throw .unsupportedVersion("response header", version: headerVersion, supported: 0...1)
        }
        let start = writer.count
        do throws(WireEncodingError) {
            writer.writeInt32(correlationID)
            if headerVersion >= 1 {
                try writer.writeTaggedFields(unknownTaggedFields, "response header")
            }
        } catch {
            writer.truncate(to: start)
            throw error
        }
    }
}
