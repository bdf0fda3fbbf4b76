import TributaryJetStream
import TributaryKafka
import TributaryNATS

/// One pipe of a bridge: where messages come from, where they go, and how they are mapped.
///
/// The delivery guarantee follows from the source and destination:
///
/// | source → destination | guarantee |
/// |---|---|
/// | NATS subject → Kafka topic | at most once on the NATS side (core NATS has no acks); a message the bridge received reaches Kafka or is counted failed and reported |
/// | JetStream consumer → Kafka topic | at least once: the JetStream message is acked only after Kafka acknowledged the record |
/// | Kafka topics → NATS subject | at least once: offsets are committed only after the NATS server confirmed the publishes (a flush round trip) |
/// | Kafka topics → JetStream subject | at least once, and no duplicates inside the stream's duplicate window: `Nats-Msg-Id` is `<topic>/<partition>/<offset>` |
public struct BridgeRoute: Sendable {
    /// Where a route reads.
    public enum Source: Sendable, CustomStringConvertible {
        /// A core NATS subject (wildcards allowed), optionally in a queue group so several bridge
        /// processes share the load.
        case natsSubject(String, queue: String? = nil)
        /// An existing JetStream pull consumer (durable) of a stream.
        case jetStream(stream: String, consumer: String)
        /// Kafka topics, read as a member of a consumer group.
        case kafkaTopics([String], group: String)

        public var description: String {
            switch self {
            case .natsSubject(let subject, let queue): return "NATS subject '\(subject)'" + (queue.map { " (queue '\($0)')" } ?? "")
            case .jetStream(let stream, let consumer): return "JetStream consumer '\(consumer)' of stream '\(stream)'"
            case .kafkaTopics(let topics, let group): return "Kafka topics \(topics.joined(separator: ",")) (group '\(group)')"
            }
        }

        var isKafka: Bool { if case .kafkaTopics = self { return true } else { return false } }
    }

    /// Where a route writes.
    public enum Destination: Sendable, CustomStringConvertible {
        /// A Kafka topic (the producer's partitioner places records by key).
        case kafkaTopic(String)
        /// A core NATS subject built from a template (``BridgeSubjectTemplate``).
        case natsSubject(String)
        /// A subject of a JetStream stream built from a template; each publish waits for the
        /// stream's acknowledgement.
        case jetStreamSubject(String)

        public var description: String {
            switch self {
            case .kafkaTopic(let topic): return "Kafka topic '\(topic)'"
            case .natsSubject(let template): return "NATS subject '\(template)'"
            case .jetStreamSubject(let template): return "JetStream subject '\(template)'"
            }
        }

        var isKafka: Bool { if case .kafkaTopic = self { return true } else { return false } }
    }

    /// Where a record's Kafka key comes from (NATS to Kafka).
    public enum Key: Sendable, Equatable {
        /// No key: the producer's partitioner spreads records.
        case none
        /// The whole NATS subject.
        case subject
        /// One token of the subject, counting from 1 (`orders.<id>.created`: token 2).
        case subjectToken(Int)
        /// The value of a NATS header.
        case header(String)
    }

    /// Where messages that cannot be forwarded go.
    public enum DeadLetter: Sendable, Equatable {
        /// A Kafka topic.
        case kafkaTopic(String)
        /// A core NATS subject.
        case natsSubject(String)
    }

    /// A name for counters, events and errors (unique within a bridge).
    public var name: String
    public var source: Source
    public var destination: Destination
    /// The Kafka key of records written to Kafka (default ``Key/none``).
    public var key: Key = .none
    /// Fetched records a route from Kafka buffers ahead of its work: 16 MiB (the consumer's own
    /// default, 64 MiB like librdkafka's `queued.max.messages.kbytes`, gave the same rate with
    /// about 50 MB more memory).
    public static let defaultKafkaBufferedBytes = 16 << 20

    /// Messages forwarded but not yet confirmed by the destination, at most (default 10,000).
    /// Into Kafka this bounds throughput to about `maxInFlight` per produce round trip (linger
    /// plus the broker's acknowledgement); out of Kafka it is how many publishes one
    /// confirmation covers.
    public var maxInFlight = 10_000
    /// Kafka sources: partitions processed at once (default 1). Order within a partition is kept.
    public var concurrency = 1
    /// Kafka sources: retries of a failed forward (transient failures are retried until the
    /// policy's `transientTimeout`).
    public var retry = KafkaRetryPolicy()
    /// Where messages go that cannot be forwarded (a subject that is not valid for NATS, a key
    /// the message does not have, a record given up on after the retries). Kafka sources take a
    /// Kafka topic only. Nil (the default): such a record stops a Kafka route with an error and
    /// stays uncommitted; such a NATS message is counted failed and reported (a JetStream message
    /// is terminated with the reason).
    public var deadLetter: DeadLetter?
    /// JetStream sources: the pull settings (batch, expiry, heartbeat).
    public var pull = JetStreamPullOptions()
    /// Kafka sources: adjusts the consumer-group settings (session timeout, offset reset…). The
    /// route starts from the defaults with `fetch.maxBufferedBytes` at
    /// ``defaultKafkaBufferedBytes``.
    public var configureGroup: (@Sendable (inout KafkaGroupConsumerConfiguration) -> Void)?

