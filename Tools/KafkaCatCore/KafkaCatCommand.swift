import Foundation
import ToolSupport
import TributaryCompression
import TributaryKafka

/// `kafka-cat`: the parsed command line, with kcat's flags. Pure: built from arguments and
/// environment, so it is tested without a process or a broker.
public struct KafkaCatCommand: ToolCommand {
    /// The flags, named and lettered as kcat's.
    public static let spec: CommandSpec = {
        var spec = CommandSpec(
            name: "kafka-cat",
            positionalNames: ["TOPIC"],
            minimumPositionals: 0,
            lastPositionalRepeats: true,
            summary: """
            Lists cluster metadata (-L), produces stdin or files to a topic (-P), consumes a topic to
            stdout (-C), consumes the TOPIC arguments (names or ^regex) as a member of a consumer group
            (-G), or queries offsets by timestamp (-Q), with kcat's flags and output formats. Brokers
            come from -b, else -X bootstrap.servers (also from -F FILE or KCAT_CONFIG), else
            KAFKA_BROKERS.
            """,
            flags: [
                .boolean("produce", short: "P", help: "producer mode: one record per line (-D) of stdin"),
                .boolean("consume", short: "C", help: "consumer mode: print records to stdout"),
                .boolean("list", short: "L", help: "metadata mode: print brokers, topics and partitions"),
                .boolean("query", short: "Q", help: "query mode: print the offset of each -t TOPIC:PARTITION:TIMESTAMP (repeatable)"),
                .value("group", short: "G", placeholder: "GROUP", help: "balanced consumer mode: join GROUP, print the TOPIC arguments' records, commit them"),
                .value("brokers", short: "b", placeholder: "BROKERS", help: "bootstrap brokers host:port[,host:port] (default: $KAFKA_BROKERS)"),
                .repeatable("topic", short: "t", placeholder: "TOPIC", help: "topic to produce to, consume or list; -Q: TOPIC:PARTITION:TIMESTAMP (repeatable)"),
                .value("partition", short: "p", placeholder: "N", help: "partition (default, and -1: the partitioner for -P; every partition for -C)"),
                .repeatable("property", short: "X", placeholder: "KEY=VALUE", help: "client property (-X list shows them, -X dump prints the configuration and exits)"),
                .value("config", short: "F", placeholder: "FILE", help: "read property=value lines from FILE (default: $KCAT_CONFIG); -X wins"),
                .value("metadata-timeout", short: "m", placeholder: "SECONDS", help: "how long to wait for the first metadata and offset answers (default 60)"),
                .value("debug", short: "d", placeholder: "CONTEXTS", help: "debug contexts (all, protocol, broker, …): print each protocol request on stderr"),
                .value("delimiter", short: "D", placeholder: "DELIM", help: "record delimiter (default \\n); escapes \\n \\t \\r \\\\ \\xHH"),
                .value("key-delimiter", short: "K", placeholder: "DELIM", help: "-P: split key and value at the first DELIM; -C/-G: print key DELIM value"),
                .value("key", short: "k", placeholder: "KEY", help: "-P: key of every record without a -K key"),
                .repeatable("header", short: "H", placeholder: "NAME=VALUE", help: "-P: add a header to every record (repeatable)"),
                .value("compression", short: "z", placeholder: "CODEC", help: "-P: none, gzip, snappy, lz4 or zstd (default none)"),
                .boolean("null", short: "Z", help: "-P: send an empty -K key or value as null; -C/-G: print NULL for null"),
                .boolean("tee", short: "T", help: "-P: echo each record read from stdin to stdout, like tee"),
                .boolean("line", short: "l", help: "-P: read the one FILE argument as stdin, split at -D (without -l each FILE is one record)"),
                .value("count", short: "c", placeholder: "N", help: "stop after N records"),
                .value("offset", short: "o", placeholder: "OFFSET", help: "-C: beginning (default), end, stored, N, -N (N before the end), s@MS (start at a timestamp) or e@MS (stop before a timestamp; with another -o); -G: beginning, end (default) or stored, for partitions the group never committed"),
                .boolean("exit", short: "e", help: "-C/-G: exit once every (assigned) partition reached its end"),
                .value("format", short: "f", placeholder: "FORMAT", help: "-C/-G: output format: %t %p %o %k %K %s %S %R %h %T, \\n \\t escapes"),
                .boolean("json", short: "J", help: "-C/-G/-L: JSON output"),
                .boolean("print-offset", short: "O", help: "-C/-G: print each record's offset and the -K delimiter before it"),
                .boolean("unbuffered", short: "u", help: "-C/-G: unbuffered output (kafka-cat writes each poll's records at once anyway)"),
                .boolean("keep-going", short: "E", help: "do not exit on errors that may clear (all brokers down while consuming); report them and wait"),
                .boolean("version", short: "V", help: "print the version and exit"),
                .boolean("quiet", short: "q", help: "no informational lines on stderr"),
                .boolean("verbose", short: "v", help: "more informational lines on stderr (repeatable)"),
            ],
            details: [
                """
                Examples:
                  kafka-cat -L -b 127.0.0.1:9092
                  printf 'k1:hello\\nk2:world\\n' | kafka-cat -P -t orders -K : -H source=cli
                  kafka-cat -C -t orders -o beginning -e -f '%p %o %k=%s %h\\n'
                  kafka-cat -C -t orders -o -10 -e -J
                  kafka-cat -G billing orders refunds -o beginning -X session.timeout.ms=6000
                  kafka-cat -G audit '^orders-.*' -e
                  kafka-cat -P -t blobs -k photo-1 photo-1.jpg         (one file, one record)
                  kafka-cat -Q -t orders:0:1700000000000
                """,
                """
                Exit status:
                  0  success (also after Ctrl-C or SIGTERM)
                  1  usage error (unknown flag or -X property, missing -t or -G topic, bad -o or -z)
                  2  broker unreachable (all brokers down), unknown topic or partition, a record
                     not delivered, or a file argument that cannot be read
                """,
            ]
        )
        spec.getoptShortFlags = true
        return spec
    }()

