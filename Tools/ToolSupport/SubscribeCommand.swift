/// `nats-sub SUBJECT...`: the parsed command line of the subscribe tool.
public struct SubscribeCommand: ToolCommand, Equatable {
    /// Default `--timeout` (connect): 2 s.
    public static let defaultTimeout: Duration = .seconds(2)

    /// Flags: connection flags, `--queue`, `--count`, `-r/--raw`, `--headers-only`.
    public static let spec = CommandSpec(
        name: "nats-sub",
        positionalNames: ["SUBJECT"],
        minimumPositionals: 0,
        lastPositionalRepeats: true,
        summary: """
        Subscribes to one or more subjects (wildcards * and > allowed) and prints every message:
        '[#N] Received on "subject"' (with the reply subject, if any), the headers, an empty line
        if there were headers, the payload and an empty line. Prints 'Subscribing on SUBJECT' on
        stderr once the subscriptions are active (unless --raw). Runs until --count
        messages arrived or Ctrl-C/SIGTERM.

        --dump DIR writes each message to DIR/N.json (N counts from 1; the stream sequence with
        --stream) as the nats CLI does: {"Subject":…,"Reply":…,"Header":{"K":["v"]}|null,
        "Data":"<base64>","Sub":null}; the directory is created if needed. --translate CMD pipes
        each payload through shell command CMD and shows (or dumps) its stdout instead.
        --subjects-only prints only the '[#N] Received on' lines. --match-replies holds each
        request that has a reply subject until its reply arrives on the inbox prefix (_INBOX.>),
        then prints both ('[#N] Matched reply on "inbox"'). --inbox (-i) subscribes to a fresh
        inbox instead of SUBJECT and prints its name.

        With --stream (or any of --all, --new, --last, --last-per-subject, --start-sequence,
        --since, which need it) the stream is replayed through an ordered consumer filtered by
        SUBJECT (at most one; without SUBJECT the whole stream), and each message is announced as
        '[#N] Received JetStream message: stream: S seq: N / pending: P / subject: X / time: T'.
        The default start is --all. The ordered consumer is deleted when the tool ends.
        """,
        flags: ConnectionSettings.flags(defaultTimeout: defaultTimeout) + [
            .value("queue", placeholder: "GROUP", help: "subscribe in queue group GROUP"),
            .value("count", placeholder: "N", help: "exit after N messages in total (default 0: until interrupted)"),
            .boolean("raw", short: "r", help: "print only the payload of each message, one per line"),
            .boolean("headers-only", help: "print the headers but not the payload"),
            .boolean("subjects-only", help: "print only the '[#N] Received on' line of each message"),
            .value("dump", placeholder: "DIR", help: "write each message to DIR/N.json instead of printing it"),
            .value("translate", placeholder: "CMD", help: "pipe each payload through shell command CMD before showing it"),
            .boolean("match-replies", help: "print each request together with its reply"),
            .boolean("inbox", short: "i", help: "subscribe to a new inbox (printed on stderr) instead of SUBJECT"),
            .value("stream", placeholder: "STREAM", help: "replay from JetStream stream STREAM through an ordered consumer"),
            .boolean("all", help: "deliver all messages found in the stream (the default with --stream)"),
            .boolean("new", help: "deliver only messages stored from now on"),
            .boolean("last", help: "deliver the most recent message and all future ones"),
            .boolean("last-per-subject", help: "deliver the most recent message of each subject, then future ones"),
            .value("start-sequence", placeholder: "SEQUENCE", help: "start at stream sequence SEQUENCE"),
            .value("since", placeholder: "DURATION", help: "deliver messages stored since DURATION ago, like 1h or 2d3h"),
            .boolean("terminate-at-end", short: "T", help: "exit once every message stored so far was received"),
        ],
        details: [
            """
            Examples:
              nats-sub 'orders.>'
              nats-sub --count 1 --raw greet
              nats-sub --stream ORDERS --last-per-subject 'orders.>'
              nats-sub --stream ORDERS --since 1h -T
              nats-sub --dump /tmp/orders 'orders.>'
              nats-sub --translate 'jq .' 'orders.>'
              nats-sub --match-replies 'svc.>'
            """,
            CommandChecks.exitStatus(failures: "a subscription was refused (invalid subject or queue group), or the stream does not exist"),
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
    /// The JetStream replay (`--stream` and the start flags), or nil for a core NATS subscription.
    public var replay: StreamReplay?
    /// `--dump DIR`: write each message as JSON to DIR instead of printing it.
    public var dumpDirectory: String?
    /// `--translate CMD`: a shell command each payload is piped through.
    public var translate: String?
    /// `--match-replies`.
    public var matchReplies: Bool
    /// `-i/--inbox`: subscribe to a generated inbox.
    public var inbox: Bool

    /// Where a JetStream replay starts (nats CLI `sub` start flags).
    public enum ReplayStart: Sendable, Equatable {
        /// `--all` (the default).
        case all
        /// `--new`.
        case new
        /// `--last`.
        case last
        /// `--last-per-subject`.
        case lastPerSubject
        /// `--start-sequence N`.
        case sequence(UInt64)
        /// `--since DURATION`: messages stored this long ago or later.
        case since(Duration)
    }

    /// A replay of a stream through an ordered consumer.
    public struct StreamReplay: Sendable, Equatable {
        /// The stream (`--stream`).
        public var stream: String
        /// Where to start.
        public var start: ReplayStart
        /// `-T/--terminate-at-end`: stop when the consumer reports nothing pending.
        public var terminateAtEnd: Bool

        /// Creates a replay description.
        public init(stream: String, start: ReplayStart, terminateAtEnd: Bool) {
            self.stream = stream
            self.start = start
            self.terminateAtEnd = terminateAtEnd
        }
    }

    /// Builds the command from parsed arguments.
    ///
    /// - Throws: `UsageError` for an invalid subject, queue group, count, sequence or duration;
    ///   a missing SUBJECT without `--stream`; start flags without `--stream`, more than one of
    ///   them, several subjects or `--queue` with `--stream`.
    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: Self.spec.name,
                                            defaultTimeout: Self.defaultTimeout)
        subjects = arguments.positionals
        for subject in subjects { try CommandChecks.subject(subject, wildcards: true) }
        queue = try CommandChecks.queueGroup(arguments.value("queue"))
        replay = try Self.replay(arguments)
        inbox = arguments.isSet("inbox")
        matchReplies = arguments.isSet("match-replies")
        if let dump = arguments.value("dump") {
            guard !dump.isEmpty else { throw UsageError("--dump needs a directory, e.g. --dump ./messages") }
            guard dump != "-" else { throw UsageError("--dump - (NUL-separated stdout) is not supported; give a directory") }
            dumpDirectory = dump
        } else {
            dumpDirectory = nil
        }
        translate = arguments.value("translate")
        if let translate, translate.trimmingSpaces().isEmpty {
            throw UsageError("--translate needs a shell command, e.g. --translate 'jq .'")
        }
        if inbox, !subjects.isEmpty { throw UsageError("--inbox subscribes to a new inbox; give no SUBJECT with it") }
        if inbox, replay != nil { throw UsageError("--inbox cannot be used with --stream") }
        if matchReplies, replay != nil { throw UsageError("--match-replies cannot be used with --stream") }
        if replay == nil, subjects.isEmpty, !inbox { throw UsageError("missing SUBJECT argument") }
        if replay != nil {
            if subjects.count > 1 { throw UsageError("--stream replays at most one SUBJECT, got \(subjects.count)") }
            if queue != nil { throw UsageError("--queue cannot be used with --stream: a stream replay is not shared with a queue group") }
        }
        let limit = try arguments.integer("count", default: 0, minimum: 0)
        count = limit == 0 ? nil : limit
        style = MessageFormat.Style(raw: arguments.isSet("raw"), headersOnly: arguments.isSet("headers-only"), showReply: true,
                                    subjectsOnly: arguments.isSet("subjects-only"))
        if style.raw, style.subjectsOnly { throw UsageError("--raw and --subjects-only cannot be combined; choose one") }
    }

