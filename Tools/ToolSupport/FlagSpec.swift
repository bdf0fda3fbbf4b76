/// One command-line flag: its long name, optional one-letter alias, whether it takes a value,
/// and the line shown in `--help`.
///
/// Flags are written `--name value`, `--name=value`, `-x value` or `-x=value`; boolean flags
/// take no value.
public struct FlagSpec: Sendable, Hashable {
    /// What a flag accepts.
    public enum Kind: Sendable, Hashable {
        /// A switch: present or not (`--raw`).
        case boolean
        /// One value; when the flag is repeated, the last value wins (`--count 5`).
        case value(placeholder: String)
        /// A value that may be given several times; every value is kept in order (`-H a:1 -H b:2`).
        case repeatable(placeholder: String)
    }

    /// The long name without dashes, for example `server`.
    public var name: String
    /// The one-letter alias without its dash, for example `s`, or nil.
    public var short: Character?
    /// Whether the flag is a switch or takes a value.
    public var kind: Kind
    /// Help text, one line; mention the default here.
    public var help: String

    /// Creates a flag description.
    public init(_ name: String, short: Character? = nil, kind: Kind, help: String) {
        self.name = name
        self.short = short
        self.kind = kind
        self.help = help
    }

    /// A switch (`--name`).
    public static func boolean(_ name: String, short: Character? = nil, help: String) -> FlagSpec {
        FlagSpec(name, short: short, kind: .boolean, help: help)
    }

    /// A flag with one value (`--name VALUE`); the last occurrence wins.
    public static func value(_ name: String, short: Character? = nil, placeholder: String, help: String) -> FlagSpec {
        FlagSpec(name, short: short, kind: .value(placeholder: placeholder), help: help)
    }

    /// A flag that may be repeated, keeping every value (`--name VALUE`…).
    public static func repeatable(_ name: String, short: Character? = nil, placeholder: String, help: String) -> FlagSpec {
        FlagSpec(name, short: short, kind: .repeatable(placeholder: placeholder), help: help)
    }

    /// True when the flag takes a value.
    public var takesValue: Bool {
        if case .boolean = kind { return false }
        return true
    }

    /// The placeholder shown in help (`URL`, `N`), or nil for switches.
    public var placeholder: String? {
        switch kind {
        case .boolean: return nil
        case .value(let placeholder), .repeatable(let placeholder): return placeholder
        }
    }

    /// `-s, --server URL` as shown in help.
    public var helpLabel: String {
        var label = short.map { "-\($0), " } ?? "    "
        label += "--" + name
        if let placeholder { label += " " + placeholder }
        return label
    }
}
