import TributaryWire

/// Builds and reads complete Kafka frames: a big-endian int32 size, then the header, then the
/// body, with the header version chosen from the API key and version.
///
/// Splitting a byte stream into frames (reading the size prefix incrementally, bounding it) is the
/// connection decoder's job; the functions here work on one complete frame.
public enum KafkaFraming {
    /// The length of the size prefix.
    public static let sizePrefixLength = 4

    /// Appends a request frame: size, header (version from `Request.apiKey`) and body at `version`.
    ///
    /// - Throws: `WireEncodingError` for an unsupported version or a value the version cannot
    ///   carry. Nothing is appended then.
    public static func appendRequest<Request: KafkaRequestMessage>(
        _ request: Request,
        version: Int16,
        correlationID: Int32,
        clientID: String?,
        to writer: inout ByteWriter
    ) throws(WireEncodingError) {
        let start = writer.count
        let sizePosition = writer.reserveInt32()
        do throws(WireEncodingError) {
            let header = KafkaRequestHeader(apiKey: Request.apiKey.rawValue, apiVersion: version, correlationID: correlationID, clientID: clientID)
            try header.encode(into: &writer, headerVersion: Request.apiKey.requestHeaderVersion(for: version))
            try request.encode(into: &writer, version: version)
            try patchSize(at: sizePosition, in: &writer, what: "\(Request.self)")
        } catch {
            writer.truncate(to: start)
            throw error
        }
    }

    /// Appends a response frame: size, header (version from `Response.apiKey`) and body at
    /// `version`. A fake broker uses this.
    ///
    /// - Throws: `WireEncodingError` as ``appendRequest(_:version:correlationID:clientID:to:)``.
    public static func appendResponse<Response: KafkaResponseMessage>(
        _ response: Response,
        version: Int16,
        correlationID: Int32,
        to writer: inout ByteWriter
    ) throws(WireEncodingError) {
        let start = writer.count
        let sizePosition = writer.reserveInt32()
        do throws(WireEncodingError) {
            let header = KafkaResponseHeader(correlationID: correlationID)
            try header.encode(into: &writer, headerVersion: Response.apiKey.responseHeaderVersion(for: version))
            try response.encode(into: &writer, version: version)
            try patchSize(at: sizePosition, in: &writer, what: "\(Response.self)")
        } catch {
            writer.truncate(to: start)
            throw error
        }
    }

    private static func patchSize(at position: Int, in writer: inout ByteWriter, what: String) throws(WireEncodingError) {
        let size = writer.count - position - sizePrefixLength
        guard size <= Int(Int32.max) else {
            throw .tooLong(what, length: size, maximum: Int(Int32.max))
        }
        writer.setInt32(Int32(size), at: position)
    }

    /// Decodes a response frame without its size prefix: the header (version from
    /// `Response.apiKey` and `version`) and the body, which must end exactly at the frame's end.
    ///
    /// The caller checks that `header.correlationID` is the one it sent.
    ///
    /// - Throws: `WireDecodingError` for malformed input, trailing bytes or an unsupported version.
    public static func decodeResponse<Response: KafkaResponseMessage>(
        _ type: Response.Type,
        version: Int16,
        from reader: inout ByteReader
    ) throws(WireDecodingError) -> (header: KafkaResponseHeader, body: Response) {
        let header = try KafkaResponseHeader(from: &reader, headerVersion: Response.apiKey.responseHeaderVersion(for: version))
        let body = try Response(from: &reader, version: version)
        try reader.expectEnd("\(Response.self) version \(version)")
        return (header, body)
    }

    /// Decodes the body of a request frame whose header was read with
    /// ``KafkaRequestHeader/init(from:)``; the body must end exactly at the frame's end. A fake
    /// broker uses this.
    ///
    /// - Throws: `WireDecodingError` for malformed input, trailing bytes, a header of another API,
    ///   or an unsupported version.
    public static func decodeRequestBody<Request: KafkaRequestMessage>(
        _ type: Request.Type,
        header: KafkaRequestHeader,
        from reader: inout ByteReader
    ) throws(WireDecodingError) -> Request {
        guard header.apiKey == Request.apiKey.rawValue else {
            throw reader.error(.invalidValue, expected: "a \(Request.apiKey) request", found: "API key \(header.apiKey)")
        }
        let body = try Request(from: &reader, version: header.apiVersion)
        try reader.expectEnd("\(Request.self) version \(header.apiVersion)")
        return body
    }
}
