/// Describes one tool's command line (name, flags, positional arguments, help text) and parses it.
///
/// Parsing is pure: `parse(_:)` takes the arguments (without the program name) and returns a
/// `ParseOutcome` or throws a `UsageError`. Rules, like the nats CLI:
/// - flags may come before, between or after positional arguments;
/// - `--flag value`, `--flag=value`, `-f value` and `-f=value` are equivalent;
/// - `--` ends the flags: everything after it is positional; a lone `-` is positional;
/// - `-h` or `--help` anywhere before `--` asks for help, whatever else is on the line;
/// - short switches may be grouped (`-qJ` is `-q -J`); a letter that takes a value may only
///   come first, with its value attached (`-sURL`);
/// - a value that starts with `-` must be attached with `=` (`--reply=-x`), unless
///   `getoptShortFlags` is set.
public struct CommandSpec: Sendable {
    /// The tool's name as typed, for example `nats-pub`.
    public var name: String
    /// Positional argument names shown in the usage line, for example `["SUBJECT", "BODY"]`.
    public var positionalNames: [String]
    /// How many positional arguments are required (the first `minimumPositionals` names).
    public var minimumPositionals: Int
    /// True when the last positional may repeat (`SUBJECT...`).
    public var lastPositionalRepeats: Bool
    /// One-paragraph description shown under the usage line.
    public var summary: String
    /// The accepted flags (`-h/--help` is built in).
    public var flags: [FlagSpec]
    /// Further help sections (examples, exit status), printed after the flags.
    public var details: [String]
    /// Short flags behave as with POSIX `getopt`, as kcat's do: a flag that takes a value always
    /// takes the next argument, even one that starts with `-` (`-o -10`). Default false (the nats
    /// CLI's rules). Switches may be grouped (`-Ce` is `-C -e`) either way.
    public var getoptShortFlags = false

    /// Creates a command description.
    public init(name: String, positionalNames: [String], minimumPositionals: Int, lastPositionalRepeats: Bool = false,
                summary: String, flags: [FlagSpec], details: [String] = []) {
        self.name = name
        self.positionalNames = positionalNames
        self.minimumPositionals = minimumPositionals
        self.lastPositionalRepeats = lastPositionalRepeats
        self.summary = summary
        self.flags = flags
        self.details = details
    }

    /// What the command line asked for.
    public enum ParseOutcome: Sendable, Equatable {
        /// `-h` or `--help` was given: print `helpText` and exit 0.
        case help
        /// Run with these arguments.
        case run(ParsedArguments)
    }

    /// Parses `arguments` (without the program name).
    ///
    /// - Throws: `UsageError` for an unknown flag, a missing or unexpected flag value, or a wrong
    ///   number of positional arguments.
    public func parse(_ arguments: [String]) throws(UsageError) -> ParseOutcome {
        for argument in arguments {
            if argument == "--" { break }
            if argument == "-h" || argument == "--help" { return .help }
        }
        var parsed = ParsedArguments()
        var index = 0
        var flagsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if flagsEnded || argument == "-" || !argument.hasPrefix("-") {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                flagsEnded = true
                continue
            }
            if let group = try switchGroup(argument) {
                for flag in group { parsed.flagValues[flag.name, default: []].append("") }
                continue
            }
            let (written, flag, inlineValue) = try lookUp(argument)
            guard flag.takesValue else {
                if inlineValue != nil { throw UsageError("flag \(written) takes no value") }
                parsed.flagValues[flag.name, default: []].append("")
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else if index < arguments.count, getoptShortFlags || !looksLikeFlag(arguments[index]) {
                value = arguments[index]
                index += 1
            } else if index < arguments.count {
                throw UsageError("flag \(written) needs a value (\(flag.placeholder ?? "VALUE")) but got '\(arguments[index])'; "
                                 + "write \(written)=VALUE for a value that starts with '-'")
            } else {
                throw UsageError("flag \(written) needs a value (\(flag.placeholder ?? "VALUE"))")
            }
            parsed.flagValues[flag.name, default: []].append(value)
        }
        try checkPositionals(parsed.positionals)
        return .run(parsed)
    }

