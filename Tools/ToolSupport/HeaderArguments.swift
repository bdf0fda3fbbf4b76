import TributaryNATSProtocol

/// Parses `-H/--header` arguments (`Key:Value`) into `NATSHeaders`, like the nats CLI.
///
/// The key is trimmed of surrounding spaces; the value loses one leading space (so `K: v` and
/// `K:v` both give `v`) and is otherwise kept as written. Repeating a key adds another value.
public enum HeaderArguments {
    /// Parses one `Key:Value` argument.
    ///
    /// - Throws: `UsageError` when there is no `:`, the key is empty, or the key or value cannot
    ///   be sent (whitespace or control characters in the key, CR/LF in the value).
    public static func parse(_ text: String) throws(UsageError) -> (name: String, value: String) {
        guard let colon = text.firstIndex(of: ":") else {
            throw UsageError("invalid header '\(text)': expected KEY:VALUE")
        }
        let name = String(text[..<colon]).trimmingSpaces()
        var value = text[text.index(after: colon)...]
        if value.first == " " { value = value.dropFirst() }
        guard !name.isEmpty else { throw UsageError("invalid header '\(text)': the key before ':' is empty") }
        let single = NATSHeaders([(name, String(value))])
        if let problem = single.problem() {
            throw UsageError("invalid header '\(text)': \(problem)")
        }
        return (name, String(value))
    }

    /// Parses every `Key:Value` argument, keeping their order; nil when `arguments` is empty.
    ///
    /// - Throws: `UsageError` for the first invalid argument.
    public static func headers(from arguments: [String]) throws(UsageError) -> NATSHeaders? {
        guard !arguments.isEmpty else { return nil }
        var headers = NATSHeaders()
        for argument in arguments {
            let (name, value) = try parse(argument)
            headers.append(value, for: name)
        }
        return headers
    }
}
