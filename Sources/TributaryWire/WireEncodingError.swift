/// A value the caller asked to encode that the wire format cannot carry: a string or byte
/// sequence longer than its length prefix allows, a null where the version has no null marker,
/// a field the requested version does not have, or a version outside the supported range.
///
/// Generated message encoders remove anything they wrote before throwing, so the caller's
/// buffer is left as it was.
public struct WireEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The class of problem. New codes may be added; compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case valueTooLong
            case nullNotAllowed
            case fieldNotSupported
            case unsupportedVersion
            case duplicateTag
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// A string, byte sequence or array is longer than its length prefix can express.
        public static let valueTooLong = Code(.valueTooLong)
        /// A nil value for a field that is not nullable at the requested version.
        public static let nullNotAllowed = Code(.nullNotAllowed)
        /// A non-default value in a field the requested version does not carry, where dropping it
        /// would change the meaning of the message.
        public static let fieldNotSupported = Code(.fieldNotSupported)
        /// The requested version is outside the supported range.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// Two tagged fields with the same tag in one tagged-field section.
        public static let duplicateTag = Code(.duplicateTag)

        /// A short name of the code, such as `valueTooLong`.
        public var description: String {
            switch base {
            case .valueTooLong: "valueTooLong"
            case .nullNotAllowed: "nullNotAllowed"
            case .fieldNotSupported: "fieldNotSupported"
            case .unsupportedVersion: "unsupportedVersion"
            case .duplicateTag: "duplicateTag"
            }
        }
    }

    /// The class of problem.
    public var code: Code
    /// The field or value concerned (`clientSoftwareName`, `MetadataRequest`).
    public var field: String
    /// What is wrong, without the value itself (which may be a payload).
    public var message: String

    /// Creates an error.
    public init(code: Code, field: String, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    /// What went wrong and what to do.
    public var description: String {
        "cannot encode \(field): \(message) (\(code)); \(advice)"
    }

    private var advice: String {
        switch code {
        case .valueTooLong: "shorten the value or split the request"
        case .nullNotAllowed: "set a value, or use a version that allows null here"
        case .fieldNotSupported: "leave the field at its default or use a version that has it"
        case .unsupportedVersion: "pick a version in the supported range, negotiated with ApiVersions"
        case .duplicateTag: "remove the duplicate from unknownTaggedFields"
        default: "fix the value"
        }
    }

    /// A value is too long for its length prefix.
    public static func tooLong(_ field: String, length: Int, maximum: Int) -> WireEncodingError {
        WireEncodingError(code: .valueTooLong, field: field, message: "length \(length) exceeds the maximum \(maximum)")
    }

    /// A nil value where the version has no null marker.
    public static func nullNotAllowed(_ field: String, version: Int16) -> WireEncodingError {
        WireEncodingError(code: .nullNotAllowed, field: field, message: "nil is not allowed at version \(version)")
    }

    /// A non-default value in a field that the version does not carry.
    public static func fieldNotSupported(_ field: String, version: Int16) -> WireEncodingError {
        WireEncodingError(code: .fieldNotSupported, field: field, message: "version \(version) does not carry this field, and it holds a non-default value")
    }

    /// A version outside the supported range.
    public static func unsupportedVersion(_ message: String, version: Int16, supported: ClosedRange<Int16>) -> WireEncodingError {
        WireEncodingError(code: .unsupportedVersion, field: message, message: "version \(version) is outside the supported range \(supported.lowerBound)...\(supported.upperBound)")
    }
}
