import ToolSupport
import TributaryJetStream

/// Value syntaxes of the JetStream tools, as the nats CLI writes them. Pure.
public enum JetStreamArguments {
    /// A duration like the nats CLI's `--max-age`: Go durations (`90s`, `1h30m`) plus `d`
    /// (days), `w` (weeks) and `y` (365 days) as a whole-number prefix (`7d`, `1y`, `2d12h`).
    public static func longDuration(_ text: String, flag: String) throws(UsageError) -> Duration {
        var rest = Substring(text)
        var total: Duration = .zero
        for (unit, seconds) in [("y", 365 * 86_400), ("w", 7 * 86_400), ("d", 86_400)] as [(Character, Int64)] {
            if let index = rest.firstIndex(of: unit), let count = Int64(rest[..<index]) {
                total += .seconds(count * seconds)
                rest = rest[rest.index(after: index)...]
            }
        }
        if rest.isEmpty { return total }
        do {
            return total + (try DurationSyntax.parse(String(rest)))
        } catch {
            throw UsageError("--\(flag): \(error.message); days, weeks and years are also accepted (7d, 2w, 1y)")
        }
    }

    /// A size like `--max-bytes`: a whole number with an optional `K`, `M`, `G` or `T` suffix
    /// (powers of 1024, `B`/`iB` allowed), or `-1` for unlimited.
    public static func size(_ text: String, flag: String) throws(UsageError) -> Int64 {
        if text == "-1" { return -1 }
        var digits = Substring(text.uppercased())
        for suffix in ["IB", "B"] where digits.hasSuffix(suffix) { digits = digits.dropLast(suffix.count); break }
        var multiplier: Int64 = 1
        if let last = digits.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][String(last)] {
            multiplier = Int64(1) << (10 * power)
            digits = digits.dropLast()
        }
        guard let value = Int64(digits), value >= 0 else {
            throw UsageError("--\(flag) expects a size such as 1024, 512K, 1GB or -1 (unlimited), got '\(text)'")
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw UsageError("--\(flag) '\(text)' is too large") }
        return product
    }

    /// A whole number, `-1` allowed for unlimited.
    public static func count(_ text: String, flag: String) throws(UsageError) -> Int64 {
        guard let value = Int64(text), value >= -1 else {
            throw UsageError("--\(flag) expects a whole number (or -1 for unlimited), got '\(text)'")
        }
        return value
    }

    /// Comma-separated and repeated values, empty entries dropped (`--subjects a,b --subjects c`).
    public static func list(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters() }.filter { !$0.isEmpty }
    }

    /// One of `choices` (case-insensitive), or a usage error listing them.
    public static func choice(_ text: String, flag: String, _ choices: [String]) throws(UsageError) -> String {
        let lower = text.lowercased()
        guard choices.contains(lower) else {
            throw UsageError("--\(flag) must be one of \(choices.joined(separator: ", ")), got '\(text)'")
        }
        return lower
    }

    /// Rejects a stream or consumer name the server would refuse.
    public static func name(_ text: String, what: String) throws(UsageError) {
        if text.isEmpty || text.contains(where: { $0 == "." || $0 == "*" || $0 == ">" || $0 == "/" || $0 == "\\" || $0.isWhitespace }) {
            throw UsageError("invalid \(what) name '\(text)': names may not be empty or contain whitespace, '.', '*', '>', '/' or '\\'")
        }
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var slice = self
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}

/// A tool with subcommands (`nats-stream add …`): the first positional argument picks the
/// subcommand, whose own `CommandSpec` parses the rest. Pure.
public struct SubcommandSet: Sendable {
    /// The tool's name (`nats-stream`).
    public var tool: String
    /// One line on what the tool does.
    public var summary: String
    /// The subcommands in help order.
    public var commands: [CommandSpec]

    /// Creates a subcommand set.
    public init(tool: String, summary: String, commands: [CommandSpec]) {
        self.tool = tool
        self.summary = summary
        self.commands = commands
    }

    /// What the command line asked for.
    public enum Outcome: Sendable, Equatable {
        /// Print the tool's help (no subcommand, or `-h` before one).
        case toolHelp
        /// Print this subcommand's help.
        case commandHelp(CommandSpec.Name)
        /// Run the subcommand with these arguments.
        case run(String, ParsedArguments)
    }

    /// The tool's help: usage and the subcommand list.
    public var helpText: String {
        var text = "usage: \(tool) COMMAND [flags] [arguments]\n\n\(summary)\n\nCommands:\n"
        for command in commands {
            let short = command.name.split(separator: " ").last.map(String.init) ?? command.name
            text += "  \(short.padding(toLength: 8))\(command.summary.split(separator: "\n").first ?? "")\n"
        }
        text += "\nRun '\(tool) COMMAND --help' for a command's flags.\n"
        return text
    }

    /// Parses `arguments` (without the program name).
    ///
    /// - Throws: `UsageError` for an unknown subcommand or anything its spec rejects.
    public func parse(_ arguments: [String]) throws(UsageError) -> Outcome {
        let arguments = Self.commandFirst(arguments, flags: commands.first?.flags ?? [])
        guard let first = arguments.first, !first.hasPrefix("-") else {
            if arguments.isEmpty || arguments.contains("-h") || arguments.contains("--help") { return .toolHelp }
            throw UsageError("expected a command (\(commands.map(\.shortName).joined(separator: ", "))) before flags")
        }
        let name = first == "list" ? "ls" : (first == "delete" ? "rm" : first)
        guard let command = commands.first(where: { $0.shortName == name }) else {
            throw UsageError("unknown command '\(first)'; commands: \(commands.map(\.shortName).joined(separator: ", "))")
        }
        switch try command.parse(Array(arguments.dropFirst())) {
        case .help: return .commandHelp(CommandSpec.Name(command.name))
        case .run(let parsed): return .run(name, parsed)
        }
    }
}

extension SubcommandSet {
    /// Moves the command word to the front when flags come before it (`-s URL add NAME`):
    /// the first argument that is neither a flag nor the value of a flag that takes one.
    static func commandFirst(_ arguments: [String], flags: [FlagSpec]) -> [String] {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" || !argument.hasPrefix("-") || argument == "-" { break }
            let name = argument.drop { $0 == "-" }.prefix { $0 != "=" }
            let flag = flags.first { $0.name == name || (argument.count == 2 && $0.short.map(String.init) == String(name)) }
            index += (flag?.takesValue == true && !argument.contains("=")) ? 2 : 1
        }
        guard index > 0, index < arguments.count, arguments[index] != "--" else { return arguments }
        var reordered = arguments
        let command = reordered.remove(at: index)
        reordered.insert(command, at: 0)
        return reordered
    }
}

extension CommandSpec {
    /// A command name, wrapped so outcomes stay `Equatable`.
    public struct Name: Sendable, Equatable {
        /// The full name (`nats-stream add`).
        public var value: String
        /// Wraps a name.
        public init(_ value: String) { self.value = value }
    }

    /// The last word of the name (`add` for `nats-stream add`).
    public var shortName: String { name.split(separator: " ").last.map(String.init) ?? name }
}

extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? self + " " : self + String(repeating: " ", count: length - count)
    }
}
