import ToolSupport

/// Output helpers that keep kafka-bench free of the full Foundation (and its ICU), so that its
/// peak RSS is the client's and FoundationEssentials', as in a service that links only the
/// library.
enum BenchOutput {
    /// `value` as JSON: integers, doubles, strings, booleans, arrays and objects (keys sorted).
    static func json(_ value: Any) -> String {
        switch value {
        case let bool as Bool: return bool ? "true" : "false"
        case let int as Int: return String(int)
        case let int as Int32: return String(int)
        case let int as Int64: return String(int)
        case let double as Double:
            guard double.isFinite else { return "null" }
            // Whole values print without ".0", as JSONSerialization did.
            if double == double.rounded(), abs(double) < 1e15 { return String(Int64(double)) }
            return String(double)
        case let text as String: return MessageFormat.jsonString(text)
        case let array as [Any]: return "[" + array.map(json).joined(separator: ",") + "]"
        case let object as [String: Any]:
            return "{" + object.keys.sorted().map { MessageFormat.jsonString($0) + ":" + json(object[$0]!) }.joined(separator: ",") + "}"
        default: return MessageFormat.jsonString("\(value)")
        }
    }

    /// `text` cut or padded with spaces to `width` characters.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
    }

    /// `value` padded with leading zeros to `width` digits.
    static func zeroPadded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