    /// A route from `source` to `destination`.
    public init(name: String, from source: Source, to destination: Destination, key: Key = .none, deadLetter: DeadLetter? = nil) {
        self.name = name
        self.source = source
        self.destination = destination
        self.key = key
        self.deadLetter = deadLetter
    }

    /// Checks the route on its own; errors name the route and the field.
    func validate() throws(BridgeError) {
        func invalid(_ field: String, _ text: String) -> BridgeError { BridgeError(.invalidConfiguration, route: name, field: field, text) }
        guard !name.isEmpty else { throw BridgeError(.invalidConfiguration, route: nil, field: "name", "a route needs a name") }
        switch (source, destination) {
        case (.natsSubject, .kafkaTopic), (.jetStream, .kafkaTopic), (.kafkaTopics, .natsSubject), (.kafkaTopics, .jetStreamSubject):
            break
        default:
            throw invalid("to", "\(source) cannot be bridged to \(destination); a route goes from NATS to Kafka or from Kafka to NATS")
        }
        switch source {
        case .natsSubject(let subject, let queue):
            if subject.isEmpty || subject.contains(" ") { throw invalid("from.subject", "'\(subject)' is not a NATS subject") }
            if let queue, queue.isEmpty { throw invalid("from.queue", "the queue group is empty; leave it out for no queue group") }
        case .jetStream(let stream, let consumer):
            if stream.isEmpty { throw invalid("from.stream", "the stream name is empty") }
            if consumer.isEmpty { throw invalid("from.consumer", "the consumer name is empty") }
        case .kafkaTopics(let topics, let group):
            if topics.isEmpty || topics.contains(where: \.isEmpty) { throw invalid("from.topics", "name at least one topic, none empty") }
            if group.isEmpty { throw invalid("from.group", "the consumer group is empty") }
        }
        switch destination {
        case .kafkaTopic(let topic):
            if topic.isEmpty { throw invalid("to.topic", "the topic is empty") }
        case .natsSubject(let template), .jetStreamSubject(let template):
            do throws(BridgeError) {
                _ = try BridgeSubjectTemplate(template)
            } catch {
                throw invalid("to.subject", error.message)
            }
        }
        if case .subjectToken(let index) = key, index < 1 { throw invalid("key", "subject tokens count from 1, got \(index)") }
        if case .header(let header) = key, header.isEmpty { throw invalid("key", "the header name is empty") }
        if source.isKafka, key != .none { throw invalid("key", "a key mapping applies to routes into Kafka; Kafka keys reach NATS as {key} and a header") }
        guard maxInFlight >= 1 else { throw invalid("maxInFlight", "must be at least 1") }
        guard concurrency >= 1 else { throw invalid("concurrency", "must be at least 1") }
        if source.isKafka, case .natsSubject? = deadLetter {
            throw invalid("deadLetter", "a route from Kafka dead-letters to a Kafka topic")
        }
    }
}

extension NATSKafkaBridge {
    /// Checks one route on its own (a bridge checks all of them when it is made).
    /// - Throws: `.invalidConfiguration` naming the route and the field.
    public static func check(_ route: BridgeRoute) throws(BridgeError) {
        try route.validate()
    }

    /// The delivery guarantee of `route`, in words.
    public static func guarantee(of route: BridgeRoute) -> String {
        switch (route.source, route.destination) {
        case (.natsSubject, _):
            return "at most once on the NATS side (core NATS has no acks); what the bridge received reaches Kafka or is counted failed"
        case (.jetStream, _):
            return "at least once: each JetStream message is acked after Kafka acknowledged its record"
        case (.kafkaTopics, .jetStreamSubject):
            return "at least once, no duplicates inside the stream's duplicate window (Nats-Msg-Id topic/partition/offset)"
        case (.kafkaTopics, _):
            return "at least once: offsets are committed after the NATS server confirmed the publishes"
        }
    }
}
