import ToolSupport
import TributaryJetStream

/// `nats-consumer COMMAND …`: the parsed command line of the consumer tool (like `nats consumer`).
public struct ConsumerToolCommand: Sendable, Equatable {
    /// Default `--timeout` (connect and each API request): 5 s.
    public static let defaultTimeout: Duration = .seconds(5)
    /// Default `--wait` of `next`: 5 s.
    public static let defaultNextWait: Duration = .seconds(5)

    /// What to do.
    public enum Action: Sendable, Equatable {
        /// `add STREAM NAME`: create a pull consumer (ephemeral with `--ephemeral` and no NAME).
        case add(stream: String, config: ConsumerConfig)
        /// `info STREAM NAME`: print configuration and state.
        case info(stream: String, name: String, json: Bool)
        /// `ls STREAM`: list consumers (names only with `--names`).
        case list(stream: String, namesOnly: Bool)
        /// `rm STREAM NAME -f`: delete a consumer.
        case remove(stream: String, name: String)
        /// `next STREAM NAME`: fetch `count` messages, print and acknowledge them (unless `noAck`).
        case next(stream: String, name: String, count: Int, wait: Duration, noAck: Bool)
    }

    /// Server, credentials, name, timeout.
    public var connection: ConnectionSettings
    /// The subcommand and its values.
    public var action: Action

    static func connectionFlags() -> [FlagSpec] {
        ConnectionSettings.flags(defaultTimeout: defaultTimeout, timeoutHelp: "connect timeout and time to wait for each JetStream answer")
    }

    /// The subcommands, their flags and help.
    public static let commands = SubcommandSet(tool: "nats-consumer", summary: "Manages JetStream pull consumers, like 'nats consumer'.", commands: [
        CommandSpec(name: "nats-consumer add", positionalNames: ["STREAM", "NAME"], minimumPositionals: 1,
                    summary: "Creates a pull consumer (durable with NAME, ephemeral with --ephemeral).",
                    flags: connectionFlags() + [
                        .repeatable("filter", placeholder: "SUBJECT", help: "only messages on SUBJECT; repeat or comma-separate for several"),
                        .value("ack", placeholder: "POLICY", help: "explicit, all or none (default explicit)"),
                        .value("deliver", placeholder: "POLICY", help: "all, last, new, last_per_subject, a start sequence or a start time (RFC 3339) (default all)"),
                        .value("replay", placeholder: "POLICY", help: "instant or original (default instant)"),
                        .value("max-deliver", placeholder: "N", help: "most deliveries of one message (-1 unlimited)"),
                        .value("wait", placeholder: "DURATION", help: "ack wait before redelivery (server default 30s)"),
                        .value("max-pending", placeholder: "N", help: "most unacknowledged messages (server default 1000)"),
                        .repeatable("backoff", placeholder: "DURATIONS", help: "redelivery delays, comma-separated (needs --max-deliver above their count)"),
                        .value("inactive-threshold", placeholder: "DURATION", help: "remove the consumer after this long without clients"),
                        .value("description", placeholder: "TEXT", help: "free text"),
                        .boolean("ephemeral", help: "create an ephemeral consumer (NAME not allowed)"),
                        .boolean("pull", help: "pull consumer (always the case here)"),
                        .boolean("defaults", help: "accept defaults for everything not given (always the case here)"),
                    ],
                    details: ["Example:\n  nats-consumer add ORDERS billing --filter orders.created --ack explicit --max-deliver 5 --wait 30s"]),
        CommandSpec(name: "nats-consumer info", positionalNames: ["STREAM", "NAME"], minimumPositionals: 2,
                    summary: "Prints a consumer's configuration and state.",
                    flags: connectionFlags() + [.boolean("json", short: "j", help: "print the info as JSON")]),
        CommandSpec(name: "nats-consumer ls", positionalNames: ["STREAM"], minimumPositionals: 1,
                    summary: "Lists a stream's consumers.",
                    flags: connectionFlags() + [.boolean("names", short: "n", help: "print names only")]),
        CommandSpec(name: "nats-consumer rm", positionalNames: ["STREAM", "NAME"], minimumPositionals: 2,
                    summary: "Deletes a consumer.",
                    flags: connectionFlags() + [.boolean("force", short: "f", help: "confirm the deletion (required)")]),
        CommandSpec(name: "nats-consumer next", positionalNames: ["STREAM", "NAME"], minimumPositionals: 2,
                    summary: "Fetches messages from a pull consumer, prints and acknowledges them.",
                    flags: connectionFlags() + [
                        .value("count", placeholder: "N", help: "messages to fetch (default 1)"),
                        .value("wait", placeholder: "DURATION", help: "how long to wait for them (default 5s)"),
                        .boolean("no-ack", help: "do not acknowledge (they are redelivered after the ack wait)"),
                    ]),
    ])

