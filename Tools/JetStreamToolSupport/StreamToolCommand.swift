import ToolSupport
import TributaryJetStream

/// `nats-stream COMMAND …`: the parsed command line of the stream tool (like `nats stream`).
public struct StreamToolCommand: Sendable, Equatable {
    /// Default `--timeout` (connect and each API request): 5 s.
    public static let defaultTimeout: Duration = .seconds(5)
    /// Default page size of `view`: 10 messages (like `nats stream view`).
    public static let defaultViewCount = 10

    /// What to do.
    public enum Action: Sendable, Equatable {
        /// `add NAME`: create a stream.
        case add(StreamConfig)
        /// `info NAME`: print configuration and state.
        case info(name: String, json: Bool)
        /// `ls`: list streams (names only with `--names`).
        case list(namesOnly: Bool, subject: String?)
        /// `rm NAME -f`: delete a stream.
        case remove(name: String)
        /// `purge NAME -f`: remove messages (all, `--subject`, `--seq`, `--keep`).
        case purge(name: String, subject: String?, sequence: UInt64?, keep: UInt64?)
        /// `get NAME [SEQ]`: print one message, by sequence or `--last-for SUBJECT`.
        case get(name: String, sequence: UInt64?, lastFor: String?)
        /// `view NAME [COUNT]`: print messages in order from `--id` (or the start).
        case view(name: String, count: Int, startSequence: UInt64?, subject: String?)
    }

    /// Server, credentials, name, timeout.
    public var connection: ConnectionSettings
    /// The subcommand and its values.
    public var action: Action

    static func connectionFlags() -> [FlagSpec] {
        ConnectionSettings.flags(defaultTimeout: defaultTimeout, timeoutHelp: "connect timeout and time to wait for each JetStream answer")
    }

    /// The subcommands, their flags and help.
    public static let commands = SubcommandSet(tool: "nats-stream", summary: "Manages JetStream streams, like 'nats stream'.", commands: [
        CommandSpec(name: "nats-stream add", positionalNames: ["NAME"], minimumPositionals: 1,
                    summary: "Creates a stream; flags not given take the server's defaults.",
                    flags: connectionFlags() + [
                        .repeatable("subjects", placeholder: "SUBJECTS", help: "subjects to store, comma-separated or repeated (default: the stream name)"),
                        .value("storage", placeholder: "TYPE", help: "file or memory (default file)"),
                        .value("retention", placeholder: "POLICY", help: "limits, interest or work (default limits)"),
                        .value("discard", placeholder: "POLICY", help: "old or new: what to do at a limit (default old)"),
                        .value("max-msgs", placeholder: "N", help: "most messages kept (-1 unlimited)"),
                        .value("max-bytes", placeholder: "SIZE", help: "most bytes kept, like 1GB (-1 unlimited)"),
                        .value("max-age", placeholder: "DURATION", help: "oldest message kept, like 1h, 7d or 1y (0 unlimited)"),
                        .value("max-msg-size", placeholder: "SIZE", help: "largest message accepted (-1 unlimited)"),
                        .value("max-msgs-per-subject", placeholder: "N", help: "messages kept per subject (-1 unlimited)"),
                        .value("replicas", placeholder: "N", help: "replica count (default 1)"),
                        .value("dupe-window", placeholder: "DURATION", help: "how long Nats-Msg-Id values are remembered (default 2m)"),
                        .value("description", placeholder: "TEXT", help: "free text"),
                        .boolean("allow-direct", help: "allow direct get from any replica"),
                        .boolean("defaults", help: "accept defaults for everything not given (always the case here)"),
                    ],
                    details: ["Example:\n  nats-stream add ORDERS --subjects 'orders.>' --storage file --max-age 7d --dupe-window 5m"]),
        CommandSpec(name: "nats-stream info", positionalNames: ["NAME"], minimumPositionals: 1,
                    summary: "Prints a stream's configuration and state.",
                    flags: connectionFlags() + [.boolean("json", short: "j", help: "print the info as JSON")]),
        CommandSpec(name: "nats-stream ls", positionalNames: [], minimumPositionals: 0,
                    summary: "Lists streams.",
                    flags: connectionFlags() + [
                        .boolean("names", short: "n", help: "print names only"),
                        .value("subject", placeholder: "SUBJECT", help: "only streams storing SUBJECT"),
                    ]),
        CommandSpec(name: "nats-stream rm", positionalNames: ["NAME"], minimumPositionals: 1,
                    summary: "Deletes a stream with its messages and consumers.",
                    flags: connectionFlags() + [.boolean("force", short: "f", help: "confirm the deletion (required)")]),
        CommandSpec(name: "nats-stream purge", positionalNames: ["NAME"], minimumPositionals: 1,
                    summary: "Removes messages from a stream: all, or by --subject, --seq or --keep.",
                    flags: connectionFlags() + [
                        .boolean("force", short: "f", help: "confirm the purge (required)"),
                        .value("subject", placeholder: "SUBJECT", help: "only messages on SUBJECT"),
                        .value("seq", placeholder: "N", help: "remove messages below sequence N"),
                        .value("keep", placeholder: "N", help: "keep the newest N messages"),
                    ]),
        CommandSpec(name: "nats-stream get", positionalNames: ["NAME", "SEQ"], minimumPositionals: 1,
                    summary: "Prints one stored message, by sequence or the last on a subject.",
                    flags: connectionFlags() + [.value("last-for", placeholder: "SUBJECT", help: "the last message on SUBJECT")]),
        CommandSpec(name: "nats-stream view", positionalNames: ["NAME", "COUNT"], minimumPositionals: 1,
                    summary: "Prints COUNT messages (default 10) in stream order.",
                    flags: connectionFlags() + [
                        .value("id", placeholder: "SEQ", help: "start at this sequence (default: the first)"),
                        .value("subject", placeholder: "SUBJECT", help: "only messages on SUBJECT"),
                    ]),
    ])

