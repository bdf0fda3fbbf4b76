import TributaryNATSProtocol

/// `nats-reply SUBJECT [BODY]`: the parsed command line of the reply (service) tool.
public struct ReplyCommand: ToolCommand, Equatable {
    /// Default `--timeout` (connect): 2 s.
    public static let defaultTimeout: Duration = .seconds(2)
    /// Default queue group, as the nats CLI uses: `NATS-RPLY-22`.
    public static let defaultQueue = "NATS-RPLY-22"

    /// The header `--echo` adds to each reply, as the nats CLI: the number of requests answered
    /// before this one (0 for the first).
    public static let replyCounterHeader = "NATS-Reply-Counter"

    /// Flags: connection flags, `-H/--header`, `--echo`, `--command`, `--sleep`, `-q/--queue`,
    /// `--count`, `--quiet`.
    public static let spec = CommandSpec(
        name: "nats-reply",
        positionalNames: ["SUBJECT", "BODY"],
        minimumPositionals: 1,
        summary: """
        Answers every request on SUBJECT. With BODY, replies with BODY, in which {{Request}}
        becomes the request's payload and the templates of nats-pub work ({{Count}} is the
        request number). With --command CMD, runs CMD with /bin/sh -c for each request, the
        request's payload on its stdin (and in $NATS_REQUEST_BODY, the subject in
        $NATS_REQUEST_SUBJECT; {{0}}, {{1}}… in CMD become the subject's tokens), and replies with
        what CMD writes to stdout. Without BODY or --command (or with --echo) it echoes: the reply
        carries the request's payload and headers plus 'NATS-Reply-Counter: N' (N requests
        answered before this one). Prints '[#N] Received on "subject"', the headers and the payload
        of each request unless --quiet, and 'Listening on "SUBJECT"' on stderr once ready. Runs
        until --count requests were answered or Ctrl-C/SIGTERM.
        """,
        flags: ConnectionSettings.flags(defaultTimeout: defaultTimeout) + [
            .repeatable("header", short: "H", placeholder: "K:V", help: "add a header to every reply; repeat for more"),
            .boolean("echo", help: "reply with the request's payload and headers (the default without BODY)"),
            .value("command", placeholder: "CMD", help: "reply with the stdout of shell command CMD, fed the request on stdin"),
            .value("sleep", placeholder: "MAX", help: "wait a random time up to MAX before each reply, e.g. 500ms"),
            .value("queue", short: "q", placeholder: "GROUP",
                   help: "queue group (default \(defaultQueue)); an empty GROUP ('') means no queue group"),
            .value("count", placeholder: "N", help: "exit after answering N requests (default 0: until interrupted)"),
            .boolean("quiet", help: "do not print received requests"),
        ],
        details: [
            """
            Examples:
              nats-reply svc.time 'reply {{Count}} at {{TimeStamp}}'
              nats-reply svc.echo
              nats-reply svc.upper --command 'tr a-z A-Z'
              nats-reply 'weather.>' --command 'curl -s wttr.in/{{1}}?format=3'
            """,
            CommandChecks.exitStatus(failures: "a reply could not be sent or the subscription was refused"),
        ]
    )

    /// How each request is answered.
    public enum Mode: Sendable, Equatable {
        /// With BODY.
        case body(BodyTemplate)
        /// `--echo`, or neither BODY nor `--command`.
        case echo
        /// `--command CMD`.
        case command(String)
    }

    /// Server, credentials, name and timeout.
    public var connection: ConnectionSettings
    /// Subject to serve (wildcards allowed).
    public var subject: String
    /// How requests are answered.
    public var mode: Mode
    /// True when echo was chosen because neither BODY nor `--command` was given.
    public var echoByDefault: Bool
    /// Queue group; nil when `--queue ''` was given.
    public var queue: String?
    /// Requests to answer before exiting; nil for no limit.
    public var count: Int?
    /// `--sleep`: the longest random wait before a reply.
    public var sleep: Duration?
    /// Headers added to every reply (`-H`, values may hold placeholders).
    public var headers: HeaderTemplate?
    /// `--quiet`.
    public var quiet: Bool

    /// Builds the command from parsed arguments.
    ///
    /// - Throws: `UsageError` for an invalid subject, queue group, header, count or duration, or
    ///   when more than one of BODY, `--echo` and `--command` is given.
    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: Self.spec.name,
                                            defaultTimeout: Self.defaultTimeout)
        subject = arguments.positionals[0]
        try CommandChecks.subject(subject, wildcards: true)
        let bodyText = arguments.positionals.count > 1 ? arguments.positionals[1] : nil
        let command = arguments.value("command")
        let echo = arguments.isSet("echo")
        let chosen = [bodyText != nil ? "BODY" : nil, echo ? "--echo" : nil, command != nil ? "--command" : nil].compactMap { $0 }
        if chosen.count > 1 { throw UsageError("give only one of BODY, --echo and --command, not \(chosen.joined(separator: " and "))") }
        if let command {
            guard !command.trimmingSpaces().isEmpty else { throw UsageError("--command needs a shell command, e.g. --command 'tr a-z A-Z'") }
            mode = .command(command)
        } else if let bodyText {
            mode = .body(BodyTemplate(bodyText))
        } else {
            mode = .echo
        }
        echoByDefault = !echo && mode == .echo
        queue = try CommandChecks.queueGroup(arguments.value("queue") ?? Self.defaultQueue)
        let limit = try arguments.integer("count", default: 0, minimum: 0)
        count = limit == 0 ? nil : limit
        sleep = try arguments.duration("sleep")
        headers = try HeaderTemplate(arguments: arguments.values("header"))
        quiet = arguments.isSet("quiet")
    }
}

extension ReplyCommand {
    /// The reply to request number `number` (1-based) in BODY or echo mode: BODY rendered (with
    /// `{{Request}}` the request's payload) and the `-H` headers; or with echo the `-H` headers,
    /// the request's headers and `NATS-Reply-Counter: number - 1`, and the request's payload.
    /// Nil in `--command` mode (see `commandLine(for:)`).
    public func response(to request: NATSMessage, number: Int, context: BodyTemplate.Context) -> (payload: [UInt8], headers: NATSHeaders?)? {
        let extra = headers?.render(count: number, context: context)
        switch mode {
        case .command:
            return nil
        case .body(let body):
            var bodyContext = context
            bodyContext.request = request.payload
            return (body.render(count: number, context: bodyContext), extra)
        case .echo:
            var merged = extra ?? NATSHeaders()
            for entry in request.headers ?? NATSHeaders() { merged.append(entry.value, for: entry.name) }
            merged.append(String(number - 1), for: Self.replyCounterHeader)
            return (request.payload, merged)
        }
    }

    /// The `--command` text for a request on `subject`: `{{0}}`, `{{1}}`… replaced by the
    /// subject's tokens, as the nats CLI does; nil outside `--command` mode.
    public func commandLine(for subject: String) -> String? {
        guard case .command(var text) = mode else { return nil }
        for (index, token) in subject.split(separator: ".", omittingEmptySubsequences: false).enumerated() {
            text = text.replacingAll("{{\(index)}}", with: String(token))
        }
        return text
    }

    /// `Listening on "svc.echo" in queue group "NATS-RPLY-22"`.
    public var listeningLine: String {
        var line = "Listening on \(MessageFormat.quoted(subject))"
        if let queue { line += " in queue group \(MessageFormat.quoted(queue))" }
        return line
    }
}
