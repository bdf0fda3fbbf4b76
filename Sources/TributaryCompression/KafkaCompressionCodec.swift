/// The compression types a Kafka record batch can declare in bits 0-2 of its attributes.
///
/// The raw values are Kafka's wire values (`compression.type` none/gzip/snappy/lz4/zstd).
public enum KafkaCompressionCodec: Int8, Sendable, CaseIterable, CustomStringConvertible {
    /// No compression: records are stored as they are.
    case none = 0
    /// gzip (RFC 1952), through the system zlib.
    case gzip = 1
    /// Snappy, raw or in snappy-java's ("xerial") stream framing.
    case snappy = 2
    /// LZ4 in the LZ4 frame format.
    case lz4 = 3
    /// Zstandard (RFC 8878); needs record batch magic 2 and Kafka 2.1 or later.
    case zstd = 4

    /// The lowercase name Kafka uses for `compression.type`, such as `"lz4"`.
    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }
}
