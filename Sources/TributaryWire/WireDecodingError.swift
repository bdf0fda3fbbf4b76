/// Bytes from a peer that cannot be decoded: too few of them, a length over a limit, a malformed
/// varint, invalid UTF-8, a null where none is allowed, or bytes left over.
///
/// Every error says what was expected, what arrived, the byte offset (from the start of the
/// buffer the ``ByteReader`` was created over) and a short hex excerpt starting at that offset.
/// Payload bytes can appear in the excerpt, so do not log it where payloads must not go.
///
/// A decoding error is fatal for the frame being decoded; the connection that delivered it should
/// be closed, since the byte stream can no longer be trusted.
public struct WireDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The class of problem. New codes may be added; compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case truncated
            case limitExceeded
            case invalidLength
            case malformedVarint
            case invalidUTF8
            case unexpectedNull
            case trailingBytes
            case unsupportedVersion
            case invalidValue
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// The input ended before the value did.
        public static let truncated = Code(.truncated)
        /// A length or count is larger than the configured ``ByteReader/Limits``.
        public static let limitExceeded = Code(.limitExceeded)
        /// A length or count is negative (other than the null marker) or otherwise impossible.
        public static let invalidLength = Code(.invalidLength)
        /// A varint is longer than its type allows or overflows it.
        public static let malformedVarint = Code(.malformedVarint)
        /// A string is not valid UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// A null marker arrived for a value that is not nullable (at this version).
        public static let unexpectedNull = Code(.unexpectedNull)
        /// Bytes are left over after a complete value (a frame or a tagged field).
        public static let trailingBytes = Code(.trailingBytes)
        /// The message version is outside the range this code supports.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A value is well-formed but not allowed here.
        public static let invalidValue = Code(.invalidValue)

        /// A short name of the code, such as `truncated`.
        public var description: String {
            switch base {
            case .truncated: "truncated"
            case .limitExceeded: "limitExceeded"
            case .invalidLength: "invalidLength"
            case .malformedVarint: "malformedVarint"
            case .invalidUTF8: "invalidUTF8"
            case .unexpectedNull: "unexpectedNull"
            case .trailingBytes: "trailingBytes"
            case .unsupportedVersion: "unsupportedVersion"
            case .invalidValue: "invalidValue"
            }
        }
    }

    /// The class of problem.
    public var code: Code
    /// What the decoder expected, naming the field where known (`int32 throttleTimeMs`).
    public var expected: String
    /// What arrived instead (`2 bytes left`, `length 70000`).
    public var found: String
    /// Offset of the offending value from the start of the decoded buffer.
    public var offset: Int
    /// Up to 16 bytes starting at ``offset``, as space-separated hex (empty at the end of input).
    public var excerpt: String

    /// Creates an error.
    public init(code: Code, expected: String, found: String, offset: Int, excerpt: String) {
        self.code = code
        self.expected = expected
        self.found = found
        self.offset = offset
        self.excerpt = excerpt
    }

    /// What went wrong, where, and what to do.
    public var description: String {
        var text = "cannot decode \(expected) at byte \(offset): found \(found) (\(code))"
        text += excerpt.isEmpty ? "; input ends there" : "; bytes from there: \(excerpt)"
        text += "; " + advice
        return text
    }

    private var advice: String {
        switch code {
        case .limitExceeded:
            "raise the ByteReader limit if the peer is trusted and the value is legitimately large, otherwise close the connection"
        case .unsupportedVersion:
            "negotiate a version in the supported range (ApiVersions) before sending or decoding"
        case .truncated:
            "the frame is shorter than its contents claim; close the connection, the peer or the framing is broken"
        default:
            "the peer sent bytes that do not match the protocol; close the connection and report the peer's version"
        }
    }
}