    /// What `-V` and `--version` print.
    public static let versionText = """
    kafka-cat - Kafka producer and consumer tool with kcat's flags, on the Tributary Kafka client
    Version 1.0 (JSON, Transactions: no, compression: gzip, snappy, lz4, zstd)

    """

    /// `-L`, `-P`, `-C`, `-G` or `-Q`.
    public var mode: KafkaCatMode
    /// `-V` / `--version`: print the version and exit (nothing else is required).
    public var showsVersion: Bool
    /// `-X list` or `-X dump`: print the properties and exit.
    public var propertyAction: KafkaCatPropertyAction?
    /// `-Q`: the partitions and timestamps to look up.
    public var queries: [KafkaCatQuery]
    /// `-P` FILE arguments: each file is one record, or with `-l` the one file is read as stdin.
    public var files: [String]
    /// `-l`.
    public var lineMode: Bool
    /// `-T`.
    public var tee: Bool
    /// Whether errors that may clear end the run (kcat's default); false with `-E`.
    public var exitOnError: Bool
    /// `-m`: how long the first metadata may take.
    public var metadataTimeout: Duration?
    /// `-o e@MS`: stop each partition before the first record at or after this timestamp.
    public var stopTimestamp: Int64?
    /// The bootstrap brokers (`-b`, `-X bootstrap.servers`, else `KAFKA_BROKERS`).
    public var brokers: [KafkaBrokerAddress]
    /// `-t`; required for -P and -C.
    public var topic: String?
    /// `-G`: the consumer group.
    public var group: String?
    /// `-G`: the subscribed topics (the arguments, after any `-t`).
    public var topics: [String]
    /// `-G`: where a partition without a committed offset starts: `-o beginning` or `-o end`,
    /// else `-X auto.offset.reset`, else `.latest` (kcat leaves it to librdkafka, whose default
    /// is `latest`). Committed offsets always win (`-o stored` is this default).
    public var groupOffsetReset: KafkaOffsetResetPolicy
    /// `-p`.
    public var partition: Int32?
    /// `-X` properties (and `-z`).
    public var properties: KafkaCatProperties
    /// 0 with `-q`, 1 by default, plus one per `-v` (kcat's verbosity).
    public var verbosity: Int
    /// `-c`; nil for no limit.
    public var count: Int?
    /// `-J`.
    public var json: Bool

