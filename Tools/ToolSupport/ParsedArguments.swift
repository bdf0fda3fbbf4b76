/// The result of parsing a command line: flag values by long name and positional arguments.
///
/// Conversions (`integer`, `duration`) are pure and throw `UsageError` naming the flag.
public struct ParsedArguments: Sendable, Equatable {
    /// Positional arguments in order (flags removed; everything after `--` included).
    public var positionals: [String]
    /// Flag values by long name, in command-line order; switches hold one empty string per use.
    public var flagValues: [String: [String]]

    /// Creates parsed arguments (normally done by `CommandSpec.parse`).
    public init(positionals: [String] = [], flagValues: [String: [String]] = [:]) {
        self.positionals = positionals
        self.flagValues = flagValues
    }

    /// True when the flag (long name) was given at least once.
    public func isSet(_ name: String) -> Bool {
        !(flagValues[name] ?? []).isEmpty
    }

    /// The last value given for the flag, or nil.
    public func value(_ name: String) -> String? {
        flagValues[name]?.last
    }

    /// Every value given for a repeatable flag, in order.
    public func values(_ name: String) -> [String] {
        flagValues[name] ?? []
    }

    /// The flag's value as an integer of at least `minimum`, or `defaultValue` when absent.
    ///
    /// - Throws: `UsageError` when the value is not a whole number or is below `minimum`.
    public func integer(_ name: String, default defaultValue: Int, minimum: Int = 0) throws(UsageError) -> Int {
        guard let text = value(name) else { return defaultValue }
        guard let number = Int(text.trimmingSpaces()) else {
            throw UsageError("invalid value '\(text)' for --\(name): expected a whole number")
        }
        guard number >= minimum else {
            throw UsageError("invalid value '\(text)' for --\(name): must be at least \(minimum)")
        }
        return number
    }

    /// The flag's value as a duration (`500ms`, `2s`, `1m30s`), or nil when absent.
    ///
    /// - Throws: `UsageError` naming the flag when the text is not a duration.
    public func duration(_ name: String) throws(UsageError) -> Duration? {
        guard let text = value(name) else { return nil }
        do {
            return try DurationSyntax.parse(text)
        } catch {
            throw UsageError("invalid value '\(text)' for --\(name): \(error.message)")
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs (no Foundation needed).
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}

extension String {
    /// The string with every occurrence of `target` replaced by `replacement` (no Foundation needed).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
