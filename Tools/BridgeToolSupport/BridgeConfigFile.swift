import Foundation
import KafkaCatCore
import ToolSupport
import TributaryBridge
import TributaryJetStream
import TributaryKafka
import TributaryNATS

/// The JSON configuration of `tributary-bridge`: the servers and the routes.
///
/// ```json
/// {
///   "id": "orders-bridge",
///   "nats": {"url": "nats://127.0.0.1:4222", "creds": "/etc/bridge/user.creds"},
///   "kafka": {"bootstrap.servers": "127.0.0.1:9092", "security.protocol": "plaintext"},
///   "routes": [
///     {"name": "events", "from": {"nats": "events.>", "queue": "bridge"}, "to": {"kafka": "events"},
///      "key": {"subject_token": 2}, "dead_letter": {"nats": "dlq.events"}},
///     {"name": "commands", "from": {"kafka": ["commands"], "group": "bridge"}, "to": {"nats": "commands.{key}"}}
///   ]
/// }
/// ```
///
/// `nats.url` defaults to `NATS_URL`, `kafka."bootstrap.servers"` to `KAFKA_BROKERS`. The
/// `kafka` object takes librdkafka property names (those `kafka-cat -X list` shows), values as
/// strings or numbers. Errors name the route and the field.
public struct BridgeConfigFile: Sendable {
    /// The bridge id (loop guard mark; default `tributary-bridge`).
    public var id: String
    /// NATS connection options.
    public var nats: NATSOptions
    /// The NATS servers without credentials, for messages.
    public var natsDisplay: String
    /// Kafka client settings.
    public var kafka: KafkaClientConfiguration
    /// Producer settings (acks=all unless the file says otherwise).
    public var producer: KafkaProducerConfiguration
    /// The routes.
    public var routes: [BridgeRoute]
    /// Seconds between status lines (0: none), from `status_interval`.
    public var statusInterval: Duration