    /// The replay the start flags ask for, or nil without `--stream` and start flags.
    static func replay(_ arguments: ParsedArguments) throws(UsageError) -> StreamReplay? {
        var starts: [(String, ReplayStart)] = []
        if arguments.isSet("all") { starts.append(("--all", .all)) }
        if arguments.isSet("new") { starts.append(("--new", .new)) }
        if arguments.isSet("last") { starts.append(("--last", .last)) }
        if arguments.isSet("last-per-subject") { starts.append(("--last-per-subject", .lastPerSubject)) }
        if let text = arguments.value("start-sequence") {
            guard let sequence = UInt64(text.trimmingSpaces()), sequence >= 1 else {
                throw UsageError("invalid value '\(text)' for --start-sequence: expected a stream sequence of at least 1")
            }
            starts.append(("--start-sequence", .sequence(sequence)))
        }
        if let text = arguments.value("since") {
            starts.append(("--since", .since(try sinceDuration(text))))
        }
        let terminateAtEnd = arguments.isSet("terminate-at-end")
        guard let stream = arguments.value("stream") else {
            if let first = starts.first { throw UsageError("\(first.0) needs --stream STREAM") }
            if terminateAtEnd { throw UsageError("--terminate-at-end needs --stream STREAM") }
            return nil
        }
        guard !stream.isEmpty, !stream.contains(where: { $0 == "." || $0 == "*" || $0 == ">" || $0 == " " }) else {
            throw UsageError("invalid stream name '\(stream)': it cannot be empty or contain '.', '*', '>' or spaces")
        }
        if starts.count > 1 {
            throw UsageError("\(starts.map(\.0).joined(separator: " and ")) cannot be combined; choose one start")
        }
        return StreamReplay(stream: stream, start: starts.first?.1 ?? .all, terminateAtEnd: terminateAtEnd)
    }

    /// A `--since` duration: Go durations plus leading days (`d`) and weeks (`w`), like the nats CLI's `2d3h`.
    static func sinceDuration(_ text: String) throws(UsageError) -> Duration {
        var rest = Substring(text.trimmingSpaces())
        var total = Duration.zero
        while let end = rest.firstIndex(where: { !$0.isASCII || !$0.isNumber }), end != rest.startIndex,
              rest[end] == "d" || rest[end] == "w", let value = Int64(rest[..<end]) {
            total += .seconds(value * (rest[end] == "d" ? 86_400 : 604_800))
            rest = rest[rest.index(after: end)...]
        }
        if rest.isEmpty, total > .zero { return total }
        do {
            return total + (try DurationSyntax.parse(String(rest)))
        } catch {
            throw UsageError("invalid value '\(text)' for --since: \(error.message) (days d and weeks w are allowed too)")
        }
    }
}
