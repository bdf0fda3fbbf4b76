import TributaryKafkaProtocol

/// Where to start reading a partition, or which offset to look up.
public enum KafkaOffsetSpec: Hashable, Sendable {
    /// The first offset still in the log.
    case earliest
    /// The offset the next produced record will get (the log end).
    case latest
    /// The earliest offset whose record timestamp is at or after this time (milliseconds since
    /// the epoch).
    case timestamp(Int64)
    /// Exactly this offset.
    case offset(Int64)
}

/// A topic to create.
public struct KafkaNewTopic: Hashable, Sendable {
    /// The topic name.
    public var name: String
    /// Number of partitions; -1 for the broker's default.
    public var partitions: Int32
    /// Replication factor; -1 for the broker's default.
    public var replicationFactor: Int16
    /// Topic configs such as `retention.ms`.
    public var configs: [String: String]

    /// Describes a topic to create.
    public init(name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// A Kafka client: bootstraps from the configured brokers, keeps one connection per broker and a
/// metadata cache, and offers admin calls. Producers and consumers are created from it and share
/// its connections.
///
/// ```swift
/// let client = try await KafkaClient.connect()          // KAFKA_BROKERS or localhost:9092
/// try await client.createTopic(KafkaNewTopic(name: "orders", partitions: 6))
/// let producer = try client.makeProducer()
/// let (partition, offset) = try await producer.send(topic: "orders", key: Array("order-1".utf8), value: Array("{}".utf8))
/// ```
public final class KafkaClient: Sendable {
    /// The configuration the client was created with.
    public let configuration: KafkaClientConfiguration
    let cluster: KafkaCluster

    private init(configuration: KafkaClientConfiguration) {
        var configuration = configuration
        configuration.tracer = configuration.traceRequests ? KafkaRequestTracer() : nil
        self.configuration = configuration
        self.cluster = KafkaCluster(configuration: configuration)
    }

    /// Every request the client sends, as it is queued for writing, when
    /// ``KafkaClientConfiguration/traceRequests`` is on (otherwise the sequence is empty). Keeps
    /// the newest 10,000 when nobody reads; ends when the client closes.
    public var requestTraces: AsyncStream<KafkaRequestTrace> {
        configuration.tracer?.stream ?? AsyncStream { $0.finish() }
    }

    /// Connects to a bootstrap broker and loads the broker list.
    ///
    /// - Throws: ``KafkaError`` `invalidConfiguration`, `connectionFailed` when no bootstrap
    ///   server answers, or the error of the first metadata request.
    public static func connect(_ configuration: KafkaClientConfiguration = KafkaClientConfiguration()) async throws(KafkaError) -> KafkaClient {
        try configuration.validate()
        let client = KafkaClient(configuration: configuration)
        do throws(KafkaError) {
            _ = try await client.cluster.refreshMetadata(topics: [])
        } catch {
            client.close()
            throw error
        }
        return client
    }

    /// Connects, runs `body`, and closes the client whatever happens.
    public static func withClient<T: Sendable>(_ configuration: KafkaClientConfiguration = KafkaClientConfiguration(),
                                               _ body: (KafkaClient) async throws -> T) async throws -> T {
        let client = try await connect(configuration)
        defer { client.close() }
        return try await body(client)
    }

    /// Closes every connection. Idempotent. Producers and consumers made from this client stop
    /// working; close them first.
    public func close() {
        cluster.close()
        configuration.tracer?.finish()
    }

    private var deadline: ContinuousClock.Instant { ContinuousClock.now.advanced(by: configuration.operationTimeout) }

    // MARK: - Metadata

    /// Cluster metadata for `topics`, or for every topic when nil.
    public func metadata(topics: [String]? = nil) async throws(KafkaError) -> KafkaClusterMetadata {
        try await cluster.retrying(until: deadline) { () throws(KafkaError) in
            try await cluster.refreshMetadata(topics: topics)
        }
    }

    /// Names of every topic, sorted; internal topics are left out unless `includeInternal`.
    public func listTopics(includeInternal: Bool = false) async throws(KafkaError) -> [String] {
        try await metadata().topics.filter { includeInternal || !$0.isInternal }.map(\.name)
    }

    /// Partitions and leaders of `topic`.
    ///
    /// - Throws: ``KafkaError`` `brokerError` `UNKNOWN_TOPIC_OR_PARTITION` when it does not exist.
    public func describeTopic(_ topic: String) async throws(KafkaError) -> KafkaTopicMetadata {
        try await cluster.retrying(until: deadline) { () throws(KafkaError) in
            do throws(KafkaError) {
                return try await cluster.topic(topic, refresh: true)
            } catch {
                // Not retried: the caller asked about a topic that is not there.
                guard error.brokerErrorCode == .unknownTopicOrPartition else { throw error }
                throw KafkaError(.invalidArgument, "topic '\(topic)' does not exist (UNKNOWN_TOPIC_OR_PARTITION); create it first",
                                 brokerErrorCode: .unknownTopicOrPartition, topic: topic)
            }
        }
    }

    // MARK: - Admin

    private func controllerConnection() async throws(KafkaError) -> KafkaBrokerConnection {
        let controller = cluster.controllerID
        if controller >= 0 { return try await cluster.connection(to: controller) }
        return try await cluster.anyConnection().0
    }

    /// Creates `topics`.
    ///
    /// - Parameters:
    ///   - ifNotExists: when true, a topic that already exists is not an error.
    /// - Throws: ``KafkaError`` `brokerError` naming the first topic that failed.
    public func createTopics(_ topics: [KafkaNewTopic], ifNotExists: Bool = false, timeout: Duration = .seconds(30)) async throws(KafkaError) {
        for topic in topics where topic.name.isEmpty || topic.name.count > 249 {
            throw KafkaError(.invalidArgument, "topic name '\(topic.name)' is empty or longer than 249 characters")
        }
        let response = try await cluster.retrying(until: deadline) { () throws(KafkaError) in
            let connection = try await controllerConnection()
            var request = CreateTopicsRequest()
            request.timeoutMs = timeout.kafkaMilliseconds
            request.topics = topics.map { topic in
                CreateTopicsRequest.CreatableTopic(
                    name: topic.name, numPartitions: topic.partitions, replicationFactor: topic.replicationFactor,
                    configs: topic.configs.sorted { $0.key < $1.key }.map { CreateTopicsRequest.CreatableTopic.CreatableTopicConfig(name: $0.key, value: $0.value) })
            }
            let response = try await connection.send(request)
            if let retry = response.topics.first(where: { KafkaErrorCode(rawValue: $0.errorCode) == .notController }) {
                _ = try await cluster.refreshMetadata(topics: [])
                throw KafkaError.broker(.notController, api: .createTopics, topic: retry.name)
            }
            return response
        }
        for result in response.topics {
            let code = KafkaErrorCode(rawValue: result.errorCode)
            if code == .topicAlreadyExists && ifNotExists { continue }
            if code.isError {
                throw KafkaError.broker(code, api: .createTopics, topic: result.name, serverMessage: result.errorMessage)
            }
            cluster.invalidate(topic: result.name)
        }
    }

    /// Creates one topic; see ``createTopics(_:ifNotExists:timeout:)``.
    public func createTopic(_ topic: KafkaNewTopic, ifNotExists: Bool = false) async throws(KafkaError) {
        try await createTopics([topic], ifNotExists: ifNotExists)
    }

    /// Deletes `topics`.
    ///
    /// - Throws: ``KafkaError`` `brokerError` naming the first topic that failed (for example
    ///   `UNKNOWN_TOPIC_OR_PARTITION`).
    public func deleteTopics(_ topics: [String], timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let response = try await cluster.retrying(until: deadline) { () throws(KafkaError) in
            let connection = try await controllerConnection()
            let version = try connection.version(for: .deleteTopics)
            var request = DeleteTopicsRequest()
            request.timeoutMs = timeout.kafkaMilliseconds
            if version >= 6 {
                request.topics = topics.map { DeleteTopicsRequest.DeleteTopicState(name: $0) }
            } else {
                request.topicNames = topics
            }
            return try await connection.send(request, version: version)
        }
        for result in response.responses {
            let code = KafkaErrorCode(rawValue: result.errorCode)
            if code.isError {
                throw KafkaError.broker(code, api: .deleteTopics, topic: result.name, serverMessage: result.errorMessage)
            }
            if let name = result.name { cluster.invalidate(topic: name) }
        }
    }

    /// Raises the partition count of `topic` to `totalCount`.
    ///
    /// - Throws: ``KafkaError`` `unsupportedVersion` when the broker has no CreatePartitions API,
    ///   `brokerError` when it refuses (for example `INVALID_PARTITIONS`).
    public func createPartitions(topic: String, totalCount: Int32, timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let response = try await cluster.retrying(until: deadline) { () throws(KafkaError) in
            let connection = try await controllerConnection()
            var request = CreatePartitionsRequest()
            request.timeoutMs = timeout.kafkaMilliseconds
            request.topics = [CreatePartitionsRequest.CreatePartitionsTopic(name: topic, count: totalCount, assignments: nil)]
            return try await connection.send(request)
        }
        for result in response.results {
            let code = KafkaErrorCode(rawValue: result.errorCode)
            if code.isError {
                throw KafkaError.broker(code, api: .createPartitions, topic: result.name, serverMessage: result.errorMessage)
            }
        }
        cluster.invalidate(topic: topic)
    }

    /// The configuration of `topic` as the broker reports it (name → value; nil values are
    /// sensitive or unset).
    public func describeTopicConfigs(_ topic: String, keys: [String]? = nil) async throws(KafkaError) -> [String: String?] {
        let response = try await cluster.retrying(until: deadline) { () throws(KafkaError) in
            let (connection, _) = try await cluster.anyConnection()
            var request = DescribeConfigsRequest()
            request.resources = [DescribeConfigsRequest.DescribeConfigsResource(resourceType: 2, resourceName: topic, configurationKeys: keys)]
            return try await connection.send(request)
        }
        var result: [String: String?] = [:]
        for resource in response.results {
            let code = KafkaErrorCode(rawValue: resource.errorCode)
            if code.isError {
                throw KafkaError.broker(code, api: .describeConfigs, topic: topic, serverMessage: resource.errorMessage)
            }
            for entry in resource.configs { result[entry.name] = entry.value }
        }
        return result
    }

    // MARK: - Offsets

    /// The offset `spec` names in `topic`/`partition`: the log start, the log end, or the first
    /// offset at or after a timestamp (the log end when no record is that recent).
    public func offset(topic: String, partition: Int32, _ spec: KafkaOffsetSpec) async throws(KafkaError) -> Int64 {
        if case .offset(let value) = spec { return value }
        return try await cluster.retrying(until: deadline, topic: topic) { () throws(KafkaError) in
            try await listOffset(topic: topic, partition: partition, spec)
        }
    }

    /// The high watermark a zero-wait fetch reports, nil when the broker reports an error.
    private func highWatermark(topic: String, partition: Int32, from offset: Int64, connection: KafkaBrokerConnection) async throws(KafkaError) -> Int64? {
        let version = try connection.version(for: .fetch, clientRange: KafkaAPIKey.fetch.supportedVersions.lowerBound...12)
        var request = FetchRequest()
        request.replicaID = -1
        // A short wait, not zero: tansu 0.6 answers a zero-wait fetch with no partitions at all.
        request.maxWaitMs = 10
        request.minBytes = 1
        request.maxBytes = 64 * 1024
        request.topics = [FetchRequest.FetchTopic(topic: topic, partitions: [.init(partition: partition, fetchOffset: offset, partitionMaxBytes: 64 * 1024)])]
        let response = try await connection.send(request, version: version)
        guard let data = response.responses.first?.partitions.first, data.errorCode == 0 || data.errorCode == KafkaErrorCode.offsetOutOfRange.rawValue else { return nil }
        return data.highWatermark >= 0 ? data.highWatermark : nil
    }

    func listOffset(topic: String, partition: Int32, _ spec: KafkaOffsetSpec) async throws(KafkaError) -> Int64 {
        let timestamp: Int64
        switch spec {
        case .earliest: timestamp = -2
        case .latest: timestamp = -1
        case .timestamp(let value): timestamp = value
        case .offset(let value): return value
        }
        let leader = try await cluster.leader(topic: topic, partition: partition)
        let connection = try await cluster.connection(to: leader)
        let version = try connection.version(for: .listOffsets, clientRange: 1...KafkaAPIKey.listOffsets.supportedVersions.upperBound)
        var request = ListOffsetsRequest()
        request.replicaID = -1
        request.topics = [ListOffsetsRequest.ListOffsetsTopic(name: topic, partitions: [
            ListOffsetsRequest.ListOffsetsTopic.ListOffsetsPartition(partitionIndex: partition, timestamp: timestamp)
        ])]
        let response = try await connection.send(request, version: version)
        guard let entry = response.topics.first(where: { $0.name == topic })?.partitions.first(where: { $0.partitionIndex == partition }) else {
            throw KafkaError(.protocolError, "the ListOffsets response has no entry for the partition asked about", broker: connection.endpoint, api: .listOffsets, topic: topic, partition: partition)
        }
        let code = KafkaErrorCode(rawValue: entry.errorCode)
        if code.isError {
            throw KafkaError.broker(code, api: .listOffsets, broker: connection.endpoint, topic: topic, partition: partition)
        }
        if entry.offset < 0, case .timestamp = spec {
            // No record at or after the timestamp: the log end.
            return try await listOffset(topic: topic, partition: partition, .latest)
        }
        if spec == .latest {
            // tansu 0.6 answers ListOffsets(latest) with the last batch's base offset + 1, not the
            // log end; the high watermark of a fetch is right there and on Kafka equals the answer.
            let high = try await highWatermark(topic: topic, partition: partition, from: max(entry.offset, 0), connection: connection)
            return max(entry.offset, high ?? entry.offset)
        }
        return entry.offset
    }
}