    /// `-D` as bytes.
    public var delimiter: [UInt8]
    /// `-K` as bytes.
    public var keyDelimiter: [UInt8]?
    /// `-k` as bytes.
    public var fixedKey: [UInt8]?
    /// `-H`, in order.
    public var headers: [KafkaCatHeader]
    /// `-Z`.
    public var nullForEmpty: Bool

    /// `-o`.
    public var start: KafkaCatStartOffset
    /// `-e`.
    public var exitAtEnd: Bool
    /// How -C prints records (`-f`, `-J`, `-K`, `-D`, `-Z`).
    public var output: KafkaCatOutput

    /// Builds the command from parsed arguments.
    ///
    /// - Throws: `UsageError` for no mode or several modes, a missing `-t` (or `-G` topic), a
    ///   bad `-o`, `-z`, `-p`, `-c`, `-f`, delimiter or `-X` property, or no brokers.
    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        showsVersion = arguments.isSet("version")
        var propertyArguments: [String] = []
        propertyAction = nil
        for argument in arguments.values("property") {
            switch argument {
            case "list", "help": propertyAction = .list
            case "dump": propertyAction = propertyAction ?? .dump
            default: propertyArguments.append(argument)
            }
        }
        let modes = [KafkaCatMode.produce, .consume, .list, .group, .query].filter { mode in
            arguments.isSet(Self.spec.flags.first { $0.short == Character(mode.rawValue) }?.name ?? "")
        }
        let informational = showsVersion || propertyAction != nil
        guard let mode = modes.first ?? (informational ? .list : nil) else {
            throw UsageError("no mode given: use -L (metadata), -P (produce), -C (consume), -G GROUP (consume as a group member) or -Q (query offsets)")
        }
        guard modes.count <= 1 else {
            throw UsageError("do not mix modes: " + modes.map { "-" + $0.rawValue }.joined(separator: " and ") + " given; use one")
        }
        self.mode = mode

