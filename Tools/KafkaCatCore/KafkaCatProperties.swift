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
    /// `enable.idempotence`: true or false; nil leaves the producer's default (idempotent with
    /// acks=all, unlike librdkafka, whose default is false).
    public var enableIdempotence: Bool?
    /// `max.in.flight.requests.per.connection` / `max.in.flight`.
    public var maxInFlight: Int?
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

    /// `message.max.bytes`: the largest request the producer sends.
    public var messageMaxBytes: Int?
    /// `message.timeout.ms` / `delivery.timeout.ms`: how long a record may take to be delivered.
    public var messageTimeout: Duration?
    /// `partitioner`: librdkafka's partitioner names.
    public var partitioner: KafkaCatPartitioner?
    /// `debug` (also `-d`): debug contexts; any of them prints each protocol request on stderr.
    public var debug: [String]?
    /// `request.timeout.ms`.
    public var requestTimeout: Duration?
    /// `socket.connection.setup.timeout.ms`.
    public var connectTimeout: Duration?
    /// `retry.backoff.ms`.
    public var retryBackoff: Duration?
    /// `retry.backoff.max.ms`.
    public var retryBackoffMax: Duration?
    /// `fetch.min.bytes`.
    public var fetchMinBytes: Int?
    /// `fetch.max.bytes`.
    public var fetchMaxBytes: Int?
    /// `max.partition.fetch.bytes`.
    public var maxPartitionFetchBytes: Int?
    /// `queued.max.messages.kbytes`: the consumer's buffer bound, in KiB.
    public var queuedMaxKilobytes: Int?
    /// `isolation.level`: read_committed or read_uncommitted.
    public var isolationLevel: KafkaIsolationLevel?
    /// `security.protocol`: plaintext or sasl_plaintext (ssl and sasl_ssl are refused at connect
    /// until TLS is available).
    public var securityProtocol: KafkaSecurityProtocol?
    /// `sasl.mechanism` / `sasl.mechanisms`: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER.
    public var saslMechanism: KafkaSASL.Mechanism?
    /// `enable.sasl.oauthbearer.unsecure.jwt`: OAUTHBEARER with unsigned tokens made from
    /// ``oauthBearerConfig`` (test brokers only), as librdkafka does.
    public var oauthBearerUnsecureJWT: Bool?
    /// `sasl.oauthbearer.config`: `principal=NAME [lifeSeconds=N] [scope=a,b] [extension_KEY=VALUE]`.
    public var oauthBearerConfig: KafkaCatOAuthBearerConfig?
    /// `sasl.oauthbearer.extensions`: `key=value,key2=value2`, sent with every token.
    public var oauthBearerExtensions: [String: String]?
    /// `sasl.username`.
    public var saslUsername: String?
    /// `sasl.password`. Never printed (`-X dump` shows `[redacted]`).
    public var saslPassword: String?
    /// `ssl.ca.location`: a PEM file of CA certificates (default: the system's trust store).
    public var sslCALocation: String?
    /// `ssl.certificate.location`: the client certificate (PEM) for mutual TLS.
    public var sslCertificateLocation: String?
    /// `ssl.key.location`: the client's private key (PEM).
    public var sslKeyLocation: String?
    /// `ssl.key.password`: the key's password. Never printed.
    public var sslKeyPassword: String?
    /// `enable.ssl.certificate.verification`: false accepts any broker certificate.
    public var sslVerifyCertificates: Bool?
    /// Every `key=value` applied, in order (for `-X dump`).
    public private(set) var assignments: [(key: String, value: String)] = []

    /// One property kafka-cat understands: its librdkafka name, aliases, what it sets in the
    /// Swift client, and a line of help.
    public struct Entry: Sendable {
        /// The librdkafka name.
        public var name: String
        /// Other accepted names (Java client or older librdkafka spellings).
        public var aliases: [String]
        /// The Swift property it sets, or how kafka-cat uses it.
        public var target: String
        /// What it does.
        public var help: String
    }

    /// Every property, for `-X list`, help and error messages.
    public static let catalog: [Entry] = [
        Entry(name: "bootstrap.servers", aliases: ["metadata.broker.list"], target: "KafkaClientConfiguration.bootstrapServers", help: "bootstrap brokers host:port[,host:port] (also -b)"),
        Entry(name: "client.id", aliases: [], target: "KafkaClientConfiguration.clientID", help: "client id sent with every request"),
        Entry(name: "allow.auto.create.topics", aliases: [], target: "KafkaClientConfiguration.allowAutoTopicCreation", help: "true/false: let metadata requests create missing topics (default true for -P)"),
        Entry(name: "request.timeout.ms", aliases: [], target: "KafkaClientConfiguration.requestTimeout", help: "how long a request waits for its response"),
        Entry(name: "socket.connection.setup.timeout.ms", aliases: [], target: "KafkaClientConfiguration.connectTimeout", help: "how long connecting to a broker may take"),
        Entry(name: "retry.backoff.ms", aliases: [], target: "KafkaClientConfiguration.retryBackoff", help: "first backoff between retries"),
        Entry(name: "retry.backoff.max.ms", aliases: [], target: "KafkaClientConfiguration.retryBackoffMax", help: "longest backoff between retries"),
        Entry(name: "debug", aliases: [], target: "KafkaClientConfiguration.onRequest", help: "comma-separated contexts (all, protocol, broker, …; also -d): print each protocol request on stderr"),
        Entry(name: "compression.type", aliases: ["compression.codec"], target: "KafkaProducerConfiguration.compression", help: "none, gzip, snappy, lz4 or zstd (also -z)"),
        Entry(name: "acks", aliases: ["request.required.acks"], target: "KafkaProducerConfiguration.acks", help: "0, 1, -1 or all"),
        Entry(name: "enable.idempotence", aliases: [], target: "KafkaProducerConfiguration.idempotence", help: "true/false: producer ids and sequence numbers, so retries are stored once (default: on with acks=all)"),
        Entry(name: "max.in.flight.requests.per.connection", aliases: ["max.in.flight"], target: "KafkaProducerConfiguration.maxInFlightRequestsPerConnection", help: "produce requests in flight per broker (at most 5 with idempotence)"),
        Entry(name: "linger.ms", aliases: ["queue.buffering.max.ms"], target: "KafkaProducerConfiguration.linger", help: "how long a batch waits for more records"),
        Entry(name: "batch.size", aliases: [], target: "KafkaProducerConfiguration.batchSize", help: "batch size in bytes"),
        Entry(name: "message.max.bytes", aliases: ["max.request.size"], target: "KafkaProducerConfiguration.maxRequestSize", help: "largest produce request in bytes"),
        Entry(name: "message.timeout.ms", aliases: ["delivery.timeout.ms"], target: "KafkaProducerConfiguration.deliveryTimeout", help: "how long a record may take to be delivered"),
        Entry(name: "partitioner", aliases: [], target: "kafka-cat's own placement", help: KafkaCatPartitioner.allCases.map(\.rawValue).joined(separator: ", ") + " (default murmur2_random)"),
        Entry(name: "fetch.wait.max.ms", aliases: ["fetch.max.wait.ms"], target: "KafkaConsumerConfiguration.fetchMaxWait", help: "how long the broker holds a fetch for data"),
        Entry(name: "fetch.min.bytes", aliases: [], target: "KafkaConsumerConfiguration.fetchMinBytes", help: "bytes a fetch waits for"),
        Entry(name: "fetch.max.bytes", aliases: [], target: "KafkaConsumerConfiguration.fetchMaxBytes", help: "largest fetch response"),
        Entry(name: "max.partition.fetch.bytes", aliases: [], target: "KafkaConsumerConfiguration.maxPartitionFetchBytes", help: "largest fetch per partition"),
        Entry(name: "queued.max.messages.kbytes", aliases: [], target: "KafkaConsumerConfiguration.maxBufferedBytes", help: "KiB of fetched records held for output (default 65536)"),
        Entry(name: "isolation.level", aliases: [], target: "KafkaConsumerConfiguration.isolationLevel", help: "read_committed or read_uncommitted"),
        Entry(name: "auto.offset.reset", aliases: [], target: "KafkaConsumerConfiguration.autoOffsetReset", help: "smallest/earliest, largest/latest or error"),
        Entry(name: "security.protocol", aliases: [], target: "KafkaClientConfiguration.securityProtocol", help: "plaintext, ssl, sasl_plaintext or sasl_ssl"),
        Entry(name: "ssl.ca.location", aliases: [], target: "KafkaClientConfiguration tls trust roots", help: "PEM file of CA certificates (default: the system trust store)"),
        Entry(name: "ssl.certificate.location", aliases: [], target: "KafkaClientConfiguration tls certificate", help: "client certificate (PEM) for mutual TLS"),
        Entry(name: "ssl.key.location", aliases: [], target: "KafkaClientConfiguration tls private key", help: "client private key (PEM)"),
        Entry(name: "ssl.key.password", aliases: [], target: "KafkaClientConfiguration tls key password", help: "password of an encrypted key (never printed)"),
        Entry(name: "enable.ssl.certificate.verification", aliases: [], target: "KafkaClientConfiguration tls verification", help: "true/false: false accepts any broker certificate (test set-ups only)"),
        Entry(name: "sasl.mechanism", aliases: ["sasl.mechanisms"], target: "KafkaClientConfiguration sasl mechanism", help: "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER (needs security.protocol=sasl_plaintext)"),
        Entry(name: "sasl.username", aliases: [], target: "KafkaClientConfiguration sasl user name", help: "SASL user name"),
        Entry(name: "sasl.password", aliases: [], target: "KafkaClientConfiguration sasl password", help: "SASL password (never printed; -X dump shows [redacted])"),
        Entry(name: "enable.sasl.oauthbearer.unsecure.jwt", aliases: [], target: "KafkaSASL.oauthBearer with KafkaOAuthBearerToken.unsecuredJWT", help: "true/false: OAUTHBEARER with unsigned tokens from sasl.oauthbearer.config (test brokers only)"),
        Entry(name: "sasl.oauthbearer.config", aliases: [], target: "KafkaOAuthBearerToken.unsecuredJWT", help: "principal=NAME [lifeSeconds=N] [scope=a,b] [extension_KEY=VALUE], space-separated"),
        Entry(name: "sasl.oauthbearer.extensions", aliases: [], target: "KafkaOAuthBearerToken.extensions", help: "OAUTHBEARER SASL extensions key=value,key2=value2"),
        Entry(name: "sasl.oauthbearer.method", aliases: [], target: "(default only)", help: "default; oidc is not available (no HTTPS token client: use the library's KafkaSASL.oauthBearer(tokenProvider:))"),
        Entry(name: "enable.partition.eof", aliases: [], target: "(always on)", help: "accepted for kcat compatibility"),
        Entry(name: "session.timeout.ms", aliases: [], target: "KafkaGroupConsumerConfiguration.sessionTimeout", help: "-G: session timeout"),
        Entry(name: "heartbeat.interval.ms", aliases: [], target: "KafkaGroupConsumerConfiguration.heartbeatInterval", help: "-G: heartbeat interval"),
        Entry(name: "max.poll.interval.ms", aliases: [], target: "KafkaGroupConsumerConfiguration.rebalanceTimeout", help: "-G: how long the coordinator waits for a rejoin"),
        Entry(name: "partition.assignment.strategy", aliases: [], target: "KafkaGroupConsumerConfiguration.assignors", help: "-G: range, roundrobin, cooperative-sticky"),
        Entry(name: "group.instance.id", aliases: [], target: "KafkaGroupConsumerConfiguration.groupInstanceID", help: "-G: static membership"),
        Entry(name: "enable.auto.commit", aliases: [], target: "KafkaGroupConsumerConfiguration.enableAutoCommit", help: "-G: true/false"),
        Entry(name: "auto.commit.interval.ms", aliases: [], target: "KafkaGroupConsumerConfiguration.autoCommitInterval", help: "-G: background commit interval"),
    ]

    /// `-X list`: one line per property, with aliases and the Swift property it sets.
    public static var listing: String {
        let width = catalog.map(\.name.count).max() ?? 0
        var lines = ["Property" + String(repeating: " ", count: width - 8) + "  Sets / description"]
        for entry in catalog {
            let aliases = entry.aliases.isEmpty ? "" : " (alias " + entry.aliases.joined(separator: ", ") + ")"
            lines.append(entry.name + String(repeating: " ", count: width - entry.name.count) + "  " + entry.target + aliases + ": " + entry.help)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `-X dump`: the properties set, one `name = value` line each, as kcat prints them.
    public var dump: String {
        var lines = ["# Global config"]
        for (key, value) in assignments { lines.append("\(key) = \(Self.redacted(key, value))") }
        return lines.joined(separator: "\n") + "\n\n"
    }

    private static func redacted(_ key: String, _ value: String) -> String {
        key.contains("password") || key.contains("secret") ? "[redacted]" : value
    }

    /// The `-X` name of a Swift configuration property, for error advice (nil when none maps).
    public static func propertyName(forSwiftProperty swift: String) -> String? {
        catalog.first { $0.target.hasSuffix("." + swift) || $0.target == swift }?.name
    }

    /// The keys accepted (names and aliases), for error messages and help.
    public static let knownKeys: [String] = catalog.flatMap { [$0.name] + $0.aliases }

    /// No properties set.
    public init() {}

    /// Applies every `key=value` argument in order (a later value wins).
    ///
    /// - Throws: `UsageError` for a missing `=`, an unknown key, or a bad value, naming the key.
    public init(_ arguments: [String]) throws(UsageError) {
        self.init()
        try apply(arguments)
    }

    /// Applies `key=value` arguments in order (a later value wins).
    ///
    /// - Throws: `UsageError` for a missing `=`, an unknown key, or a bad value, naming the key.
    public mutating func apply(_ arguments: [String]) throws(UsageError) {
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else {
                throw UsageError("invalid -X '\(argument)': expected property=value (-X list shows the properties)")
            }
            try set(String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
        }
    }

    /// Applies a configuration file (`-F`, `KCAT_CONFIG`) in kcat's format: `property=value`
    /// lines (spaces around `=` allowed, as in Java properties files); blank lines and lines
    /// starting with `#` are skipped, `\:` and `\=` unescaped.
    ///
    /// - Throws: `UsageError` naming the file and line of a bad line or property.
    public mutating func applyFile(_ text: String, path: String) throws(UsageError) {
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Self.trimmed(raw)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let unescaped = line.replacing("\\:", with: ":").replacing("\\=", with: "=")
            guard let equals = unescaped.firstIndex(of: "="), equals != unescaped.startIndex else {
                throw UsageError("\(path):\(index + 1): expected property=value")
            }
            do throws(UsageError) {
                try set(Self.trimmed(unescaped[..<equals]), Self.trimmed(unescaped[unescaped.index(after: equals)...]))
            } catch {
                throw UsageError("\(path):\(index + 1): \(error.message)")
            }
        }
    }

    /// Sets one property.
    ///
    /// - Throws: `UsageError` for an unknown key or a bad value, naming the key.
    public mutating func set(_ key: String, _ value: String) throws(UsageError) {
        try assign(key, value)
        assignments.append((key, value))
    }

    private mutating func assign(_ key: String, _ value: String) throws(UsageError) {
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
        case "enable.idempotence":
            enableIdempotence = try Self.boolean(key, value)
        case "max.in.flight.requests.per.connection", "max.in.flight":
            maxInFlight = try Self.number(key, value, minimum: 1)
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
        case "message.max.bytes", "max.request.size":
            messageMaxBytes = try Self.number(key, value, minimum: 1000)
        case "message.timeout.ms", "delivery.timeout.ms":
            messageTimeout = .milliseconds(try Self.number(key, value, minimum: 1))
        case "partitioner":
            guard let chosen = KafkaCatPartitioner(rawValue: value) else {
                throw UsageError("invalid -X partitioner=\(value): expected " + KafkaCatPartitioner.allCases.map(\.rawValue).joined(separator: ", "))
            }
            partitioner = chosen
        case "debug":
            debug = try Self.debugContexts(value, what: "-X debug")
        case "request.timeout.ms":
            requestTimeout = .milliseconds(try Self.number(key, value, minimum: 1))
        case "socket.connection.setup.timeout.ms":
            connectTimeout = .milliseconds(try Self.number(key, value, minimum: 1))
        case "retry.backoff.ms":
            retryBackoff = .milliseconds(try Self.number(key, value, minimum: 1))
        case "retry.backoff.max.ms":
            retryBackoffMax = .milliseconds(try Self.number(key, value, minimum: 1))
        case "fetch.min.bytes":
            fetchMinBytes = try Self.number(key, value, minimum: 1)
        case "fetch.max.bytes":
            fetchMaxBytes = try Self.number(key, value, minimum: 1)
        case "max.partition.fetch.bytes":
            maxPartitionFetchBytes = try Self.number(key, value, minimum: 1)
        case "queued.max.messages.kbytes":
            queuedMaxKilobytes = try Self.number(key, value, minimum: 1)
        case "isolation.level":
            switch value {
            case "read_committed": isolationLevel = .readCommitted
            case "read_uncommitted": isolationLevel = .readUncommitted
            default: throw UsageError("invalid -X isolation.level=\(value): expected read_committed or read_uncommitted")
            }
        case "security.protocol":
            guard let chosen = KafkaSecurityProtocol(name: value) else {
                throw UsageError("invalid -X security.protocol=\(value): expected plaintext, ssl, sasl_plaintext or sasl_ssl")
            }
            securityProtocol = chosen
        case "sasl.mechanism", "sasl.mechanisms":
            guard let chosen = KafkaSASL.Mechanism(name: value) else {
                throw UsageError("invalid -X \(key)=\(value): kafka-cat speaks PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER")
            }
            saslMechanism = chosen
        case "sasl.username":
            guard !value.isEmpty else { throw UsageError("invalid -X sasl.username: must not be empty") }
            saslUsername = value
        case "sasl.password":
            saslPassword = value
        case "enable.sasl.oauthbearer.unsecure.jwt":
            oauthBearerUnsecureJWT = try Self.boolean(key, value)
        case "sasl.oauthbearer.config":
            oauthBearerConfig = try KafkaCatOAuthBearerConfig(parsing: value)
        case "sasl.oauthbearer.extensions":
            oauthBearerExtensions = try KafkaCatOAuthBearerConfig.extensions(parsing: value)
        case "sasl.oauthbearer.method":
            switch value.lowercased() {
            case "default": break
            case "oidc": throw UsageError("-X sasl.oauthbearer.method=oidc is not available: " + Self.noOIDC)
            default: throw UsageError("invalid -X sasl.oauthbearer.method=\(value): expected default or oidc")
            }
        case "sasl.oauthbearer.client.id", "sasl.oauthbearer.client.secret", "sasl.oauthbearer.token.endpoint.url", "sasl.oauthbearer.scope":
            throw UsageError("-X \(key) is not available: " + Self.noOIDC)
        case "ssl.ca.location":
            sslCALocation = value
        case "ssl.certificate.location":
            sslCertificateLocation = value
        case "ssl.key.location":
            sslKeyLocation = value
        case "ssl.key.password":
            sslKeyPassword = value
        case "enable.ssl.certificate.verification":
            sslVerifyCertificates = try Self.boolean(key, value)
        default:
            throw UsageError("unknown -X property '\(key)'; kafka-cat supports " + Self.knownKeys.joined(separator: ", ") + " (-X list describes them)")
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

    /// The debug contexts librdkafka knows; kafka-cat prints protocol requests for any of them.
    public static let debugContextNames = ["all", "generic", "broker", "topic", "metadata", "feature", "queue", "msg", "protocol",
                                           "cgrp", "security", "fetch", "interceptor", "plugin", "consumer", "admin", "eos", "mock",
                                           "assignor", "conf"]

    /// A `-d` / `-X debug` value as its contexts.
    ///
    /// - Throws: `UsageError` naming `what` for an empty list or an unknown context.
    public static func debugContexts(_ value: String, what: String) throws(UsageError) -> [String] {
        let contexts = value.split(separator: ",").map { Self.trimmed($0) }.filter { !$0.isEmpty }
        guard !contexts.isEmpty else { throw UsageError("invalid \(what) '\(value)': name one or more contexts: " + debugContextNames.joined(separator: ", ")) }
        for context in contexts where !debugContextNames.contains(context) {
            throw UsageError("invalid \(what) '\(value)': unknown context '\(context)'; expected " + debugContextNames.joined(separator: ", "))
        }
        return contexts
    }

    private static func trimmed(_ text: some StringProtocol) -> String {
        String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
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

    /// Why kafka-cat cannot fetch OIDC tokens, and what to use instead.
    static let noOIDC = "kafka-cat has no OAuth/OIDC client (fetching client-credentials tokens needs HTTPS to the token endpoint, which this dependency-free build does not have). For test brokers use -X enable.sasl.oauthbearer.unsecure.jwt=true -X sasl.oauthbearer.config=principal=NAME; in programs, pass your own token provider to KafkaSASL.oauthBearer(tokenProvider:)"

    /// Checks that the security properties fit together: a SASL `security.protocol` needs
    /// `sasl.mechanism` and for PLAIN and SCRAM `sasl.username` and `sasl.password` (librdkafka's
    /// default mechanism, GSSAPI, is not spoken), for OAUTHBEARER
    /// `enable.sasl.oauthbearer.unsecure.jwt=true` with `sasl.oauthbearer.config`; SASL
    /// properties need a SASL `security.protocol`.
    ///
    /// - Throws: `UsageError` naming the missing or contradicting property.
    public func checkSecurity() throws(UsageError) {
        let sslGiven = sslCALocation != nil || sslCertificateLocation != nil || sslKeyLocation != nil || sslKeyPassword != nil || sslVerifyCertificates != nil
        if sslGiven, securityProtocol?.usesTLS != true {
            throw UsageError("-X ssl.* is set but security.protocol is \(securityProtocol?.rawValue.lowercased() ?? "plaintext (the default)"); add -X security.protocol=ssl or sasl_ssl")
        }
        let oauthGiven = oauthBearerUnsecureJWT != nil || oauthBearerConfig != nil || oauthBearerExtensions != nil
        let given = saslMechanism != nil || saslUsername != nil || saslPassword != nil || oauthGiven
        if oauthGiven, let saslMechanism, saslMechanism != .oauthBearer {
            throw UsageError("-X sasl.oauthbearer.* and enable.sasl.oauthbearer.unsecure.jwt need -X sasl.mechanism=OAUTHBEARER, not \(saslMechanism)")
        }
        if securityProtocol?.usesSASL == true {
            guard let saslMechanism else {
                throw UsageError("-X security.protocol=\(securityProtocol!.rawValue.lowercased()) needs -X sasl.mechanism=PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER (kafka-cat does not speak librdkafka's default, GSSAPI)")
            }
            if saslMechanism == .oauthBearer {
                guard oauthBearerUnsecureJWT == true else {
                    throw UsageError("-X sasl.mechanism=OAUTHBEARER needs -X enable.sasl.oauthbearer.unsecure.jwt=true and -X sasl.oauthbearer.config=principal=NAME: " + Self.noOIDC)
                }
                guard oauthBearerConfig != nil else {
                    throw UsageError("-X enable.sasl.oauthbearer.unsecure.jwt=true needs -X sasl.oauthbearer.config=principal=NAME [lifeSeconds=N] [scope=a,b]")
                }
            } else if saslUsername == nil || saslPassword == nil {
                throw UsageError("-X security.protocol=\(securityProtocol!.rawValue.lowercased()) needs -X sasl.username and -X sasl.password")
            }
        } else if given {
            throw UsageError("-X sasl.* is set but security.protocol is \(securityProtocol?.rawValue.lowercased() ?? "plaintext (the default)"); add -X security.protocol=sasl_plaintext (or sasl_ssl)")
        }
    }

    /// Applies the client-wide properties; `producing` selects librdkafka's default for
    /// `allow.auto.create.topics` (a producer may create the topic it writes to, if the broker
    /// allows it).
    public func apply(to configuration: inout KafkaClientConfiguration, producing: Bool = false) {
        if let clientID { configuration.clientID = clientID }
        if let requestTimeout { configuration.requestTimeout = requestTimeout }
        if let connectTimeout { configuration.connectTimeout = connectTimeout }
        if let retryBackoff { configuration.retryBackoff = retryBackoff }
        if let retryBackoffMax { configuration.retryBackoffMax = max(retryBackoffMax, configuration.retryBackoff) }
        configuration.allowAutoTopicCreation = allowAutoTopicCreation ?? producing
        if let securityProtocol { configuration.securityProtocol = securityProtocol }
        if saslMechanism == .oauthBearer, oauthBearerUnsecureJWT == true, let oauthBearerConfig {
            configuration.sasl = oauthBearerConfig.sasl(extraExtensions: oauthBearerExtensions ?? [:])
        } else if let saslMechanism, let saslUsername, let saslPassword {
            configuration.sasl = KafkaSASL(mechanism: saslMechanism, username: saslUsername, password: saslPassword)
        }
        if configuration.securityProtocol.usesTLS {
            var tls = TLSConfiguration()
            if let sslCALocation { tls.trustRoots = .caFile(sslCALocation) }
            tls.certificateFile = sslCertificateLocation
            tls.privateKeyFile = sslKeyLocation
            tls.privateKeyPassword = sslKeyPassword
            if sslVerifyCertificates == false { tls.dangerouslyDisableCertificateVerification = true }
            configuration.tls = tls
        }
    }

    /// Applies the producer properties.
    public func apply(to configuration: inout KafkaProducerConfiguration) {
        if let compression { configuration.compression = compression }
        if let acks { configuration.acks = acks }
        if let enableIdempotence { configuration.idempotence = enableIdempotence ? .enabled : .disabled }
        if let maxInFlight { configuration.maxInFlightRequestsPerConnection = maxInFlight }
        if let linger { configuration.linger = linger }
        if let batchSize { configuration.batchSize = batchSize }
        if let messageMaxBytes { configuration.maxRequestSize = messageMaxBytes }
        if let messageTimeout { configuration.deliveryTimeout = messageTimeout }
    }

    /// Applies the consumer properties.
    public func apply(to configuration: inout KafkaConsumerConfiguration) {
        if let fetchMaxWait { configuration.fetchMaxWait = fetchMaxWait }
        if let autoOffsetReset { configuration.autoOffsetReset = autoOffsetReset }
        if let fetchMinBytes { configuration.fetchMinBytes = fetchMinBytes }
        if let fetchMaxBytes { configuration.fetchMaxBytes = fetchMaxBytes }
        if let maxPartitionFetchBytes { configuration.maxPartitionFetchBytes = maxPartitionFetchBytes }
        if let queuedMaxKilobytes { configuration.maxBufferedBytes = queuedMaxKilobytes.multipliedReportingOverflow(by: 1024).overflow ? Int.max : queuedMaxKilobytes * 1024 }
        if let isolationLevel { configuration.isolationLevel = isolationLevel }
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
