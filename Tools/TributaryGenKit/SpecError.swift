/// A problem in a spec file: invalid JSON, a missing or unknown key, or a value that breaks a rule.
///
/// Every error names the spec file (relative to the specs root, e.g. `nats/errors.json`) and the
/// key path inside it (e.g. `errors[3].match`), so it can be fixed without a debugger.
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The spec file, relative to the specs root, using `/` separators.
    public let file: String
    /// The key path inside the file, like `errors[3].match`; empty when the error concerns the
    /// whole file.
    public let key: String
    /// The 1-based line the offending value starts on, when known.
    public let line: Int?
    /// What is wrong and, where it helps, what is allowed.
    public let message: String

    /// Creates an error for `key` in `file`.
    public init(file: String, key: String, line: Int? = nil, message: String) {
        self.file = file
        self.key = key
        self.line = line
        self.message = message
    }

    /// `file:line: key: message`, the form compilers use, so editors can jump to it.
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if !key.isEmpty { text += "\(key): " }
        return text + message
    }
}
