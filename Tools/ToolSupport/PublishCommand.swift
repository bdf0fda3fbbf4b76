import TributaryNATSProtocol

/// `nats-pub SUBJECT [BODY]`: the parsed command line of the publish tool.
public struct PublishCommand: ToolCommand, Equatable {
    /// Default `--timeout`: 2 s.
    public static let defaultTimeout: Duration = .seconds(2)

    /// Flags: connection flags, `-H/--header`, `--count`, `--sleep`, `--reply`, `--send-on`,
    /// `--no-templates`, `-J/--jetstream`, `-q/--quiet`.
    public static let spec = CommandSpec(
        name: "nats-pub",
        positionalNames: ["SUBJECT", "BODY"],
        minimumPositionals: 1,
        summary: """
        Publishes BODY to SUBJECT. Without BODY, reads stdin: the whole of it is one message
        (--send-on eof, the default), or each line is one (--send-on newline); bytes are sent as
        read, in any encoding. BODY, stdin bodies and -H values may use the nats CLI's templates:
        {{Count}} (message number, from 1), {{Time}} (3:04PM), {{TimeStamp}} (RFC 3339),
        {{Unix}}, {{UnixNano}}, {{ID}} (a unique id) and {{Random MIN MAX}} (a random string of
        MIN to MAX letters and digits); --no-templates sends them as written.
        Prints 'Published N bytes to "SUBJECT"' on stderr for a single message, and one summary
        line 'Published M messages (N bytes) to "SUBJECT"' for several, unless --quiet; all
        messages are flushed to the server before the tool exits. With --jetstream each message
        is published through JetStream: the tool waits for the stream's acknowledgement and
        prints 'Stored in Stream: STREAM Sequence: N' on stderr (unless --quiet).
        """,
        flags: ConnectionSettings.flags(defaultTimeout: defaultTimeout) + [
            .repeatable("header", short: "H", placeholder: "K:V", help: "add a header; repeat for more headers or values"),
            .value("count", placeholder: "N", help: "publish each body N times (default 1)"),
            .value("sleep", placeholder: "D", help: "wait D between messages, e.g. 100ms"),
            .value("reply", placeholder: "SUBJECT", help: "reply subject to send with the message"),
            .value("send-on", placeholder: "eof|newline",
                   help: "without BODY: publish all of stdin at end of input (eof, default) or each line (newline)"),
            .boolean("no-templates", help: "send {{…}} placeholders as written"),
            .boolean("jetstream", short: "J", help: "publish to JetStream and wait for each message's acknowledgement"),
            .boolean("quiet", short: "q", help: "print nothing on stderr except errors"),
        ],
        details: [
            """
            Examples:
              nats-pub orders.new '{"id":1}' -H Source:web
              nats-pub --count 10 --sleep 100ms greet 'hello {{Count}} at {{TimeStamp}}'
              nats-pub blobs < picture.png
              printf 'a\\nb\\n' | nats-pub --send-on newline lines
              nats-pub --jetstream --count 3 orders.new 'order {{Count}}'
            """,
            CommandChecks.exitStatus(failures: "a publish or flush failed (payload over max_payload, flush timeout), or with --jetstream no stream stored the message"),
        ]
    )

    /// When a body read from stdin is sent (`--send-on`).
    public enum SendOn: String, Sendable, Equatable {
        /// At end of input: the whole of stdin is one message (the default).
        case eof
        /// At every newline: each line is one message.
        case newline
    }

    /// Server, credentials, name and timeout.
    public var connection: ConnectionSettings
    /// Where to publish.
    public var subject: String
    /// The body, or nil to read stdin.
    public var body: BodyTemplate?
    /// How stdin is split into messages when there is no BODY.
    public var sendOn: SendOn
    /// False with `--no-templates`: bodies and headers are sent as written.
    public var templates: Bool
    /// Times each body is published (`--count`, default 1).
    public var count: Int
    /// Pause between messages (`--sleep`).
    public var sleep: Duration?
    /// Reply subject (`--reply`).
    public var replyTo: String?
    /// Headers from `-H` (values may hold placeholders).
    public var headers: HeaderTemplate?
    /// `-J/--jetstream`: publish through JetStream and wait for each acknowledgement.
    public var jetstream: Bool
    /// `-q/--quiet`.
    public var quiet: Bool

    /// Builds the command from parsed arguments.
    ///
    /// - Throws: `UsageError` for an invalid subject, reply subject, header, count, duration or
    ///   `--send-on` value, `--send-on` with BODY, or `--reply` with `--jetstream`.
    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: Self.spec.name,
                                            defaultTimeout: Self.defaultTimeout)
        subject = arguments.positionals[0]
        try CommandChecks.subject(subject)
        templates = !arguments.isSet("no-templates")
        body = arguments.positionals.count > 1 ? Self.template(arguments.positionals[1], templates: templates) : nil
        sendOn = try Self.sendOn(arguments)
        if body != nil, arguments.isSet("send-on") {
            throw UsageError("--send-on applies when the body comes from stdin; drop it or drop BODY")
        }
        count = try arguments.integer("count", default: 1, minimum: 1)
        sleep = try arguments.duration("sleep")
        replyTo = arguments.value("reply")
        if let replyTo { try CommandChecks.subject(replyTo, what: "reply subject") }
        headers = try HeaderTemplate(arguments: arguments.values("header"))
        jetstream = arguments.isSet("jetstream")
        if jetstream, replyTo != nil {
            throw UsageError("--reply cannot be used with --jetstream: the reply subject receives the stream's acknowledgement")
        }
        quiet = arguments.isSet("quiet")
    }

    /// `--send-on eof|newline` (default eof).
    static func sendOn(_ arguments: ParsedArguments) throws(UsageError) -> SendOn {
        guard let text = arguments.value("send-on") else { return .eof }
        guard let value = SendOn(rawValue: text.trimmingSpaces().lowercased()) else {
            throw UsageError("invalid value '\(text)' for --send-on: expected eof or newline")
        }
        return value
    }

    static func template(_ text: String, templates: Bool) -> BodyTemplate {
        templates ? BodyTemplate(text) : BodyTemplate(literal: Array(text.utf8))
    }

    /// The template for a body read from stdin (placeholders expanded unless `--no-templates`).
    public func stdinBody(_ bytes: [UInt8]) -> BodyTemplate {
        templates ? BodyTemplate(bytes: bytes) : BodyTemplate(literal: bytes)
    }
}
