import TributaryNATS
import TributaryNATSProtocol

/// `nats-req SUBJECT [BODY]`: the parsed command line of the request tool.
public struct RequestCommand: ToolCommand, Equatable {
    /// Default `--timeout` (connect and reply wait): 2 s.
    public static let defaultTimeout: Duration = .seconds(2)

    /// Flags: connection flags, `-H/--header`, `-r/--raw`.
    public static let spec = CommandSpec(
        name: "nats-req",
        positionalNames: ["SUBJECT", "BODY"],
        minimumPositionals: 1,
        summary: """
        Sends a request with BODY (empty if absent; {{Count}} becomes 1) to SUBJECT and prints the
        first reply: on stderr 'Sending request on "SUBJECT"' and 'Received with rtt D', on stdout
        the reply's headers, an empty line if there were headers, and the payload.
        """,
        flags: ConnectionSettings.flags(defaultTimeout: defaultTimeout, timeoutHelp: "connect timeout and time to wait for the reply") + [
            .repeatable("header", short: "H", placeholder: "K:V", help: "add a header; repeat for more headers or values"),
            .boolean("raw", short: "r", help: "print only the reply payload, nothing on stderr"),
        ],
        details: [
            """
            Examples:
              nats-req time.now ''
              nats-req --timeout 500ms -H Trace:1 svc.echo hello
            """,
            CommandChecks.exitStatus(failures: "no responders, no reply within --timeout, or the request was refused"),
        ]
    )

    /// Server, credentials, name and timeout (also the reply wait).
    public var connection: ConnectionSettings
    /// Where to send the request.
    public var subject: String
    /// The request payload.
    public var body: String
    /// Headers from `-H`.
    public var headers: NATSHeaders?
    /// `-r/--raw`.
    public var raw: Bool

    /// Builds the command from parsed arguments.
    ///
    /// - Throws: `UsageError` for an invalid subject, header or duration.
    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: Self.spec.name,
                                            defaultTimeout: Self.defaultTimeout)
        subject = arguments.positionals[0]
        try CommandChecks.subject(subject)
        body = arguments.positionals.count > 1 ? BodyTemplate(arguments.positionals[1]).render(count: 1) : ""
        headers = try HeaderArguments.headers(from: arguments.values("header"))
        raw = arguments.isSet("raw")
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
