import TributaryWire

extension ApiVersionsResponse {
    /// Decodes an ApiVersions response body sent for a request of `version`, falling back to
    /// version 0 when that fails.
    ///
    /// A broker that does not support the requested ApiVersions version answers with a version 0
    /// body whose error code is `UNSUPPORTED_VERSION` and whose `apiKeys` list its own ApiVersions
    /// range (KIP-511), so the client can retry with a version both sides support. The Java client
    /// handles this the same way (`ApiVersionsResponse.parse`). The response header is version 0
    /// either way.
    ///
    /// - Returns: the response and the version it was decoded at. The reader is left after the
    ///   body.
    /// - Throws: the error of decoding at `version` when version 0 fails too.
    public static func decodeFallingBack(from reader: inout ByteReader, version: Int16) throws(WireDecodingError) -> (response: ApiVersionsResponse, decodedVersion: Int16) {
        var attempt = reader
        do throws(WireDecodingError) {
            let response = try ApiVersionsResponse(from: &attempt, version: version)
            try attempt.expectEnd("ApiVersionsResponse version \(version)")
            reader = attempt
            return (response, version)
        } catch {
            guard version != 0 else { throw error }
            var fallback = reader
            guard let response = try? ApiVersionsResponse(from: &fallback, version: 0), fallback.isAtEnd else { throw error }
            reader = fallback
            return (response, 0)
        }
    }
}
