/// A range of Kafka message versions as written in `kafka.message` specs: `"3"`, `"0-4"`, `"3+"`
/// (open-ended) or `"none"` (parsed as nil).
public struct KafkaSpecVersionRange: Hashable, Sendable, CustomStringConvertible {
    /// The lowest version in the range.
    public let lowest: Int
    /// The highest version, or nil when the range is open-ended (`3+`).
    public let highest: Int?

    /// The largest version number Kafka's int16 version field can carry.
    public static let maxVersion = Int(Int16.max)

    /// Creates a range; `highest` nil means open-ended.
    public init(lowest: Int, highest: Int?) {
        self.lowest = lowest
        self.highest = highest
    }

    /// Parses the spec syntax, or returns nil for `"none"`; nil `syntaxError` results throw at `node`.
    public static func parse(_ text: String, at node: SpecNode) throws(SpecError) -> KafkaSpecVersionRange? {
        if text == "none" { return nil }
        guard let range = parse(text) else {
            throw node.error("\"\(text)\" is not a version range; write \"3\", \"0-4\", \"3+\" or \"none\"")
        }
        return range
    }

    /// Parses `"3"`, `"0-4"` or `"3+"`; nil for anything else (including `"none"`).
    public static func parse(_ text: String) -> KafkaSpecVersionRange? {
        func number(_ digits: Substring) -> Int? {
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  digits == "0" || digits.first != "0", let value = Int(digits), value <= maxVersion else { return nil }
            return value
        }
        if text.hasSuffix("+") {
            guard let low = number(text.dropLast()) else { return nil }
            return KafkaSpecVersionRange(lowest: low, highest: nil)
        }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 1, let value = number(parts[0]) {
            return KafkaSpecVersionRange(lowest: value, highest: value)
        }
        if parts.count == 2, let low = number(parts[0]), let high = number(parts[1]), low <= high {
            return KafkaSpecVersionRange(lowest: low, highest: high)
        }
        return nil
    }

    /// The highest version, with open ranges ending at ``maxVersion``.
    public var upperBound: Int { highest ?? Self.maxVersion }

    /// Whether `version` is in the range.
    public func contains(_ version: Int) -> Bool {
        version >= lowest && version <= upperBound
    }

    /// The versions in both ranges, or nil when they do not overlap.
    public func intersection(_ other: KafkaSpecVersionRange) -> KafkaSpecVersionRange? {
        let low = max(lowest, other.lowest)
        let high: Int?
        switch (highest, other.highest) {
        case (nil, nil): high = nil
        case (let value?, nil), (nil, let value?): high = value
        case (let left?, let right?): high = min(left, right)
        }
        if let high, high < low { return nil }
        return KafkaSpecVersionRange(lowest: low, highest: high)
    }

    /// Whether every version of this range is in `other`.
    public func isSubset(of other: KafkaSpecVersionRange) -> Bool {
        lowest >= other.lowest && upperBound <= other.upperBound
    }

    /// The spec syntax: `3`, `0-4` or `3+`.
    public var description: String {
        guard let highest else { return "\(lowest)+" }
        return highest == lowest ? "\(lowest)" : "\(lowest)-\(highest)"
    }
}