        // Configuration files first (-F, else KCAT_CONFIG), then -X: the command line wins.
        properties = KafkaCatProperties()
        if let path = arguments.value("config") ?? environment["KCAT_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }), path != "-", path != "none" {
            let origin = arguments.isSet("config") ? "-F" : "KCAT_CONFIG"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw UsageError("cannot read the configuration file '\(path)' (\(origin)): no such readable file")
            }
            try properties.applyFile(String(decoding: data, as: UTF8.self), path: path)
        }
        try properties.apply(propertyArguments)
        try properties.checkSecurity()
        if let codec = arguments.value("compression") { properties.compression = try KafkaCatProperties.codec(codec, what: "-z") }
        if let contexts = arguments.value("debug") { properties.debug = try KafkaCatProperties.debugContexts(contexts, what: "-d") }
        if let text = arguments.value("metadata-timeout") {
            guard let seconds = Double(text), seconds > 0 else { throw UsageError("invalid -m '\(text)': expected a number of seconds above 0") }
            metadataTimeout = .milliseconds(Int64(seconds * 1000))
        } else {
            metadataTimeout = nil
        }
        exitOnError = !arguments.isSet("keep-going")
        lineMode = arguments.isSet("line")
        tee = arguments.isSet("tee")
        files = []
        queries = []
        stopTimestamp = nil
        let brokerText = arguments.value("brokers") ?? properties.brokers ?? environment["KAFKA_BROKERS"]
        if informational {
            brokers = (try? KafkaBrokerAddress.parseList(brokerText ?? "")) ?? []
            topic = nil; group = nil; topics = []; groupOffsetReset = .latest; partition = nil; verbosity = 1; count = nil; json = false
            delimiter = [10]; keyDelimiter = nil; fixedKey = nil; headers = []; nullForEmpty = false; start = .defaultValue; exitAtEnd = false
            output = .format(KafkaCatFormat(tokens: [.value, .text([10])], showsNull: false))
            return
        }
        guard let brokerText, !brokerText.isEmpty else {
            throw UsageError("no brokers: give -b host:port, -X bootstrap.servers or set KAFKA_BROKERS")
        }
        do {
            brokers = try KafkaBrokerAddress.parseList(brokerText)
        } catch {
            throw UsageError("invalid -b '\(brokerText)': \(error.message)")
        }

        if mode == .query {
            for text in arguments.values("topic") { queries.append(try KafkaCatQuery.parse(text)) }
            guard !queries.isEmpty else { throw UsageError("-Q needs one or more -t TOPIC:PARTITION:TIMESTAMP") }
            var seen = Set<KafkaTopicPartition>()
            for query in queries where !seen.insert(KafkaTopicPartition(topic: query.topic, partition: query.partition)).inserted {
                throw UsageError("-Q: \(query.topic) [\(query.partition)] is given twice; a partition may occur once")
            }
        }
        topic = mode == .query ? nil : arguments.value("topic")
        if let topic, topic.isEmpty { throw UsageError("invalid -t '': the topic name is empty") }
        group = arguments.value("group")
        if mode == .group {
            guard let group, !group.isEmpty else { throw UsageError("invalid -G '': the group name is empty") }
            topics = []
            for name in (topic.map { [$0] } ?? []) + arguments.positionals where !topics.contains(name) {
                guard !name.isEmpty else { throw UsageError("invalid topic '': the topic name is empty") }
                if name.hasPrefix("^"), (try? Regex(name)) == nil {
                    throw UsageError("invalid topic pattern '\(name)': not a regular expression")
                }
                topics.append(name)
            }
            guard !topics.isEmpty else { throw UsageError("-G \(group) needs one or more topics: kafka-cat -G \(group) TOPIC...") }
            if arguments.isSet("partition") { throw UsageError("-p does not apply to -G: the group assigns the partitions") }
        } else {
            topics = topic.map { [$0] } ?? []
            if mode == .produce {
                files = arguments.positionals
                if lineMode && files.count > 1 { throw UsageError("-l reads one file; \(files.count) given") }
                if lineMode && files.isEmpty { throw UsageError("-l needs a FILE argument to read as stdin") }
            } else if let extra = arguments.positionals.first {
                throw UsageError("unexpected argument '\(extra)': file arguments are for -P, topic arguments for -G; use -t TOPIC with -\(mode.rawValue)")
            }
            if mode != .list && mode != .query, topic == nil { throw UsageError("-t TOPIC is required with -\(mode.rawValue)") }
        }
        partition = nil
        if let text = arguments.value("partition") {
            guard let value = Int32(text), value >= -1 else { throw UsageError("invalid -p '\(text)': expected a partition number (0 or more), or -1 for the partitioner") }
            if value == -1 && mode != .produce { throw UsageError("-p -1 (the partitioner) applies to -P only") }
            partition = value == -1 ? nil : value
        }
        verbosity = arguments.isSet("quiet") ? 0 : 1 + arguments.values("verbose").count
        let limit = try arguments.integer("count", default: 0, minimum: 0)
        count = limit == 0 ? nil : limit
        json = arguments.isSet("json")

        delimiter = try DelimiterEscapes.bytes(arguments.value("delimiter") ?? "\\n", flag: "-D")
        if mode == .produce, delimiter.isEmpty { throw UsageError("invalid -D '': the delimiter must not be empty when producing") }
        keyDelimiter = try arguments.value("key-delimiter").map { (text) throws(UsageError) in try DelimiterEscapes.bytes(text, flag: "-K") }
        if mode == .produce, keyDelimiter?.isEmpty == true { throw UsageError("invalid -K '': the key delimiter must not be empty") }
        fixedKey = arguments.value("key").map { Array($0.utf8) }
        headers = []
        for text in arguments.values("header") { headers.append(try KafkaCatHeader.parse(text)) }
        nullForEmpty = arguments.isSet("null")

        groupOffsetReset = properties.autoOffsetReset ?? .latest
        if mode == .group {
            start = .defaultValue
            switch arguments.value("offset") {
            case nil, "stored": break
            case "beginning": groupOffsetReset = .earliest
            case "end": groupOffsetReset = .latest
            case let text?:
                throw UsageError("invalid -o '\(text)' with -G: expected beginning, end or stored (where a partition without a committed offset starts)")
            }
        } else {
            // kcat takes several -o: a start and an e@ stop.
            start = .defaultValue
            for text in arguments.values("offset") {
                if text.hasPrefix("e@") {
                    guard let milliseconds = Int64(text.dropFirst(2)), milliseconds >= 0 else {
                        throw UsageError("invalid -o '\(text)': e@ needs a timestamp in milliseconds since the epoch, as in e@1700000000000")
                    }
                    stopTimestamp = milliseconds
                } else {
                    start = try KafkaCatStartOffset.parse(text)
                }
            }
        }
        exitAtEnd = arguments.isSet("exit")
        if json {
            output = .json(separator: delimiter)
        } else if let format = arguments.value("format") {
            output = .format(try KafkaCatFormat(parsing: format, showsNull: nullForEmpty))
        } else {
            var tokens: [KafkaCatFormat.Token] = []
            if arguments.isSet("print-offset") { tokens += [.offset, .text(keyDelimiter ?? [])] }
            if let keyDelimiter { tokens += [.key, .text(keyDelimiter)] }
            tokens += [.value, .text(delimiter)]
            output = .format(KafkaCatFormat(tokens: tokens, showsNull: nullForEmpty))
        }
    }

    /// The key and value of one input record (`-P`): split at the first `-K` delimiter when
    /// given and present (with `-Z`, an empty side becomes null), else the fixed `-k` key.
    public func keyAndValue(of message: [UInt8]) -> (key: [UInt8]?, value: [UInt8]?) {
        var key: [UInt8]?
        var value: [UInt8]? = message
        if let keyDelimiter, let split = Self.firstRange(of: keyDelimiter, in: message) {
            key = Array(message[..<split.lowerBound])
            value = Array(message[split.upperBound...])
            if nullForEmpty {
                if key?.isEmpty == true { key = nil }
                if value?.isEmpty == true { value = nil }
            }
        }
        if key == nil, let fixedKey { key = fixedKey }
        return (key, value)
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start..<(start + needle.count)
        }
        return nil
    }
}


