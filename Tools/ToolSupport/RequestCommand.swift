import TributaryNATS
import TributaryNATSProtocol

/// `nats-req SUBJECT [BODY]`: the parsed command line of the request tool.
public struct RequestCommand: ToolCommand, Equatable {
    /// Default `--timeout` (connect and reply wait): 2 s.
    public static let defaultTimeout: Duration = .seconds(2)

    /// Default `--reply-timeout`: 300 ms, as the nats CLI.
    public static let defaultReplyTimeout: Duration = .milliseconds(300)

    /// Flags: connection flags, `-H/--header`, `-r/--raw`, `--count`, `--replies`, `--reply-timeout`, `--no-templates`.
    public static let spec = CommandSpec(
        name: "nats-req",
        positionalNames: ["SUBJECT", "BODY"],
        minimumPositionals: 1,
        summary: """
        Sends a request with BODY to SUBJECT and prints the reply: on stderr 'Sending request on
        "SUBJECT"' and 'Received with rtt D', on stdout the reply's headers, an empty line if
        there were headers, and the payload. Without BODY the whole of stdin is the body (bytes
        as read). BODY and -H values may use the templates of nats-pub ({{Count}}, {{Time}},
        {{TimeStamp}}, {{Unix}}, {{UnixNano}}, {{ID}}, {{Random MIN MAX}}).
        --count sends several requests one after the other. --replies N waits for N replies
        (0: every reply until --timeout) on a fresh inbox: after the first reply it stops once no
        further reply came within the average round trip plus --reply-timeout.
        """,
        flags: ConnectionSettings.flags(defaultTimeout: defaultTimeout, timeoutHelp: "connect timeout and time to wait for the (first) reply") + [
            .repeatable("header", short: "H", placeholder: "K:V", help: "add a header; repeat for more headers or values"),
            .boolean("raw", short: "r", help: "print only the reply payload, nothing on stderr"),
            .value("count", placeholder: "N", help: "send N requests, one after the other (default 1)"),
            .value("replies", placeholder: "N", help: "wait for N replies per request; 0 waits until --timeout (default 1)"),
            .value("reply-timeout", placeholder: "D",
                   help: "with --replies other than 1: longest gap after the average round trip (default \(DurationSyntax.format(defaultReplyTimeout)))"),
            .boolean("no-templates", help: "send {{…}} placeholders in BODY as written"),
        ],
        details: [
            """
            Examples:
              nats-req time.now ''
              nats-req --timeout 500ms -H Trace:1 svc.echo hello
              nats-req --replies 0 --timeout 1s svc.census ''
              nats-req svc.upload < document.pdf
            """,
            CommandChecks.exitStatus(failures: "no responders, no reply within --timeout, or the request was refused"),
        ]
    )

    /// Server, credentials, name and timeout (also the wait for the first reply).
    public var connection: ConnectionSettings
    /// Where to send the request.
    public var subject: String
    /// The request body, or nil to read the whole of stdin.
    public var body: BodyTemplate?
    /// False with `--no-templates`.
    public var templates: Bool
    /// Headers from `-H` (values may hold placeholders).
    public var headers: HeaderTemplate?
    /// `-r/--raw`.
    public var raw: Bool
    /// Requests to send (`--count`, default 1).
    public var count: Int
    /// Replies to wait for per request (`--replies`, default 1); 0 means until the timeout.
    public var replies: Int
    /// `--reply-timeout`.
    public var replyTimeout: Duration

    /// Builds the command from parsed arguments.
    ///
    /// - Throws: `UsageError` for an invalid subject, header, count or duration.
    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: Self.spec.name,
                                            defaultTimeout: Self.defaultTimeout)
        subject = arguments.positionals[0]
        try CommandChecks.subject(subject)
        templates = !arguments.isSet("no-templates")
        body = arguments.positionals.count > 1 ? PublishCommand.template(arguments.positionals[1], templates: templates) : nil
        headers = try HeaderTemplate(arguments: arguments.values("header"))
        raw = arguments.isSet("raw")
        count = try arguments.integer("count", default: 1, minimum: 1)
        replies = try arguments.integer("replies", default: 1, minimum: 0)
        replyTimeout = try arguments.duration("reply-timeout") ?? Self.defaultReplyTimeout
    }

    /// The template for a body read from stdin.
    public func stdinBody(_ bytes: [UInt8]) -> BodyTemplate {
        templates ? BodyTemplate(bytes: bytes) : BodyTemplate(literal: bytes)
    }

    /// How long to wait for another reply after the last one, when `received` replies came with
    /// round trips summing to `totalRoundTrip`: the average round trip plus `--reply-timeout`, as
    /// the nats CLI; nil when the wait ends only at `--timeout` after the request (before the
    /// first reply, and with `--replies 0`).
    public func gapAfterReply(received: Int, totalRoundTrip: Duration) -> Duration? {
        if received == 0 || replies == 0 { return nil }
        return totalRoundTrip / received + replyTimeout
    }
}

extension RequestCommand {
    /// `Sending request on "svc.time"`.
    public var sendingLine: String { "Sending request on \(MessageFormat.quoted(subject))" }

    /// `Received with rtt 1.234ms`.
    public static func receivedLine(rtt: Duration) -> String { "Received with rtt \(DurationSyntax.format(rtt))" }

    /// The error line and exit code for a failed request: no responders and timeouts get short
    /// nats CLI-style lines and exit 1; other errors keep the client's message and exit code.
    public func failure(_ error: NATSError) -> (message: String, exitCode: ToolExitCode) {
        switch error.code {
        case .noResponders:
            return ("no responders available for request on \(MessageFormat.quoted(subject))", .failure)
        case .timeout:
            return ("no reply on \(MessageFormat.quoted(subject)) within \(DurationSyntax.format(connection.timeout)) (timeout); is a responder running? raise --timeout if it is slow", .failure)
        default:
            return (error.message, .forError(error))
        }
    }
}