    /// Builds the command for subcommand `name` from its parsed arguments.
    ///
    /// - Throws: `UsageError` for invalid names, numbers, durations or combinations.
    public init(_ name: String, _ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: "nats-stream", defaultTimeout: Self.defaultTimeout)
        let positionals = arguments.positionals
        let stream = positionals.first ?? ""
        if name != "ls" { try JetStreamArguments.name(stream, what: "stream") }
        switch name {
        case "add":
            action = .add(try Self.config(stream, arguments))
        case "info":
            action = .info(name: stream, json: arguments.isSet("json"))
        case "ls":
            action = .list(namesOnly: arguments.isSet("names"), subject: arguments.value("subject"))
        case "rm":
            guard arguments.isSet("force") else { throw UsageError("deleting stream '\(stream)' removes its messages and consumers; add -f to confirm") }
            action = .remove(name: stream)
        case "purge":
            guard arguments.isSet("force") else { throw UsageError("purging stream '\(stream)' removes messages; add -f to confirm") }
            let sequence = try arguments.value("seq").map { (text) throws(UsageError) in try Self.sequence(text, flag: "seq") }
            let keep = try arguments.value("keep").map { (text) throws(UsageError) in try Self.sequence(text, flag: "keep") }
            if sequence != nil, keep != nil { throw UsageError("give --seq or --keep, not both") }
            action = .purge(name: stream, subject: arguments.value("subject"), sequence: sequence, keep: keep)
        case "get":
            let lastFor = arguments.value("last-for")
            let sequence = try positionals.count > 1 ? Self.sequence(positionals[1], flag: "SEQ") : nil
            guard (sequence == nil) != (lastFor == nil) else { throw UsageError("give a sequence or --last-for SUBJECT (one of them)") }
            action = .get(name: stream, sequence: sequence, lastFor: lastFor)
        case "view":
            let count = positionals.count > 1 ? Int(positionals[1]) : Self.defaultViewCount
            guard let count, count >= 1 else { throw UsageError("COUNT must be a positive whole number") }
            let start = try arguments.value("id").map { (text) throws(UsageError) in try Self.sequence(text, flag: "id") }
            action = .view(name: stream, count: count, startSequence: start, subject: arguments.value("subject"))
        default:
            throw UsageError("unknown command '\(name)'")
        }
    }

    static func sequence(_ text: String, flag: String) throws(UsageError) -> UInt64 {
        guard let value = UInt64(text) else { throw UsageError("\(flag) expects a whole number, got '\(text)'") }
        return value
    }

    static func config(_ name: String, _ arguments: ParsedArguments) throws(UsageError) -> StreamConfig {
        var config = StreamConfig(name: name)
        let subjects = JetStreamArguments.list(arguments.values("subjects"))
        for subject in subjects {
            if subject.contains(where: \.isWhitespace) || subject.hasPrefix(".") || subject.hasSuffix(".") || subject.contains("..") {
                throw UsageError("invalid subject '\(subject)' in --subjects")
            }
        }
        if !subjects.isEmpty { config.subjects = subjects }
        if let storage = arguments.value("storage") {
            config.storage = StorageType(rawValue: try JetStreamArguments.choice(storage, flag: "storage", ["file", "memory"]))
        }
        if let retention = arguments.value("retention") {
            let value = try JetStreamArguments.choice(retention, flag: "retention", ["limits", "interest", "work", "workqueue"])
            config.retention = value.hasPrefix("work") ? .workQueue : RetentionPolicy(rawValue: value)
        }
        if let discard = arguments.value("discard") {
            config.discard = DiscardPolicy(rawValue: try JetStreamArguments.choice(discard, flag: "discard", ["old", "new"]))
        }
        if let text = arguments.value("max-msgs") { config.maxMsgs = try JetStreamArguments.count(text, flag: "max-msgs") }
        if let text = arguments.value("max-bytes") { config.maxBytes = try JetStreamArguments.size(text, flag: "max-bytes") }
        if let text = arguments.value("max-age") { config.maxAge = try JetStreamArguments.longDuration(text, flag: "max-age") }
        if let text = arguments.value("max-msg-size") {
            let size = try JetStreamArguments.size(text, flag: "max-msg-size")
            guard size <= Int64(Int32.max) else { throw UsageError("--max-msg-size is at most 2GB") }
            config.maxMsgSize = Int(size)
        }
        if let text = arguments.value("max-msgs-per-subject") { config.maxMsgsPerSubject = try JetStreamArguments.count(text, flag: "max-msgs-per-subject") }
        if let text = arguments.value("replicas") {
            guard let replicas = Int(text), (1...5).contains(replicas) else { throw UsageError("--replicas must be 1 to 5, got '\(text)'") }
            config.replicas = replicas
        }
        if let text = arguments.value("dupe-window") { config.duplicateWindow = try JetStreamArguments.longDuration(text, flag: "dupe-window") }
        if let description = arguments.value("description") { config.description = description }
        if arguments.isSet("allow-direct") { config.allowDirect = true }
        return config
    }
}
