import TributaryNATSProtocol

/// `nats-reply SUBJECT [BODY]`: the parsed command line of the reply (service) tool.
public struct ReplyCommand: ToolCommand, Equatable {
    /// Default `--timeout` (connect): 2 s.
    public static let defaultTimeout: Duration = .seconds(2)
    /// Default queue group, as the nats CLI uses: `NATS-RPLY-22`.
    public static let defaultQueue = "NATS-RPLY-22"

    /// Flags: connection flags, `-H/--header`, `--echo`, `-q/--queue`, `--count`, `--quiet`.
    public static let spec = CommandSpec(
        name: "nats-reply",
        positionalNames: ["SUBJECT", "BODY"],
        minimumPositionals: 1,
        summary: """
        Answers every request on SUBJECT with BODY ({{Count}} becomes the request number) or, with
        --echo, with the request's own payload and headers. Prints '[#N] Received on "subject"',
        the headers and the payload of each request unless --quiet, and 'Listening on "SUBJECT"'
        on stderr once ready. Runs until --count requests were answered or Ctrl-C/SIGTERM.
        """,
        flags: ConnectionSettings.flags(defaultTimeout: defaultTimeout) + [
            .repeatable("header", short: "H", placeholder: "K:V", help: "add a header to every reply; repeat for more"),
            .boolean("echo", help: "reply with the request's payload and headers instead of BODY"),
            .value("queue", short: "q", placeholder: "GROUP",
                   help: "queue group (default \(defaultQueue)); --queue '' for none"),
            .value("count", placeholder: "N", help: "exit after answering N requests (default 0: until interrupted)"),
            .boolean("quiet", help: "do not print received requests"),
        ],
        details: [
            """
            Examples:
              nats-reply svc.time 'reply {{Count}}'
              nats-reply --echo svc.echo
            """,
            CommandChecks.exitStatus(failures: "a reply could not be sent or the subscription was refused"),
        ]
    )

    /// Server, credentials, name and timeout.
    public var connection: ConnectionSettings
    /// Subject to serve (wildcards allowed).
    public var subject: String
    /// The reply body, or nil with `--echo`.
    public var body: BodyTemplate?
    /// `--echo`.
    public var echo: Bool
    /// Queue group; nil when `--queue ''` was given.
    public var queue: String?
    /// Requests to answer before exiting; nil for no limit.
    public var count: Int?
    /// Headers added to every reply (`-H`).
    public var headers: NATSHeaders?
    /// `--quiet`.
    public var quiet: Bool

    /// Builds the command from parsed arguments.
    ///
    /// - Throws: `UsageError` for an invalid subject, queue group, header or count, or when
    ///   neither or both of BODY and `--echo` are given.
    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: Self.spec.name,
                                            defaultTimeout: Self.defaultTimeout)
        subject = arguments.positionals[0]
        try CommandChecks.subject(subject, wildcards: true)
        echo = arguments.isSet("echo")
        let bodyText = arguments.positionals.count > 1 ? arguments.positionals[1] : nil
        switch (bodyText, echo) {
        case (nil, false): throw UsageError("missing BODY argument (or use --echo)")
        case (.some, true): throw UsageError("give either BODY or --echo, not both")
        default: break
        }
        body = bodyText.map(BodyTemplate.init)
        let queueText = arguments.value("queue") ?? Self.defaultQueue
        queue = queueText.isEmpty ? nil : queueText
        if let queue { try CommandChecks.queue(queue) }
        let limit = try arguments.integer("count", default: 0, minimum: 0)
        count = limit == 0 ? nil : limit
        headers = try HeaderArguments.headers(from: arguments.values("header"))
        quiet = arguments.isSet("quiet")
    }
}

extension ReplyCommand {
    /// The reply to request number `number`: BODY rendered with `{{Count}}` = `number` and the
    /// `-H` headers, or with `--echo` the request's payload and headers followed by the `-H` headers.
    public func response(to request: NATSMessage, number: Int) -> (payload: [UInt8], headers: NATSHeaders?) {
        guard echo else {
            return (Array((body?.render(count: number) ?? "").utf8), headers)
        }
        var merged = NATSHeaders()
        for entry in request.headers ?? NATSHeaders() { merged.append(entry.value, for: entry.name) }
        for entry in headers ?? NATSHeaders() { merged.append(entry.value, for: entry.name) }
        return (request.payload, merged.isEmpty ? nil : merged)
    }

    /// `Listening on "svc.echo" in queue group "NATS-RPLY-22"`.
    public var listeningLine: String {
        var line = "Listening on \(MessageFormat.quoted(subject))"
        if let queue { line += " in queue group \(MessageFormat.quoted(queue))" }
        return line
    }
}
