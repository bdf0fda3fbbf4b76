import ToolSupport
import TributaryCompression
import TributaryKafka
import TributaryKafkaProtocol

/// The `-X key=value` properties kafka-cat understands, under librdkafka's names (and their
/// Java-client aliases). Unknown keys are a usage error naming the key.
public struct KafkaCatProperties: Sendable {
    /// `bootstrap.servers` / `metadata.broker.list`.
    public var brokers: String?
    /// `client.id`.
    public var clientID: String?
    /// `allow.auto.create.topics`; nil leaves librdkafka's default (true for producing, false
    /// otherwise).
    public var allowAutoTopicCreation: Bool?
    /// `compression.type` / `compression.codec` (also `-z`).
    public var compression: KafkaCompressionCodec?
    /// `acks` / `request.required.acks`: 0, 1, -1 or all.
    public var acks: KafkaAcks?
    /// `linger.ms` / `queue.buffering.max.ms`.
    public var linger: Duration?
    /// `batch.size`, in bytes.
    public var batchSize: Int?
    /// `fetch.wait.max.ms` / `fetch.max.wait.ms`.
    public var fetchMaxWait: Duration?
    /// `auto.offset.reset`: smallest/earliest/beginning, largest/latest/end, error/none.
    public var autoOffsetReset: KafkaOffsetResetPolicy?

    /// `session.timeout.ms` (`-G`).
    public var sessionTimeout: Duration?
    /// `heartbeat.interval.ms` (`-G`).
    public var heartbeatInterval: Duration?
    /// `max.poll.interval.ms` (`-G`): how long the coordinator waits for a rejoin.
    public var rebalanceTimeout: Duration?
    /// `partition.assignment.strategy` (`-G`): comma-separated range, roundrobin,
    /// cooperative-sticky, in order of preference.
    public var assignors: [KafkaPartitionAssignor]?
    /// `group.instance.id` (`-G`): static membership.
    public var groupInstanceID: String?
    /// `enable.auto.commit` (`-G`): false commits nothing, as with kcat.
    public var enableAutoCommit: Bool?
    /// `auto.commit.interval.ms` (`-G`).
    public var autoCommitInterval: Duration?

    /// The keys accepted, for error messages and help.
    public static let knownKeys = [
        "bootstrap.servers", "metadata.broker.list", "client.id", "compression.type", "compression.codec",
        "acks", "request.required.acks", "linger.ms", "queue.buffering.max.ms", "batch.size",
        "fetch.wait.max.ms", "fetch.max.wait.ms", "auto.offset.reset", "enable.partition.eof",
        "session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "partition.assignment.strategy",
        "group.instance.id", "enable.auto.commit", "auto.commit.interval.ms",
    ]

    /// No properties set.
    public init() {}

    /// Applies every `key=value` argument in order (a later value wins).
    ///
    /// - Throws: `UsageError` for a missing `=`, an unknown key, or a bad value, naming the key.
    public init(_ arguments: [String]) throws(UsageError) {
        self.init()
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else {
                throw UsageError("invalid -X '\(argument)': expected property=value")
            }
            try set(String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
        }
    }

