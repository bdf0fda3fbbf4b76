/// `nats-sub SUBJECT...`: the parsed command line of the subscribe tool.
public struct SubscribeCommand: ToolCommand, Equatable {
    /// Default `--timeout` (connect): 2 s.
    public static let defaultTimeout: Duration = .seconds(2)

    /// Flags: connection flags, `--queue`, `--count`, `-r/--raw`, `--headers-only`.
    public static let spec = CommandSpec(
        name: "nats-sub",
        positionalNames: ["SUBJECT"],
        minimumPositionals: 1,
        lastPositionalRepeats: true,
        summary: """
        Subscribes to one or more subjects (wildcards * and > allowed) and prints every message:
        '[#N] Received on "subject"' (with the reply subject, if any), the headers, an empty line
        if there were headers, the payload and an empty line. Prints 'Subscribing on SUBJECT' on
        stderr once the subscriptions are active (unless --raw). Runs until --count messages
        arrived or Ctrl-C/SIGTERM.
        """,
        flags: ConnectionSettings.flags(defaultTimeout: defaultTimeout) + [
            .value("queue", placeholder: "GROUP", help: "subscribe in queue group GROUP"),
            .value("count", placeholder: "N", help: "exit after N messages in total (default 0: until interrupted)"),
            .boolean("raw", short: "r", help: "print only the payload of each message, one per line"),
            .boolean("headers-only", help: "print the headers but not the payload"),
        ],
        details: [
            """
            Examples:
              nats-sub 'orders.>'
              nats-sub --count 1 --raw greet
            """,
            CommandChecks.exitStatus(failures: "a subscription was refused (invalid subject or queue group)"),
        ]
    )

    /// Server, credentials, name and timeout.
    public var connection: ConnectionSettings
    /// Subjects to subscribe to, in order.
    public var subjects: [String]
    /// Queue group (`--queue`), if any.
    public var queue: String?
    /// Messages to print before exiting; nil for no limit (`--count`, 0 means none).
    public var count: Int?
    /// How each message is printed (`--raw`, `--headers-only`).
    public var style: MessageFormat.Style

    /// Builds the command from parsed arguments.
    ///
    /// - Throws: `UsageError` for an invalid subject, queue group or count.
    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: Self.spec.name,
                                            defaultTimeout: Self.defaultTimeout)
        subjects = arguments.positionals
        for subject in subjects { try CommandChecks.subject(subject, wildcards: true) }
        queue = arguments.value("queue")
        if let queue { try CommandChecks.queue(queue) }
        let limit = try arguments.integer("count", default: 0, minimum: 0)
        count = limit == 0 ? nil : limit
        style = MessageFormat.Style(raw: arguments.isSet("raw"), headersOnly: arguments.isSet("headers-only"), showReply: true)
    }
}