/// `-X list` or `-X dump`.
public enum KafkaCatPropertyAction: Sendable, Hashable {
    /// `-X list`: the properties kafka-cat understands.
    case list
    /// `-X dump`: the properties set, after `-F`/`KCAT_CONFIG` and `-X`.
    case dump
}

/// One `-Q -t TOPIC:PARTITION:TIMESTAMP`.
public struct KafkaCatQuery: Sendable, Hashable {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// Milliseconds since the epoch.
    public var timestamp: Int64

    /// Creates a query.
    public init(topic: String, partition: Int32, timestamp: Int64) {
        self.topic = topic
        self.partition = partition
        self.timestamp = timestamp
    }

    /// Parses `TOPIC:PARTITION:TIMESTAMP` (the topic may itself contain no colon).
    ///
    /// - Throws: `UsageError` for another shape.
    public static func parse(_ text: String) throws(UsageError) -> KafkaCatQuery {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let partition = Int32(parts[1]), partition >= 0, let timestamp = Int64(parts[2]) else {
            throw UsageError("invalid -t '\(text)' with -Q: expected TOPIC:PARTITION:TIMESTAMP (milliseconds since the epoch), as in orders:0:1700000000000")
        }
        return KafkaCatQuery(topic: String(parts[0]), partition: partition, timestamp: timestamp)
    }
}