    /// Reads and checks `text` (the file at `path`, named in errors).
    ///
    /// - Throws: `UsageError` naming the file, the route and the field.
    public init(json text: String, path: String, environment: [String: String]) throws(UsageError) {
        let raw: RawFile
        do {
            raw = try JSONDecoder().decode(RawFile.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw UsageError("\(path): \(Self.describe(error))")
        } catch {
            throw UsageError("\(path): not valid JSON: \(error)")
        }
        func fail(_ field: String, _ message: String) -> UsageError { UsageError("\(path): \(field): \(message)") }

        id = raw.id ?? "tributary-bridge"
        // NATS
        let natsRaw = raw.nats ?? RawNATS()
        let url = natsRaw.url ?? environment["NATS_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? NATSOptions.defaultServer
        for part in url.split(separator: ",") {
            do {
                _ = try NATSServerAddress(parsing: String(part))
            } catch {
                throw fail("nats.url", error.message)
            }
        }
        var options = NATSOptions(url: url)
        options.name = natsRaw.name ?? id
        options.user = natsRaw.user
        options.password = natsRaw.password
        options.token = natsRaw.token
        options.maxReconnectAttempts = -1
        do throws(UsageError) {
            options.credentials = try CredentialSettings(creds: natsRaw.creds, nkey: natsRaw.nkey, environment: environment).credentials
        } catch {
            throw fail("nats.creds", error.message)
        }
        if let tls = natsRaw.tls {
            if (tls.cert == nil) != (tls.key == nil) { throw fail("nats.tls", "cert and key go together") }
            var configuration = TLSConfiguration()
            if let ca = tls.ca { configuration.trustRoots = .caFile(ca) }
            configuration.certificateFile = tls.cert
            configuration.privateKeyFile = tls.key
            options.tls = configuration
        }
        nats = options
        natsDisplay = url.split(separator: ",").map { part in (try? NATSServerAddress(parsing: String(part)))?.description ?? "?" }.joined(separator: ",")

        // Kafka
        var properties = KafkaCatProperties()
        var kafkaRaw = raw.kafka ?? [:]
        if kafkaRaw["bootstrap.servers"] == nil, kafkaRaw["metadata.broker.list"] == nil,
           let brokers = environment["KAFKA_BROKERS"], !brokers.isEmpty {
            kafkaRaw["bootstrap.servers"] = brokers
        }
        guard let bootstrap = kafkaRaw.removeValue(forKey: "bootstrap.servers") ?? kafkaRaw.removeValue(forKey: "metadata.broker.list") else {
            throw fail("kafka.bootstrap.servers", "name the Kafka brokers (host:port,…), or set KAFKA_BROKERS")
        }
        for key in kafkaRaw.keys.sorted() {
            do throws(UsageError) {
                try properties.set(key, kafkaRaw[key] ?? "")
            } catch {
                throw fail("kafka.\(key)", error.message)
            }
        }
        do throws(UsageError) {
            try properties.checkSecurity()
        } catch {
            throw fail("kafka", error.message)
        }
        do {
            kafka = try KafkaClientConfiguration(bootstrapServers: bootstrap)
        } catch {
            throw fail("kafka.bootstrap.servers", error.message)
        }
        properties.apply(to: &kafka, producing: true)
        producer = NATSKafkaBridge.defaultProducerConfiguration
        properties.apply(to: &producer)
        let groupProperties = properties

        // Routes
        guard let rawRoutes = raw.routes, !rawRoutes.isEmpty else { throw fail("routes", "give at least one route") }
        var routes: [BridgeRoute] = []
        for (index, rawRoute) in rawRoutes.enumerated() {
            let label = "routes[\(index)]" + (rawRoute.name.map { " ('\($0)')" } ?? "")
            func routeFail(_ field: String, _ message: String) -> UsageError { UsageError("\(path): \(label): \(field): \(message)") }
            guard let name = rawRoute.name, !name.isEmpty else { throw routeFail("name", "give the route a name") }
            guard let from = rawRoute.from else { throw routeFail("from", "say where the route reads: {\"nats\": SUBJECT}, {\"jetstream\": {\"stream\": S, \"consumer\": C}} or {\"kafka\": [TOPICS], \"group\": G}") }
            guard let to = rawRoute.to else { throw routeFail("to", "say where the route writes: {\"kafka\": TOPIC}, {\"nats\": SUBJECT} or {\"jetstream\": SUBJECT}") }
            let source: BridgeRoute.Source
            switch (from.nats, from.jetstream, from.kafka) {
            case (let subject?, nil, nil): source = .natsSubject(subject, queue: from.queue)
            case (nil, let js?, nil): source = .jetStream(stream: js.stream, consumer: js.consumer)
            case (nil, nil, let topics?):
                guard let group = from.group else { throw routeFail("from.group", "a route from Kafka reads as a consumer group: name it") }
                source = .kafkaTopics(topics, group: group)
            default: throw routeFail("from", "give exactly one of nats, jetstream and kafka")
            }
            let destination: BridgeRoute.Destination
            switch (to.nats, to.jetstream, to.kafka) {
            case (let subject?, nil, nil): destination = .natsSubject(subject)
            case (nil, let subject?, nil): destination = .jetStreamSubject(subject)
            case (nil, nil, let topic?): destination = .kafkaTopic(topic)
            default: throw routeFail("to", "give exactly one of nats, jetstream and kafka")
            }
            var route = BridgeRoute(name: name, from: source, to: destination)
            if let key = rawRoute.key {
                switch (key.subjectToken, key.header, key.subject) {
                case (let token?, nil, nil): route.key = .subjectToken(token)
                case (nil, let header?, nil): route.key = .header(header)
                case (nil, nil, true?): route.key = .subject
                default: throw routeFail("key", "give one of {\"subject_token\": N}, {\"header\": NAME} or {\"subject\": true}")
                }
            }
            if let dead = rawRoute.deadLetter {
                switch (dead.nats, dead.kafka) {
                case (let subject?, nil): route.deadLetter = .natsSubject(subject)
                case (nil, let topic?): route.deadLetter = .kafkaTopic(topic)
                default: throw routeFail("dead_letter", "give one of {\"nats\": SUBJECT} or {\"kafka\": TOPIC}")
                }
            }
            if let value = rawRoute.maxInFlight { route.maxInFlight = value }
            if let value = rawRoute.concurrency { route.concurrency = value }
            if let retry = rawRoute.retry {
                if let attempts = retry.attempts { route.retry.attempts = attempts }
                if let ms = retry.backoffMs { route.retry.backoff = .milliseconds(ms) }
                if let seconds = retry.transientTimeoutS { route.retry.transientTimeout = .seconds(seconds) }
            }
            if let batch = rawRoute.pullBatch { route.pull.batch = batch }
            let startFromEarliest = rawRoute.startFrom.map { $0 == "earliest" }
            if let start = rawRoute.startFrom, start != "earliest", start != "latest" {
                throw routeFail("start_from", "'\(start)' is neither earliest nor latest")
            }
            route.configureGroup = { configuration in
                groupProperties.apply(to: &configuration)
                if let startFromEarliest { configuration.autoOffsetReset = startFromEarliest ? .earliest : .latest }
            }
            do throws(BridgeError) {
                try NATSKafkaBridge.check(route)
            } catch {
                throw routeFail(error.field ?? "route", error.message)
            }
            routes.append(route)
        }
        self.routes = routes
        let interval = raw.statusInterval ?? 10
        guard interval >= 0 else { throw fail("status_interval", "must be 0 (off) or a number of seconds") }
        statusInterval = .milliseconds(Int64(interval * 1000))
    }

    /// What `--check` prints: the servers and each route with its guarantee.
    public var plan: [String] {
        var lines = ["bridge '\(id)': NATS \(natsDisplay), Kafka \(kafka.bootstrapServers.map(\.description).joined(separator: ","))"]
        for route in routes {
            var line = "route '\(route.name)': \(route.source) -> \(route.destination)"
            switch route.key {
            case .none: break
            case .subject: line += ", key: the subject"
            case .subjectToken(let index): line += ", key: subject token \(index)"
            case .header(let name): line += ", key: header \(name)"
            }
            switch route.deadLetter {
            case .natsSubject(let subject)?: line += ", dead letters: NATS subject '\(subject)'"
            case .kafkaTopic(let topic)?: line += ", dead letters: Kafka topic '\(topic)'"
            case nil: break
            }
            line += "; " + NATSKafkaBridge.guarantee(of: route)
            lines.append(line)
        }
        return lines
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "the top level" : text
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)): expected \(Self.typeName(type))"
        case .valueNotFound(let type, let context): return "\(path(context.codingPath)): expected \(Self.typeName(type)), found null"
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): missing"
        case .dataCorrupted(let context):
            let reason = (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
            return context.codingPath.isEmpty ? "not valid JSON (\(reason))" : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is [String].Type: return "a list of strings"
        default: return "an object"
        }
    }
}

