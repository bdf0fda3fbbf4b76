/// Durations written the way the nats CLI (Go's `time.ParseDuration`) writes them:
/// `500ms`, `2s`, `1.5s`, `1m`, `1m30s`, `1h`, `250us`, `10ns`.
///
/// Pure: no clock, no globals.
public enum DurationSyntax {
    /// Nanoseconds per unit, longest unit names first so `ms` wins over `m`.
    private static let units: [(String, Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// Parses a duration such as `500ms`, `2s`, `1.5s`, `1m30s`. `0` alone is accepted.
    ///
    /// - Throws: `UsageError` saying what is wrong (missing unit, unknown unit, negative, too large).
    public static func parse(_ text: String) throws(UsageError) -> Duration {
        let input = text.trimmingSpaces()
        if input == "0" { return .zero }
        guard !input.isEmpty else { throw UsageError("expected a duration such as 500ms, 2s or 1m") }
        if input.hasPrefix("-") { throw UsageError("a duration cannot be negative") }
        var rest = Substring(input.hasPrefix("+") ? String(input.dropFirst()) : input)
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1, let value = Double(number) else {
                throw UsageError("expected a number before the unit in '\(text)' (examples: 500ms, 2s, 1.5s, 1m)")
            }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard !unitText.isEmpty else {
                throw UsageError("missing unit in '\(text)'; use ns, us, ms, s, m or h (for example \(number)s)")
            }
            guard let unit = units.first(where: { $0.0 == unitText }) else {
                throw UsageError("unknown unit '\(unitText)' in '\(text)'; use ns, us, ms, s, m or h")
            }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        guard total < 9.2e18 else { throw UsageError("duration '\(text)' is too large") }
        return .nanoseconds(Int64(total.rounded()))
    }

    /// Formats a duration like Go's `time.Duration.String`: `1.234567ms`, `512µs`, `2.5s`, `1m30s`, `0s`.
    public static func format(_ duration: Duration) -> String {
        let parts = duration.components
        // Whole nanoseconds; attoseconds below a nanosecond are dropped, as Go has none.
        var nanos = parts.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if nanos.overflow { return "\(parts.seconds)s" }
        let sum = nanos.partialValue.addingReportingOverflow(parts.attoseconds / 1_000_000_000)
        nanos = sum
        var value = nanos.partialValue
        if value == 0 { return "0s" }
        var sign = ""
        if value < 0 {
            sign = "-"
            value = value == Int64.min ? Int64.max : -value
        }
        if value < 1_000 { return "\(sign)\(value)ns" }
        if value < 1_000_000 { return sign + decimal(value, scale: 1_000) + "µs" }
        if value < 1_000_000_000 { return sign + decimal(value, scale: 1_000_000) + "ms" }
        let hours = value / 3_600_000_000_000
        let minutes = (value / 60_000_000_000) % 60
        let secondsPart = value % 60_000_000_000
        var text = sign
        if hours > 0 { text += "\(hours)h" }
        if hours > 0 || minutes > 0 { text += "\(minutes)m" }
        text += decimal(secondsPart, scale: 1_000_000_000) + "s"
        return text
    }

    /// `value / scale` with the fraction's trailing zeros removed (`1500, 1000` → `1.5`).
    private static func decimal(_ value: Int64, scale: Int64) -> String {
        let whole = value / scale
        var fraction = value % scale
        if fraction == 0 { return String(whole) }
        var digits = String(scale).count - 1
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let fractionText = String(fraction)
        return "\(whole)." + String(repeating: "0", count: digits - fractionText.count) + fractionText
    }
}
