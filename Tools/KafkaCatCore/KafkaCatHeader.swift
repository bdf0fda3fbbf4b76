import ToolSupport

/// One `-H name=value` header for `kafka-cat -P`, as kcat parses it: the name ends at the first
/// `=`; `-H name` without `=` sends a null value.
public struct KafkaCatHeader: Sendable, Hashable {
    /// The header name.
    public var name: String
    /// The value, nil for a null value.
    public var value: [UInt8]?

    /// Creates a header.
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// Parses one `-H` argument.
    ///
    /// - Throws: `UsageError` when the name is empty.
    public static func parse(_ text: String) throws(UsageError) -> KafkaCatHeader {
        guard let equals = text.firstIndex(of: "=") else {
            guard !text.isEmpty else { throw UsageError("invalid -H '': expected name=value or name") }
            return KafkaCatHeader(name: text, value: nil)
        }
        let name = String(text[..<equals])
        guard !name.isEmpty else { throw UsageError("invalid -H '\(text)': the name before '=' is empty") }
        return KafkaCatHeader(name: name, value: Array(text[text.index(after: equals)...].utf8))
    }
}
