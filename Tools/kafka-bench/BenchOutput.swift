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
        case let text as String: return quoted(text)
        case let array as [Any]: return "[" + array.map(json).joined(separator: ",") + "]"
        case let object as [String: Any]:
            return "{" + object.keys.sorted().map { quoted($0) + ":" + json(object[$0]!) }.joined(separator: ",") + "}"
        default: return quoted("\(value)")
        }
    }

    static func quoted(_ text: String) -> String { MessageFormat.jsonString(text) }

    /// `text` cut or padded with spaces to `width` characters.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
    }

    /// `value` with `digits` decimals (rounded half away from zero).
    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int64(scaled / scale)
        let sign = value < 0 && scaled != 0 ? "-" : ""
        guard digits > 0 else { return sign + String(whole) }
        let fraction = String(Int64(scaled) - whole * Int64(scale))
        return sign + String(whole) + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// `value` padded with leading zeros to `width` digits.
    static func zeroPadded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Writes `text` to standard error.
    static func error(_ text: String) {
        StandardStreams.writeError(text: text)
    }
}