    /// Sets one property.
    ///
    /// - Throws: `UsageError` for an unknown key or a bad value, naming the key.
    public mutating func set(_ key: String, _ value: String) throws(UsageError) {
        switch key {
        case "bootstrap.servers", "metadata.broker.list":
            brokers = value
        case "client.id":
            guard !value.isEmpty else { throw UsageError("invalid -X client.id: must not be empty") }
            clientID = value
        case "allow.auto.create.topics":
            allowAutoTopicCreation = try Self.boolean(key, value)
        case "compression.type", "compression.codec":
            compression = try Self.codec(value, what: "-X \(key)")
        case "acks", "request.required.acks":
            switch value {
            case "0": acks = KafkaAcks.none
            case "1": acks = .leader
            case "-1", "all": acks = .all
            default: throw UsageError("invalid -X \(key)=\(value): expected 0, 1, -1 or all")
            }
        case "linger.ms", "queue.buffering.max.ms":
            linger = .milliseconds(try Self.number(key, value, minimum: 0))
        case "batch.size":
            batchSize = try Self.number(key, value, minimum: 1)
        case "fetch.wait.max.ms", "fetch.max.wait.ms":
            fetchMaxWait = .milliseconds(try Self.number(key, value, minimum: 0))
        case "auto.offset.reset":
            switch value {
            case "smallest", "earliest", "beginning": autoOffsetReset = .earliest
            case "largest", "latest", "end": autoOffsetReset = .latest
            case "error", "none": autoOffsetReset = KafkaOffsetResetPolicy.none
            default: throw UsageError("invalid -X auto.offset.reset=\(value): expected smallest, earliest, largest, latest or error")
            }
        case "enable.partition.eof":
            // kcat needs it for -e; kafka-cat always knows the end of a partition.
            _ = try Self.boolean(key, value)
        case "session.timeout.ms":
            sessionTimeout = .milliseconds(try Self.number(key, value, minimum: 1))
        case "heartbeat.interval.ms":
            heartbeatInterval = .milliseconds(try Self.number(key, value, minimum: 1))
        case "max.poll.interval.ms":
            rebalanceTimeout = .milliseconds(try Self.number(key, value, minimum: 1))
        case "partition.assignment.strategy":
            var chosen: [KafkaPartitionAssignor] = []
            for name in value.split(separator: ",", omittingEmptySubsequences: false) {
                let trimmed = name.filter { $0 != " " }
                guard let assignor = KafkaPartitionAssignor(rawValue: trimmed) else {
                    throw UsageError("invalid -X partition.assignment.strategy=\(value): '\(trimmed)' is not range, roundrobin or cooperative-sticky")
                }
                if !chosen.contains(assignor) { chosen.append(assignor) }
            }
            assignors = chosen
        case "group.instance.id":
            guard !value.isEmpty else { throw UsageError("invalid -X group.instance.id: must not be empty") }
            groupInstanceID = value
        case "enable.auto.commit":
            enableAutoCommit = try Self.boolean(key, value)
        case "auto.commit.interval.ms":
            autoCommitInterval = .milliseconds(try Self.number(key, value, minimum: 1))
        default:
            throw UsageError("unknown -X property '\(key)'; kafka-cat supports " + Self.knownKeys.joined(separator: ", "))
        }
    }

    /// A `-z` / `compression.codec` value as a codec.
    ///
    /// - Throws: `UsageError` naming `what` for anything but none, gzip, snappy, lz4 or zstd.
    public static func codec(_ text: String, what: String) throws(UsageError) -> KafkaCompressionCodec {
        guard let codec = KafkaCompressionCodec.allCases.first(where: { $0.description == text }) else {
            throw UsageError("invalid \(what) '\(text)': expected none, gzip, snappy, lz4 or zstd")
        }
        return codec
    }

    private static func number(_ key: String, _ value: String, minimum: Int) throws(UsageError) -> Int {
        guard let number = Int(value), number >= minimum else {
            throw UsageError("invalid -X \(key)=\(value): expected a whole number of at least \(minimum)")
        }
        return number
    }

    private static func boolean(_ key: String, _ value: String) throws(UsageError) -> Bool {
        switch value {
        case "true": return true
        case "false": return false
        default: throw UsageError("invalid -X \(key)=\(value): expected true or false")
        }
    }

    /// Applies the client-wide properties; `producing` selects librdkafka's default for
    /// `allow.auto.create.topics` (a producer may create the topic it writes to, if the broker
    /// allows it).
    public func apply(to configuration: inout KafkaClientConfiguration, producing: Bool = false) {
        if let clientID { configuration.clientID = clientID }
        configuration.allowAutoTopicCreation = allowAutoTopicCreation ?? producing
    }

    /// Applies the producer properties.
    public func apply(to configuration: inout KafkaProducerConfiguration) {
        if let compression { configuration.compression = compression }
        if let acks { configuration.acks = acks }
        if let linger { configuration.linger = linger }
        if let batchSize { configuration.batchSize = batchSize }
    }

    /// Applies the consumer properties.
    public func apply(to configuration: inout KafkaConsumerConfiguration) {
        if let fetchMaxWait { configuration.fetchMaxWait = fetchMaxWait }
        if let autoOffsetReset { configuration.autoOffsetReset = autoOffsetReset }
    }

    /// Applies the consumer-group properties (`-G`); `auto.offset.reset` is left to the caller,
    /// since `-o` may override it.
    public func apply(to configuration: inout KafkaGroupConsumerConfiguration) {
        apply(to: &configuration.fetch)
        if let sessionTimeout { configuration.sessionTimeout = sessionTimeout }
        if let heartbeatInterval { configuration.heartbeatInterval = heartbeatInterval }
        if let rebalanceTimeout { configuration.rebalanceTimeout = rebalanceTimeout }
        if let assignors { configuration.assignors = assignors }
        if let groupInstanceID { configuration.groupInstanceID = groupInstanceID }
        if let enableAutoCommit { configuration.enableAutoCommit = enableAutoCommit }
        if let autoCommitInterval { configuration.autoCommitInterval = autoCommitInterval }
    }
}
