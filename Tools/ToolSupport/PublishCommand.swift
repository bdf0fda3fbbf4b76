import TributaryNATSProtocol

/// `nats-pub SUBJECT [BODY]`: the parsed command line of the publish tool.
public struct PublishCommand: ToolCommand, Equatable {
    /// Default `--timeout`: 2 s.
    public static let defaultTimeout: Duration = .seconds(2)

    /// Flags: connection flags, `-H/--header`, `--count`, `--sleep`, `--reply`, `-J/--jetstream`, `-q/--quiet`.
    public static let spec = CommandSpec(
        name: "nats-pub",
        positionalNames: ["SUBJECT", "BODY"],
        minimumPositionals: 1,
        summary: """
        Publishes BODY to SUBJECT. BODY may contain {{Count}}, replaced by the message number
        (1-based). Without BODY, reads stdin and publishes one message per line. Prints
        'Published N bytes to "SUBJECT"' on stderr unless --quiet; all messages are flushed to the
        server before the tool exits. With --jetstream each message is published through
        JetStream: the tool waits for the stream's acknowledgement and prints
        'Stored in Stream: STREAM Sequence: N' on stderr (unless --quiet).
        """,
        flags: ConnectionSettings.flags(defaultTimeout: defaultTimeout) + [
            .repeatable("header", short: "H", placeholder: "K:V", help: "add a header; repeat for more headers or values"),
            .value("count", placeholder: "N", help: "publish N messages (default 1); needs BODY"),
            .value("sleep", placeholder: "D", help: "wait D between messages, e.g. 100ms"),
            .value("reply", placeholder: "SUBJECT", help: "reply subject to send with the message"),
            .boolean("jetstream", short: "J", help: "publish to JetStream and wait for each message's acknowledgement"),
            .boolean("quiet", short: "q", help: "print nothing on stderr except errors"),
        ],
        details: [
            """
            Examples:
              nats-pub orders.new '{"id":1}' -H Source:web
              nats-pub --count 10 --sleep 100ms greet 'hello {{Count}}'
              printf 'a\\nb\\n' | nats-pub lines
              nats-pub --jetstream --count 3 orders.new 'order {{Count}}'
            """,
            CommandChecks.exitStatus(failures: "a publish or flush failed (payload over max_payload, flush timeout), or with --jetstream no stream stored the message"),
        ]
    )

    /// Server, credentials, name and timeout.
    public var connection: ConnectionSettings
    /// Where to publish.
    public var subject: String
    /// The body, or nil to read stdin (one message per line).
    public var body: BodyTemplate?
    /// Messages to publish (`--count`, default 1).
    public var count: Int
    /// Pause between messages (`--sleep`).
    public var sleep: Duration?
    /// Reply subject (`--reply`).
    public var replyTo: String?
    /// Headers from `-H`.
    public var headers: NATSHeaders?
    /// `-J/--jetstream`: publish through JetStream and wait for each acknowledgement.
    public var jetstream: Bool
    /// `-q/--quiet`.
    public var quiet: Bool

    /// Builds the command from parsed arguments.
    ///
    /// - Throws: `UsageError` for an invalid subject, reply subject, header, count or duration,
    ///   `--count` above 1 without BODY, or `--reply` with `--jetstream`.
    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: Self.spec.name,
                                            defaultTimeout: Self.defaultTimeout)
        subject = arguments.positionals[0]
        try CommandChecks.subject(subject)
        body = arguments.positionals.count > 1 ? BodyTemplate(arguments.positionals[1]) : nil
        count = try arguments.integer("count", default: 1, minimum: 1)
        if body == nil, count > 1 {
            throw UsageError("--count needs a BODY argument; when reading stdin every line is one message")
        }
        sleep = try arguments.duration("sleep")
        replyTo = arguments.value("reply")
        if let replyTo { try CommandChecks.subject(replyTo, what: "reply subject") }
        headers = try HeaderArguments.headers(from: arguments.values("header"))
        jetstream = arguments.isSet("jetstream")
        if jetstream, replyTo != nil {
            throw UsageError("--reply cannot be used with --jetstream: the reply subject receives the stream's acknowledgement")
        }
        quiet = arguments.isSet("quiet")
    }
}
