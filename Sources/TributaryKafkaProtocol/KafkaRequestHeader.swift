import TributaryWire

/// The header in front of every Kafka request body.
///
/// - Version 0: API key, API version, correlation ID (only ControlledShutdown v0 uses it).
/// - Version 1: adds the client ID, a nullable string with an int16 length.
/// - Version 2: adds a tagged-field section; used with flexible request versions. The client ID
///   keeps its int16 length even then, so that any broker can read the header of any
///   ApiVersions request.
///
/// ``KafkaAPIKey/requestHeaderVersion(for:)`` picks the version.
public struct KafkaRequestHeader: Hashable, Sendable {
    /// The API key; a plain `Int16` so headers of APIs Tributary does not implement can be read.
    public var apiKey: Int16
    /// The version of the request body.
    public var apiVersion: Int16
    /// Chosen by the client and echoed in the response, to match responses to requests.
    public var correlationID: Int32
    /// The client's ID (Kafka's `client.id`), or nil. Not present in header version 0.
    public var clientID: String?
    /// Tagged fields of header version 2 that this code does not know.
    public var unknownTaggedFields: [WireTaggedField]

    /// Creates a header.
    public init(apiKey: Int16, apiVersion: Int16, correlationID: Int32, clientID: String? = nil, unknownTaggedFields: [WireTaggedField] = []) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationID = correlationID
        self.clientID = clientID
        self.unknownTaggedFields = unknownTaggedFields
    }

    /// The API, when Tributary implements it.
    public var api: KafkaAPIKey? { KafkaAPIKey(rawValue: apiKey) }

    /// Reads a header of `headerVersion` (0, 1 or 2).
    ///
    /// - Throws: `WireDecodingError` for truncated or malformed input or an unknown header version.
    public init(from reader: inout ByteReader, headerVersion: Int16) throws(WireDecodingError) {
        guard (0...2).contains(headerVersion) else {
            throw reader.error(.unsupportedVersion, expected: "request header version 0, 1 or 2", found: "version \(headerVersion)")
        }
        apiKey = try reader.readInt16("requestApiKey")
        apiVersion = try reader.readInt16("requestApiVersion")
        correlationID = try reader.readInt32("correlationID")
        clientID = nil
        unknownTaggedFields = []
        if headerVersion >= 1 {
            clientID = try reader.readNullableString(compact: false, nullable: true, "clientID")
        }
        if headerVersion >= 2 {
            unknownTaggedFields = try reader.readTaggedFields("request header") { _, _ in false }
        }
    }

    /// Reads a request header whose version follows from the API key and version at its start,
    /// as a broker does. Headers of APIs Tributary does not implement are read as version 1.
    public init(from reader: inout ByteReader) throws(WireDecodingError) {
        var peek = reader
        let key = try peek.readInt16("requestApiKey")
        let version = try peek.readInt16("requestApiVersion")
        let headerVersion = KafkaAPIKey(rawValue: key)?.requestHeaderVersion(for: version) ?? 1
        try self.init(from: &reader, headerVersion: headerVersion)
    }

    /// Appends the header at `headerVersion` (0, 1 or 2).
    ///
    /// - Throws: `WireEncodingError` for an unknown header version, a client ID longer than 32767
    ///   bytes, or a duplicate tag in `unknownTaggedFields`. Nothing is appended then.
    public func encode(into writer: inout ByteWriter, headerVersion: Int16) throws(WireEncodingError) {
        guard (0...2).contains(headerVersion) else {
            throw .unsupportedVersion("request header", version: headerVersion, supported: 0...2)
        }
        let start = writer.count
        do throws(WireEncodingError) {
            writer.writeInt16(apiKey)
            writer.writeInt16(apiVersion)
            writer.writeInt32(correlationID)
            if headerVersion >= 1 {
                try writer.writeNullableString(clientID, compact: false, nullable: true, "clientID")
            }
            if headerVersion >= 2 {
                try writer.writeTaggedFields(unknownTaggedFields, "request header")
            }
        } catch {
            writer.truncate(to: start)
            throw error
        }
    }
}