    /// Builds the command for subcommand `name` from its parsed arguments.
    ///
    /// - Throws: `UsageError` for invalid names, numbers, durations or combinations.
    public init(_ name: String, _ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: "nats-consumer", defaultTimeout: Self.defaultTimeout)
        let positionals = arguments.positionals
        let stream = positionals[0]
        try JetStreamArguments.name(stream, what: "stream")
        let consumer = positionals.count > 1 ? positionals[1] : nil
        if let consumer { try JetStreamArguments.name(consumer, what: "consumer") }
        switch name {
        case "add":
            let ephemeral = arguments.isSet("ephemeral")
            if ephemeral, consumer != nil { throw UsageError("--ephemeral consumers get their name from the server; drop NAME") }
            if !ephemeral, consumer == nil { throw UsageError("give a consumer NAME, or --ephemeral") }
            action = .add(stream: stream, config: try Self.config(durable: consumer, arguments))
        case "info":
            action = .info(stream: stream, name: consumer ?? "", json: arguments.isSet("json"))
        case "ls":
            action = .list(stream: stream, namesOnly: arguments.isSet("names"))
        case "rm":
            guard arguments.isSet("force") else { throw UsageError("deleting consumer '\(consumer ?? "")' loses its position and acks; add -f to confirm") }
            action = .remove(stream: stream, name: consumer ?? "")
        case "next":
            let count = try arguments.integer("count", default: 1, minimum: 1)
            let wait = try arguments.duration("wait") ?? Self.defaultNextWait
            guard wait > .zero else { throw UsageError("--wait must be greater than 0") }
            action = .next(stream: stream, name: consumer ?? "", count: count, wait: wait, noAck: arguments.isSet("no-ack"))
        default:
            throw UsageError("unknown command '\(name)'")
        }
    }

    static func config(durable: String?, _ arguments: ParsedArguments) throws(UsageError) -> ConsumerConfig {
        var config = ConsumerConfig(durableName: durable, ackPolicy: .explicit)
        let filters = JetStreamArguments.list(arguments.values("filter"))
        if filters.count == 1 { config.filterSubject = filters[0] } else if filters.count > 1 { config.filterSubjects = filters }
        if let ack = arguments.value("ack") {
            config.ackPolicy = AckPolicy(rawValue: try JetStreamArguments.choice(ack, flag: "ack", ["explicit", "all", "none"]))
        }
        if let deliver = arguments.value("deliver") {
            let lower = deliver.lowercased()
            if ["all", "last", "new", "last_per_subject"].contains(lower) {
                config.deliverPolicy = DeliverPolicy(rawValue: lower)
            } else if let sequence = UInt64(deliver), sequence > 0 {
                config.deliverPolicy = .byStartSequence
                config.optStartSeq = sequence
            } else if deliver.count >= 20, deliver.dropFirst(4).first == "-", deliver.contains("T") {
                config.deliverPolicy = .byStartTime
                config.optStartTime = deliver
            } else {
                throw UsageError("--deliver must be all, last, new, last_per_subject, a start sequence or an RFC 3339 time, got '\(deliver)'")
            }
        }
        if let replay = arguments.value("replay") {
            config.replayPolicy = ReplayPolicy(rawValue: try JetStreamArguments.choice(replay, flag: "replay", ["instant", "original"]))
        }
        if let text = arguments.value("max-deliver") { config.maxDeliver = Int(try JetStreamArguments.count(text, flag: "max-deliver")) }
        if let wait = try arguments.duration("wait") { config.ackWait = wait }
        if let text = arguments.value("max-pending") { config.maxAckPending = Int(try JetStreamArguments.count(text, flag: "max-pending")) }
        let backoff = JetStreamArguments.list(arguments.values("backoff"))
        if !backoff.isEmpty {
            var delays: [Duration] = []
            for text in backoff { delays.append(try DurationSyntax.parse(text)) }
            config.backoff = delays
        }
        if let threshold = try arguments.duration("inactive-threshold") { config.inactiveThreshold = threshold }
        if let description = arguments.value("description") { config.description = description }
        return config
    }
}