// MARK: - The file's JSON shape

struct RawFile: Decodable {
    var id: String?
    var nats: RawNATS?
    var kafka: [String: String]?
    var routes: [RawRoute]?
    var statusInterval: Double?

    enum CodingKeys: String, CodingKey {
        case id, nats, kafka, routes
        case statusInterval = "status_interval"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        nats = try c.decodeIfPresent(RawNATS.self, forKey: .nats)
        routes = try c.decodeIfPresent([RawRoute].self, forKey: .routes)
        statusInterval = try c.decodeIfPresent(Double.self, forKey: .statusInterval)
        if c.contains(.kafka) {
            let values = try c.decode([String: ScalarText].self, forKey: .kafka)
            kafka = values.mapValues(\.text)
        }
    }
}

/// A JSON string, number or boolean as text (librdkafka properties are strings).
struct ScalarText: Decodable {
    var text: String
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let string = try? c.decode(String.self) {
            text = string
        } else if let int = try? c.decode(Int.self) {
            text = String(int)
        } else if let bool = try? c.decode(Bool.self) {
            text = String(bool)
        } else if let double = try? c.decode(Double.self) {
            text = String(double)
        } else {
            throw DecodingError.typeMismatch(String.self, DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "expected a string or number"))
        }
    }
}

struct RawNATS: Decodable {
    var url: String?
    var name: String?
    var user: String?
    var password: String?
    var token: String?
    var creds: String?
    var nkey: String?
    var tls: RawTLS?
}

struct RawTLS: Decodable {
    var ca: String?
    var cert: String?
    var key: String?
}

struct RawRoute: Decodable {
    struct From: Decodable {
        struct JetStreamSource: Decodable {
            var stream: String
            var consumer: String
        }
        var nats: String?
        var queue: String?
        var jetstream: JetStreamSource?
        var kafka: [String]?
        var group: String?
    }
    struct To: Decodable {
        var nats: String?
        var jetstream: String?
        var kafka: String?
    }
    struct Key: Decodable {
        var subjectToken: Int?
        var header: String?
        var subject: Bool?
        enum CodingKeys: String, CodingKey {
            case subjectToken = "subject_token"
            case header, subject
        }
    }
    struct DeadLetter: Decodable {
        var nats: String?
        var kafka: String?
    }
    struct Retry: Decodable {
        var attempts: Int?
        var backoffMs: Int64?
        var transientTimeoutS: Int64?
        enum CodingKeys: String, CodingKey {
            case attempts
            case backoffMs = "backoff_ms"
            case transientTimeoutS = "transient_timeout_s"
        }
    }
    var name: String?
    var from: From?
    var to: To?
    var key: Key?
    var deadLetter: DeadLetter?
    var maxInFlight: Int?
    var concurrency: Int?
    var retry: Retry?
    var pullBatch: Int?
    var startFrom: String?

    enum CodingKeys: String, CodingKey {
        case name, from, to, key, retry, concurrency
        case deadLetter = "dead_letter"
        case maxInFlight = "max_in_flight"
        case pullBatch = "pull_batch"
        case startFrom = "start_from"
    }
}
