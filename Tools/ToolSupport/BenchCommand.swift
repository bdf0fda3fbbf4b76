/// `nats-bench MODE [SUBJECT]`: the parsed command line of the NATS benchmark tool.
///
/// Modes are listed in `modes`; adding one means adding an entry there and its runner in
/// `Tools/nats-bench`.
public struct BenchCommand: ToolCommand, Equatable {
    /// Default `--timeout` (connect): 5 s.
    public static let defaultTimeout: Duration = .seconds(5)
    /// The subject used without SUBJECT.
    public static let defaultSubject = "bench.tributary"

    /// One benchmark mode: its name, what it measures, its default `--msgs`, and whether it
    /// takes `--clients` above 1.
    public struct Mode: Sendable, Equatable {
        public var name: String
        public var summary: String
        public var defaultMessages: Int
        public var allowsClients: Bool

        public init(name: String, summary: String, defaultMessages: Int, allowsClients: Bool) {
            self.name = name
            self.summary = summary
            self.defaultMessages = defaultMessages
            self.allowsClients = allowsClients
        }
    }

    /// The modes, in help order.
    public static let modes: [Mode] = [
        Mode(name: "pub", summary: "--clients connections publish --msgs messages between them, then flush (publish throughput)",
             defaultMessages: 1_000_000, allowsClients: true),
        Mode(name: "pubsub", summary: "as pub, plus a subscriber on its own connection counting what arrives",
             defaultMessages: 1_000_000, allowsClients: true),
        Mode(name: "req", summary: "sequential requests against a responder on a second connection (latency)",
             defaultMessages: 20_000, allowsClients: false),
        Mode(name: "jspub", summary: "JetStream publishes, each waiting for its ack (latency); --async keeps --window acks pending",
             defaultMessages: 10_000, allowsClients: false),
        Mode(name: "jsfetch", summary: "fill a stream, then fetch --batch sized pulls from an explicit-ack consumer, acking each",
             defaultMessages: 100_000, allowsClients: false),
        Mode(name: "kv", summary: "sequential key-value puts, then as many gets, on a fresh bucket (latency of each; keys k0..k99)",
             defaultMessages: 10_000, allowsClients: false),
        Mode(name: "obj", summary: "put an object of --size bytes (default 64 MiB), then get it back (digest checked), --msgs times",
             defaultMessages: 1, allowsClients: false),
    ]

    /// Flags: connection flags, `--msgs`, `--size`, `--clients`, `--csv`, `--sleep`, `--subject`,
    /// `--async`, `--window`, `--batch`, `--storage`, `--no-progress`.
    public static let spec = CommandSpec(
        name: "nats-bench",
        positionalNames: ["MODE", "SUBJECT"],
        minimumPositionals: 1,
        summary: """
        Measures the Tributary NATS client against a real server. MODE is one of:
        """ + modes.map { "\n  \($0.name)\(String(repeating: " ", count: max(1, 9 - $0.name.count)))\($0.summary)" }.joined() + """

        JetStream modes create a fresh stream (memory storage unless --storage file) and delete it.
        Prints a table and one JSON line on stdout; with --csv also a CSV file in the nats CLI's
        layout (#RunID,ClientID,MsgCount,MsgBytes,MsgsPerSec,BytesPerSec,DurationSecs, plus
        latency columns for req and jspub). On a terminal a progress line is kept on stderr.
        Ctrl-C stops the run and prints the summary of what was done ("partial":true).
        """,
        flags: ConnectionSettings.flags(defaultTimeout: defaultTimeout) + [
            .value("msgs", short: "n", placeholder: "N", help: "messages (default per mode: pub/pubsub 1000000, req 20000, jspub 10000 or 100000 with --async, jsfetch 100000, kv 10000, obj 1)"),
            .value("size", placeholder: "SIZE", help: "payload size: bytes or with a suffix, 16B, 1KB, 1MB (1024-based, default 16)"),
            .value("clients", placeholder: "N", help: "publishing connections for pub and pubsub (default 1)"),
            .value("csv", placeholder: "FILE", help: "also write the per-client results to FILE as CSV"),
            .value("sleep", placeholder: "D", help: "pause D between publishes (pub, pubsub)"),
            .value("subject", placeholder: "SUBJECT", help: "same as the SUBJECT argument (default \(defaultSubject))"),
            .boolean("async", help: "jspub: publish asynchronously"),
            .boolean("handler", help: "pubsub: the subscriber is a handler (callback) subscription instead of an async sequence"),
            .boolean("main-actor", help: "kv: the timed puts and gets run on the main actor (as from an actor of a service or an app)"),
            .value("window", placeholder: "N", help: "jspub --async: acks pending at most (default 256)"),
            .value("batch", placeholder: "N", help: "jsfetch: messages per fetch (default 500)"),
            .value("storage", placeholder: "memory|file", help: "storage of the stream JetStream modes create (default memory)"),
            .boolean("no-progress", help: "no progress line, even on a terminal"),
        ],
        details: [
            """
            Examples:
              nats-bench pub orders --msgs 1000000 --size 1KB --clients 4
              nats-bench pubsub --msgs 200000 --csv pubsub.csv
              nats-bench req --msgs 20000
              nats-bench jspub --async --window 512 --storage file
            """,
            CommandChecks.exitStatus(failures: "a publish, request or JetStream call failed during the run"),
        ]
    )

