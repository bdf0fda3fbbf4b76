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
            Lists cluster metadata (-L), produces stdin to a topic (-P), consumes a topic to stdout
            (-C), or consumes the TOPIC arguments as a member of a consumer group (-G), with kcat's
            flags and output formats. Brokers come from -b, else KAFKA_BROKERS.
            """,
            flags: [
                .boolean("produce", short: "P", help: "producer mode: one record per line (-D) of stdin"),
                .boolean("consume", short: "C", help: "consumer mode: print records to stdout"),
                .boolean("list", short: "L", help: "metadata mode: print brokers, topics and partitions"),
                .value("group", short: "G", placeholder: "GROUP", help: "balanced consumer mode: join GROUP, print the TOPIC arguments' records, commit them"),
                .value("brokers", short: "b", placeholder: "BROKERS", help: "bootstrap brokers host:port[,host:port] (default: $KAFKA_BROKERS)"),
                .value("topic", short: "t", placeholder: "TOPIC", help: "topic to produce to, consume or list"),
                .value("partition", short: "p", placeholder: "N", help: "partition (default: the partitioner for -P, every partition for -C)"),
                .repeatable("property", short: "X", placeholder: "KEY=VALUE", help: "client property: " + KafkaCatProperties.knownKeys.joined(separator: ", ")),
                .value("delimiter", short: "D", placeholder: "DELIM", help: "record delimiter (default \\n); escapes \\n \\t \\r \\\\ \\xHH"),
                .value("key-delimiter", short: "K", placeholder: "DELIM", help: "-P: split key and value at the first DELIM; -C/-G: print key DELIM value"),
                .value("key", short: "k", placeholder: "KEY", help: "-P: key of every record without a -K key"),
                .repeatable("header", short: "H", placeholder: "NAME=VALUE", help: "-P: add a header to every record (repeatable)"),
                .value("compression", short: "z", placeholder: "CODEC", help: "-P: none, gzip, snappy, lz4 or zstd (default none)"),
                .boolean("null", short: "Z", help: "-P: send an empty -K key or value as null; -C/-G: print NULL for null"),
                .value("count", short: "c", placeholder: "N", help: "stop after N records"),
                .value("offset", short: "o", placeholder: "OFFSET", help: "-C: beginning (default), end, stored, N, -N (N before the end) or s@MS; -G: beginning, end (default) or stored, for partitions the group never committed"),
                .boolean("exit", short: "e", help: "-C/-G: exit once every (assigned) partition reached its end"),
                .value("format", short: "f", placeholder: "FORMAT", help: "-C/-G: output format: %t %p %o %k %K %s %S %R %h %T, \\n \\t escapes"),
                .boolean("json", short: "J", help: "-C/-G/-L: JSON output"),
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
                """,
                """
                Exit status:
                  0  success (also after Ctrl-C or SIGTERM)
                  1  usage error (unknown flag or -X property, missing -t or -G topic, bad -o or -z)
                  2  broker unreachable, unknown topic or partition, or a record not delivered
                """,
            ]
        )
        spec.getoptShortFlags = true
        return spec
    }()

    /// `-L`, `-P`, `-C` or `-G`.
    public var mode: KafkaCatMode
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
        let modes = [KafkaCatMode.produce, .consume, .list, .group].filter { mode in
            arguments.isSet(Self.spec.flags.first { $0.short == Character(mode.rawValue) }?.name ?? "")
        }
        guard let mode = modes.first else { throw UsageError("no mode given: use -L (metadata), -P (produce), -C (consume) or -G GROUP (consume as a group member)") }
        guard modes.count == 1 else {
            throw UsageError("do not mix modes: " + modes.map { "-" + $0.rawValue }.joined(separator: " and ") + " given; use one")
        }
        self.mode = mode

        properties = try KafkaCatProperties(arguments.values("property"))
        if let codec = arguments.value("compression") { properties.compression = try KafkaCatProperties.codec(codec, what: "-z") }
        guard let brokerText = arguments.value("brokers") ?? properties.brokers ?? environment["KAFKA_BROKERS"], !brokerText.isEmpty else {
            throw UsageError("no brokers: give -b host:port or set KAFKA_BROKERS")
        }
        do {
            brokers = try KafkaBrokerAddress.parseList(brokerText)
        } catch {
            throw UsageError("invalid -b '\(brokerText)': \(error.message)")
        }

        topic = arguments.value("topic")
        if let topic, topic.isEmpty { throw UsageError("invalid -t '': the topic name is empty") }
        group = arguments.value("group")
        if mode == .group {
            guard let group, !group.isEmpty else { throw UsageError("invalid -G '': the group name is empty") }
            topics = []
            for name in (topic.map { [$0] } ?? []) + arguments.positionals where !topics.contains(name) {
                guard !name.isEmpty else { throw UsageError("invalid topic '': the topic name is empty") }
                topics.append(name)
            }
            guard !topics.isEmpty else { throw UsageError("-G \(group) needs one or more topics: kafka-cat -G \(group) TOPIC...") }
            if arguments.isSet("partition") { throw UsageError("-p does not apply to -G: the group assigns the partitions") }
        } else {
            topics = topic.map { [$0] } ?? []
            if let extra = arguments.positionals.first {
                throw UsageError("unexpected argument '\(extra)': topic arguments are for -G; use -t TOPIC with -\(mode.rawValue)")
            }
            if mode != .list, topic == nil { throw UsageError("-t TOPIC is required with -\(mode.rawValue)") }
        }
        if let text = arguments.value("partition") {
            guard let value = Int32(text), value >= 0 else { throw UsageError("invalid -p '\(text)': expected a partition number (0 or more)") }
            partition = value
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
            start = try arguments.value("offset").map { (text) throws(UsageError) in try KafkaCatStartOffset.parse(text) } ?? .defaultValue
        }
        exitAtEnd = arguments.isSet("exit")
        if json {
            output = .json(separator: delimiter)
        } else if let format = arguments.value("format") {
            output = .format(try KafkaCatFormat(parsing: format, showsNull: nullForEmpty))
        } else {
            var tokens: [KafkaCatFormat.Token] = []
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
