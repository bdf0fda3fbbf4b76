import TributaryCompression
import TributaryWire

/// A record batch or legacy message set that cannot be decoded, or records that cannot be
/// encoded into a batch.
///
/// Decoding errors say what was expected, what arrived, the byte offset (from the start of the
/// `records` blob, or of the decompressed records section when ``isInDecompressedData`` is true),
/// a short hex excerpt, and the base offset of the batch that failed. The caller adds the topic
/// and partition. Payload bytes can appear in ``excerpt``; do not log it where payloads must not go.
public struct KafkaRecordError: Error, Sendable, CustomStringConvertible {
    /// The class of problem. New codes may be added; compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case malformed
            case crcMismatch
            case unsupportedMagic
            case unsupportedCompression
            case decompressionFailed
            case compressionFailed
            case invalidRecords
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// The bytes do not follow the record batch or message layout (a length, count or varint
        /// is impossible, a record ends early or has bytes left over).
        public static let malformed = Code(.malformed)
        /// The stored checksum does not match the bytes: CRC-32C for magic 2, CRC-32 for 0 and 1.
        public static let crcMismatch = Code(.crcMismatch)
        /// The magic byte is not 0, 1 or 2.
        public static let unsupportedMagic = Code(.unsupportedMagic)
        /// The attributes name a compression codec this library does not know.
        public static let unsupportedCompression = Code(.unsupportedCompression)
        /// The compressed records could not be decompressed, or would exceed the output limit.
        public static let decompressionFailed = Code(.decompressionFailed)
        /// The encoder could not compress the records section.
        public static let compressionFailed = Code(.compressionFailed)
        /// The records given to the encoder cannot form a batch (none, offsets out of order,
        /// a delta or length beyond its field).
        public static let invalidRecords = Code(.invalidRecords)

        /// A short name of the code, such as `crcMismatch`.
        public var description: String {
            switch base {
            case .malformed: "malformed"
            case .crcMismatch: "crcMismatch"
            case .unsupportedMagic: "unsupportedMagic"
            case .unsupportedCompression: "unsupportedCompression"
            case .decompressionFailed: "decompressionFailed"
            case .compressionFailed: "compressionFailed"
            case .invalidRecords: "invalidRecords"
            }
        }
    }

    /// The class of problem.
    public var code: Code
    /// What was expected (`CRC-32C 0x1A2B3C4D`, `varint key length`).
    public var expected: String
    /// What arrived instead.
    public var found: String
    /// Byte offset of the problem; see ``isInDecompressedData``. Zero for encoder errors.
    public var offset: Int
    /// Whether ``offset`` counts from the start of a batch's decompressed records section rather
    /// than from the start of the `records` blob.
    public var isInDecompressedData: Bool
    /// Up to 16 bytes from ``offset`` as space-separated hex (empty at the end of input).
    public var excerpt: String
    /// The base offset of the batch (or legacy message offset) being decoded, when known.
    public var baseOffset: Int64?
    /// The wire decoding error underneath, when a primitive read failed.
    public var wireError: WireDecodingError?
    /// The compression error underneath, for ``Code/decompressionFailed`` and
    /// ``Code/compressionFailed``.
    public var compressionError: CompressionError?

    /// Creates an error.
    public init(
        code: Code,
        expected: String,
        found: String,
        offset: Int = 0,
        isInDecompressedData: Bool = false,
        excerpt: String = "",
        baseOffset: Int64? = nil,
        wireError: WireDecodingError? = nil,
        compressionError: CompressionError? = nil
    ) {
        self.code = code
        self.expected = expected
        self.found = found
        self.offset = offset
        self.isInDecompressedData = isInDecompressedData
        self.excerpt = excerpt
        self.baseOffset = baseOffset
        self.wireError = wireError
        self.compressionError = compressionError
    }

    /// What went wrong, where, and what to do.
    public var description: String {
        var text = ""
        if let baseOffset { text += "record batch at base offset \(baseOffset): " }
        if code == .invalidRecords || code == .compressionFailed {
            text += "cannot encode: expected \(expected), found \(found)"
        } else {
            text += "expected \(expected) at byte \(offset)"
            if isInDecompressedData { text += " of the decompressed records" }
            text += ", found \(found)"
            text += excerpt.isEmpty ? "; input ends there" : "; bytes from there: \(excerpt)"
        }
        text += " (\(code)); " + advice
        return text
    }

    private var advice: String {
        switch code {
        case .crcMismatch:
            "the batch was damaged in transit or on the broker; fetch it again, and if it stays damaged skip past it by seeking to the next offset"
        case .unsupportedMagic, .unsupportedCompression:
            "the batch uses a format this client does not support; upgrade the client or have the producer use a supported format"
        case .decompressionFailed:
            if compressionError?.code == .outputLimitExceeded {
                "raise `maxDecompressedBatchBytes` if batches this large are expected (like Kafka's `fetch.max.bytes`)"
            } else {
                "the compressed records are damaged; fetch them again, and if they stay damaged report the producer"
            }
        case .compressionFailed:
            "use another compression codec or smaller batches"
        case .invalidRecords:
            "give records with increasing offsets (usually 0, 1, 2, …) and fields within Kafka's limits"
        default:
            "the broker returned bytes that are not a valid record batch; fetch again and report the broker version if it persists"
        }
    }

    static func wrapping(_ error: WireDecodingError, baseOffset: Int64?, decompressed: Bool) -> KafkaRecordError {
        KafkaRecordError(
            code: .malformed, expected: error.expected, found: error.found, offset: error.offset,
            isInDecompressedData: decompressed, excerpt: error.excerpt, baseOffset: baseOffset, wireError: error)
    }

    static func invalidInput(_ expected: String, found: String) -> KafkaRecordError {
        KafkaRecordError(code: .invalidRecords, expected: expected, found: found)
    }
}