    /// The `--help` text: usage line, summary, flags, details.
    public var helpText: String {
        var lines = ["Usage: \(name) [flags] \(usagePositionals)", ""]
        lines.append(summary)
        lines.append("")
        lines.append("Flags:")
        let helpFlag = FlagSpec.boolean("help", short: "h", help: "show this help and exit")
        let all = flags + [helpFlag]
        let width = all.map(\.helpLabel.count).max() ?? 0
        for flag in all {
            let label = flag.helpLabel
            lines.append("  " + label + String(repeating: " ", count: width - label.count) + "  " + flag.help)
        }
        for section in details {
            lines.append("")
            lines.append(section)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `SUBJECT [BODY]` or `SUBJECT...` as shown in the usage line.
    public var usagePositionals: String {
        var parts: [String] = []
        for (offset, name) in positionalNames.enumerated() {
            var part = name
            if lastPositionalRepeats && offset == positionalNames.count - 1 { part += "..." }
            parts.append(offset < minimumPositionals ? part : "[\(part)]")
        }
        return parts.joined(separator: " ")
    }

    // MARK: Helpers

    /// For `-Ce`: the switches of a group of two or more short switches, or nil when
    /// `argument` is not such a group. A group whose first letter takes a value is left to
    /// `lookUp` (`-o-2` is `-o` with `-2`); a later letter that takes a value is an error.
    private func switchGroup(_ argument: String) throws(UsageError) -> [FlagSpec]? {
        guard !argument.hasPrefix("--") else { return nil }
        let letters = argument.dropFirst()
        guard letters.count > 1, !letters.contains("="),
              let first = flags.first(where: { $0.short == letters.first }), !first.takesValue else { return nil }
        var group: [FlagSpec] = []
        for letter in letters {
            guard let flag = flags.first(where: { $0.short == letter }) else {
                throw UsageError("unknown flag '-\(letter)' in '\(argument)'")
            }
            guard !flag.takesValue else {
                throw UsageError("flag -\(letter) takes a value and must come last or alone, not inside '\(argument)'")
            }
            group.append(flag)
        }
        return group
    }

    private func looksLikeFlag(_ argument: String) -> Bool {
        argument.count > 1 && argument.hasPrefix("-")
    }

    /// Finds the flag for `argument`; returns how it was written (without any `=value`), the flag and the inline value.
    private func lookUp(_ argument: String) throws(UsageError) -> (String, FlagSpec, String?) {
        if argument.hasPrefix("--") {
            let body = argument.dropFirst(2)
            let name: Substring
            let inline: String?
            if let equals = body.firstIndex(of: "=") {
                name = body[..<equals]
                inline = String(body[body.index(after: equals)...])
            } else {
                name = body
                inline = nil
            }
            guard let flag = flags.first(where: { $0.name == name }) else {
                throw UsageError("unknown flag '--\(name)'" + suggestion(for: String(name)))
            }
            return ("--\(name)", flag, inline)
        }
        let body = argument.dropFirst()
        guard let letter = body.first else { throw UsageError("unknown flag '\(argument)'") }
        guard let flag = flags.first(where: { $0.short == letter }) else {
            throw UsageError("unknown flag '-\(letter)'" + (body.count > 1 ? " in '\(argument)'" : ""))
        }
        let rest = body.dropFirst()
        let inline: String?
        if rest.isEmpty {
            inline = nil
        } else if rest.first == "=" {
            inline = String(rest.dropFirst())
        } else {
            inline = String(rest)  // -sURL
        }
        return ("-\(letter)", flag, inline)
    }

    private func suggestion(for name: String) -> String {
        var best: (String, Int)?
        for flag in flags + [FlagSpec.boolean("help", help: "")] {
            let distance = editDistance(name, flag.name)
            guard distance <= (name.count >= 4 ? 2 : 1) else { continue }
            if let current = best, current.1 <= distance { continue }
            best = (flag.name, distance)
        }
        return best.map { "; did you mean '--\($0.0)'?" } ?? ""
    }

    private func checkPositionals(_ positionals: [String]) throws(UsageError) {
        if positionals.count < minimumPositionals {
            let missing = positionalNames[positionals.count]
            throw UsageError("missing \(missing) argument")
        }
        if !lastPositionalRepeats, positionals.count > positionalNames.count {
            let extra = positionals[positionalNames.count]
            throw UsageError("unexpected argument '\(extra)' (at most \(positionalNames.count): \(usagePositionals)); quote a BODY with spaces")
        }
    }
}

/// Levenshtein distance, for "did you mean" hints.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