    /// Server, credentials, name and timeout.
    public var connection: ConnectionSettings
    /// The mode, as given (`jspub` stays `jspub`; see `async`).
    public var mode: String
    /// The subject to use.
    public var subject: String
    /// Messages in total.
    public var messages: Int
    /// Payload size in bytes.
    public var size: Int
    /// Publishing connections.
    public var clients: Int
    /// `--csv FILE`.
    public var csvFile: String?
    /// `--sleep`.
    public var sleep: Duration?
    /// `--async` (jspub).
    public var async: Bool
    /// `--handler` (pubsub).
    public var handler: Bool
    /// `--main-actor` (kv).
    public var mainActor: Bool
    /// `--window`.
    public var window: Int
    /// `--batch`.
    public var batch: Int
    /// `--storage file`.
    public var fileStorage: Bool
    /// False with `--no-progress`.
    public var progress: Bool

    /// Builds the command from parsed arguments.
    ///
    /// - Throws: `UsageError` for an unknown mode, a bad number, size or duration, or a flag
    ///   that does not apply to the mode.
    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        connection = try ConnectionSettings(arguments, environment: environment, toolName: Self.spec.name,
                                            defaultTimeout: Self.defaultTimeout)
        let modeName = arguments.positionals[0]
        guard let known = Self.modes.first(where: { $0.name == modeName }) else {
            throw UsageError("unknown mode '\(modeName)'; use one of \(Self.modes.map(\.name).joined(separator: ", "))")
        }
        mode = modeName
        if arguments.positionals.count > 1, arguments.isSet("subject") {
            throw UsageError("give the subject once: as SUBJECT or with --subject")
        }
        subject = arguments.positionals.count > 1 ? arguments.positionals[1] : arguments.value("subject") ?? Self.defaultSubject
        try CommandChecks.subject(subject)
        async = arguments.isSet("async")
        if async, modeName != "jspub" { throw UsageError("--async applies to jspub only") }
        handler = arguments.isSet("handler")
        if handler, modeName != "pubsub" { throw UsageError("--handler applies to pubsub only") }
        mainActor = arguments.isSet("main-actor")
        if mainActor, modeName != "kv" { throw UsageError("--main-actor applies to kv only") }
        let defaultMessages = async ? 100_000 : known.defaultMessages
        messages = try arguments.integer("msgs", default: defaultMessages, minimum: 1)
        size = try Self.size(arguments.value("size") ?? (modeName == "obj" ? "64MiB" : "16"))
        clients = try arguments.integer("clients", default: 1, minimum: 1)
        if clients > 1, !known.allowsClients {
            throw UsageError("--clients applies to \(Self.modes.filter(\.allowsClients).map(\.name).joined(separator: " and ")), not \(modeName)")
        }
        if clients > messages { throw UsageError("--clients \(clients) is more than --msgs \(messages)") }
        csvFile = arguments.value("csv")
        if let csvFile, csvFile.isEmpty { throw UsageError("--csv needs a file name") }
        sleep = try arguments.duration("sleep")
        window = try arguments.integer("window", default: 256, minimum: 1)
        batch = try arguments.integer("batch", default: 500, minimum: 1)
        switch arguments.value("storage") ?? "memory" {
        case "memory": fileStorage = false
        case "file": fileStorage = true
        case let other: throw UsageError("invalid value '\(other)' for --storage: expected memory or file")
        }
        progress = !arguments.isSet("no-progress")
    }

    /// A size as the nats CLI reads it: a byte count, or a number with `B`, `K`/`KB`/`KiB`,
    /// `M`/`MB`/`MiB`, `G`/`GB`/`GiB` (1024-based, any case).
    ///
    /// - Throws: `UsageError` for anything else, or a size above 64 MiB (more than a server accepts).
    public static func size(_ text: String) throws(UsageError) -> Int {
        let trimmed = text.trimmingSpaces()
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let suffix = trimmed.dropFirst(digits.count).uppercased()
        let shifts: [String: Int] = ["": 0, "B": 0, "K": 10, "KB": 10, "KIB": 10, "M": 20, "MB": 20, "MIB": 20, "G": 30, "GB": 30, "GIB": 30]
        guard !digits.isEmpty, let number = Int(digits), let shift = shifts[suffix] else {
            throw UsageError("invalid size '\(text)': expected bytes such as 128, 16B, 1KB or 1MB")
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow, bytes <= 64 << 20 else { throw UsageError("size '\(text)' is too large (at most 64MB)") }
        return bytes
    }
}
