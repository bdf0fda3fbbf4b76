/// A failure to compress or decompress a Kafka record batch payload.
///
/// Decoders never trap on hostile input: every malformed, truncated or oversized payload
/// ends in one of these. When a decode fails, the output buffer is left as it was.
public struct CompressionError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure happened. New codes may be added in later versions, so
    /// `switch` over `code` with a `default` case.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: UInt8, Sendable {
            case corruptInput, outputLimitExceeded, unsupported, truncated, libraryFailure
        }

        private let value: Value

        private init(_ value: Value) { self.value = value }

        /// The compressed bytes are malformed (bad magic, checksum mismatch, impossible lengths or offsets).
        public static let corruptInput = Code(.corruptInput)
        /// Decompressing would produce more bytes than the caller's `limit`.
        public static let outputLimitExceeded = Code(.outputLimitExceeded)
        /// The data uses a feature this implementation does not support (for example a zstd dictionary).
        public static let unsupported = Code(.unsupported)
        /// The compressed bytes end before the format says they should.
        public static let truncated = Code(.truncated)
        /// The system compression library (zlib) failed for a reason unrelated to the data, such as memory.
        public static let libraryFailure = Code(.libraryFailure)

        /// A short name for the code, such as `"corrupt input"`.
        public var description: String {
            switch value {
            case .corruptInput: "corrupt input"
            case .outputLimitExceeded: "output limit exceeded"
            case .unsupported: "unsupported"
            case .truncated: "truncated input"
            case .libraryFailure: "library failure"
            }
        }
    }

    /// What kind of failure this is.
    public let code: Code
    /// What was wrong and what to do about it. Never contains payload bytes.
    public let message: String
    /// The codec that failed.
    public let codec: KafkaCompressionCodec
    /// The byte offset in the compressed input where the problem was found, when known.
    public let offset: Int?

    init(code: Code, message: String, codec: KafkaCompressionCodec, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.codec = codec
        self.offset = offset
    }

    /// The codec, code, offset and message in one line.
    public var description: String {
        var text = "\(codec) \(code)"
        if let offset { text += " at input byte \(offset)" }
        return text + ": " + message
    }
}

extension CompressionError {
    static func corrupt(_ codec: KafkaCompressionCodec, _ what: String, at offset: Int? = nil) -> CompressionError {
        CompressionError(
            code: .corruptInput,
            message: what + "; the compressed batch is damaged: fetch it again, and if it stays damaged the producer or broker wrote a bad batch",
            codec: codec, offset: offset)
    }

    static func truncated(_ codec: KafkaCompressionCodec, _ what: String, at offset: Int? = nil) -> CompressionError {
        CompressionError(
            code: .truncated,
            message: what + "; the compressed data ends early, so the batch was cut short: fetch it again",
            codec: codec, offset: offset)
    }

    static func limitExceeded(_ codec: KafkaCompressionCodec, limit: Int, at offset: Int? = nil) -> CompressionError {
        CompressionError(
            code: .outputLimitExceeded,
            message: "decompressed data would exceed the limit of \(limit) bytes; raise the limit if batches this large are expected (it usually follows the fetch size, like Kafka's `fetch.max.bytes`)",
            codec: codec, offset: offset)
    }

    static func unsupported(_ codec: KafkaCompressionCodec, _ what: String, at offset: Int? = nil) -> CompressionError {
        CompressionError(
            code: .unsupported,
            message: what + "; configure the producer to write without this feature",
            codec: codec, offset: offset)
    }
}
