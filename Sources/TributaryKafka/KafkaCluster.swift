import TributaryWire
import TributaryKafkaProtocol

/// The broker pool and metadata cache shared by a client's producer, consumers and admin calls:
/// one connection per broker, a bootstrap connection until the brokers are known, and topic
/// metadata refreshed when an error says it is stale.
final class KafkaCluster: Sendable {
    private struct State {
        var brokers: [Int32: KafkaBroker] = [:]
        var controllerID: Int32 = -1
        var topics: [String: KafkaTopicMetadata] = [:]
        var connections: [Int32: KafkaBrokerConnection] = [:]
        var bootstrap: KafkaBrokerConnection?
        /// Connections owned by group members (not shared), closed with the client.
        var tracked: [ObjectIdentifier: KafkaBrokerConnection] = [:]
        var bootstrapIndex = 0
        var closed = false
    }

    let configuration: KafkaClientConfiguration
    private let state = Locked(State())

    init(configuration: KafkaClientConfiguration) {
        self.configuration = configuration
    }

    // MARK: - Connections

    /// A live connection to broker `nodeID`, connecting when there is none.
    ///
    /// - Throws: ``KafkaError`` `connectionFailed`, also when the node is not in the metadata even
    ///   after a refresh (a broker that is down leaves the metadata; the caller retries and looks up
    ///   the leader or coordinator again).
    func connection(to nodeID: Int32) async throws(KafkaError) -> KafkaBrokerConnection {
        let (existing, closed) = state.withLock { state in
            (state.connections[nodeID].flatMap { $0.isAlive ? $0 : nil }, state.closed)
        }
        if closed { throw KafkaError(.closed, "the Kafka client is closed") }
        if let existing { return existing }
        let connection = try await KafkaBrokerConnection.open(try await address(of: nodeID), nodeID: nodeID, configuration: configuration)
        let (winner, isClosed) = state.withLock { state -> (KafkaBrokerConnection, Bool) in
            if let other = state.connections[nodeID], other.isAlive { return (other, state.closed) }
            state.connections[nodeID] = connection
            return (connection, state.closed)
        }
        if winner !== connection || isClosed { connection.close() }
        if isClosed { throw KafkaError(.closed, "the Kafka client is closed") }
        return winner
    }

    /// The live connection to `nodeID`, if there is one (no I/O).
    func existingConnection(to nodeID: Int32) -> KafkaBrokerConnection? {
        state.withLock { $0.connections[nodeID].flatMap { $0.isAlive ? $0 : nil } }
    }

    /// Any live connection: a known broker's, else a bootstrap server's (tried in turn).
    func anyConnection() async throws(KafkaError) -> (KafkaBrokerConnection, KafkaBroker) {
        let (live, known, bootstrap, closed) = state.withLock { state in
            let live = state.connections.values.first { $0.isAlive }
            let bootstrap = state.bootstrap.flatMap { $0.isAlive ? $0 : nil }
            return (live, Array(state.brokers.values).sorted { $0.nodeID < $1.nodeID }, bootstrap, state.closed)
        }
        if closed { throw KafkaError(.closed, "the Kafka client is closed") }
        if let live, let node = live.nodeID, let broker = state.withLock({ $0.brokers[node] }) { return (live, broker) }
        if let bootstrap { return (bootstrap, Self.bootstrapBroker(bootstrap)) }
        var lastError: KafkaError?
        for broker in known {
            do throws(KafkaError) {
                return (try await connection(to: broker.nodeID), broker)
            } catch {
                // Wrong credentials are wrong for every broker: say so at once.
                if error.isAuthenticationError || error.code == .invalidConfiguration || error.code == .cancelled { throw error }
                lastError = error
            }
        }
        let servers = configuration.bootstrapServers
        let startIndex = state.withLock { $0.bootstrapIndex }
        for step in 0..<servers.count {
            let address = servers[(startIndex + step) % servers.count]
            do throws(KafkaError) {
                let connection = try await KafkaBrokerConnection.open(address, nodeID: nil, configuration: configuration)
                let old = state.withLock { state -> KafkaBrokerConnection? in
                    let old = state.bootstrap
                    state.bootstrap = connection
                    state.bootstrapIndex = (startIndex + step + 1) % servers.count
                    return old
                }
                old?.close()
                return (connection, Self.bootstrapBroker(connection))
            } catch {
                if error.isAuthenticationError || error.code == .invalidConfiguration || error.code == .cancelled { throw error }
                lastError = error
            }
        }
        let list = servers.map(\.description).joined(separator: ",")
        throw KafkaError(.connectionFailed, "no broker reachable (bootstrap servers \(list)): \(lastError?.message ?? "no address"); check that the brokers run and KAFKA_BROKERS is right",
                         underlying: lastError)
    }

    private static func bootstrapBroker(_ connection: KafkaBrokerConnection) -> KafkaBroker {
        let parts = KafkaBrokerAddress.splitEndpoint(connection.endpoint)
        return KafkaBroker(nodeID: -1, host: parts.host, port: parts.port)
    }

    /// A new connection to broker `nodeID` that is not shared: for long-polling fetches and group
    /// coordination, which would hold up every other request on a shared connection (a broker
    /// answers one connection's requests in order). Closed with the client.
    func openDedicatedConnection(to nodeID: Int32) async throws(KafkaError) -> KafkaBrokerConnection {
        let connection = try await KafkaBrokerConnection.open(try await address(of: nodeID), nodeID: nodeID, configuration: configuration)
        track(connection)
        return connection
    }

    /// The address of broker `nodeID`, refreshing metadata once when it is not known.
    ///
    /// A node missing from the metadata is a broker that went down (or one a stale answer
    /// named): a retriable connection failure, so that retries find the leader or coordinator
    /// again, never a caller mistake.
    private func address(of nodeID: Int32) async throws(KafkaError) -> KafkaBrokerAddress {
        if let broker = state.withLock({ $0.brokers[nodeID] }) { return broker.address }
        _ = try await refreshMetadata(topics: [])
        guard let broker = state.withLock({ $0.brokers[nodeID] }) else {
            let known = state.withLock { $0.brokers.keys.sorted() }.map(String.init).joined(separator: ", ")
            throw KafkaError(.connectionFailed, "broker \(nodeID) is not in the cluster metadata (brokers \(known.isEmpty ? "none" : known)): it may be down; the client looks up the leader or coordinator again and retries")
        }
        return broker.address
    }

    /// Closes `connection` when the client closes (dead ones are forgotten as new ones come).
    func track(_ connection: KafkaBrokerConnection) {
        let closed = state.withLock { state -> Bool in
            state.tracked = state.tracked.filter { $0.value.isAlive }
            if state.closed { return true }
            state.tracked[ObjectIdentifier(connection)] = connection
            return false
        }
        if closed { connection.close() }
    }

    /// Closes every connection; later calls fail with `closed`.
    func close() {
        let connections = state.withLock { state -> [KafkaBrokerConnection] in
            state.closed = true
            var all = Array(state.connections.values) + Array(state.tracked.values)
            if let bootstrap = state.bootstrap { all.append(bootstrap) }
            state.tracked.removeAll()
            state.connections.removeAll()
            state.bootstrap = nil
            return all
        }
        for connection in connections { connection.close() }
    }

    // MARK: - Metadata

    /// Fetches metadata for `topics` (nil: all topics; empty: brokers only) and updates the cache.
    func refreshMetadata(topics: [String]?) async throws(KafkaError) -> KafkaClusterMetadata {
        let (connection, origin) = try await anyConnection()
        let version = try connection.version(for: .metadata)
        var request = MetadataRequest()
        if let topics {
            request.topics = topics.map { MetadataRequest.MetadataRequestTopic(name: $0) }
        } else {
            request.topics = version >= 1 ? nil : []
        }
        request.allowAutoTopicCreation = version >= 4 ? configuration.allowAutoTopicCreation : true
        let response = try await connection.send(request, version: version)
        let metadata = KafkaClusterMetadata(response, origin: origin)
        let stale: [KafkaBrokerConnection] = state.withLock { state in
            var brokers: [Int32: KafkaBroker] = [:]
            for broker in metadata.brokers { brokers[broker.nodeID] = broker }
            var stale: [KafkaBrokerConnection] = []
            for (node, connection) in state.connections where brokers[node]?.address != state.brokers[node]?.address {
                stale.append(connection)
                state.connections[node] = nil
            }
            state.brokers = brokers
            state.controllerID = metadata.controllerID
            for topic in metadata.topics {
                if topic.error == nil || topic.error == .leaderNotAvailable {
                    state.topics[topic.name] = topic
                } else {
                    state.topics[topic.name] = nil
                }
            }
            return stale
        }
        for connection in stale { connection.close() }
        return metadata
    }

    /// The cached metadata of `topic`, fetching it when missing or when `refresh` is set.
    ///
    /// - Throws: ``KafkaError`` `brokerError` with `UNKNOWN_TOPIC_OR_PARTITION` when the topic
    ///   does not exist.
    func topic(_ name: String, refresh: Bool = false) async throws(KafkaError) -> KafkaTopicMetadata {
        if !refresh, let cached = state.withLock({ $0.topics[name] }) { return cached }
        let metadata = try await refreshMetadata(topics: [name])
        guard let topic = metadata.topic(name) else {
            throw KafkaError.broker(.unknownTopicOrPartition, api: .metadata, topic: name)
        }
        if let error = topic.error {
            throw KafkaError.broker(error, api: .metadata, topic: name)
        }
        return topic
    }

    /// Forgets cached metadata of `topic` so the next lookup fetches it.
    func invalidate(topic: String) {
        state.withLock { _ = $0.topics.removeValue(forKey: topic) }
    }

    /// The leader of `topic`/`partition` from the cache (refreshing when unknown).
    func leader(topic: String, partition: Int32) async throws(KafkaError) -> Int32 {
        var metadata = try await self.topic(topic)
        for attempt in 0..<2 {
            guard let entry = metadata.partitions.first(where: { $0.partition == partition }) else {
                throw KafkaError(.invalidArgument, "topic '\(topic)' has no partition \(partition) (it has \(metadata.partitionCount)); use a partition in 0..<\(metadata.partitionCount)",
                                 topic: topic, partition: partition)
            }
            if entry.leader >= 0 { return entry.leader }
            if attempt == 0 { metadata = try await self.topic(topic, refresh: true) }
        }
        throw KafkaError.broker(.leaderNotAvailable, api: .metadata, topic: topic, partition: partition)
    }

    /// The controller's node id, or -1.
    var controllerID: Int32 { state.withLock { $0.controllerID } }

    /// Known brokers.
    var brokers: [KafkaBroker] { state.withLock { Array($0.brokers.values) }.sorted { $0.nodeID < $1.nodeID } }

    // MARK: - Retries

    /// Runs `operation`, retrying retriable errors with exponential backoff and jitter until
    /// `deadline`, refreshing metadata of `topic` when an error says it is stale.
    func retrying<T: Sendable>(until deadline: ContinuousClock.Instant, topic: String? = nil,
                               _ operation: () async throws(KafkaError) -> T) async throws(KafkaError) -> T {
        var attempt = 0
        while true {
            do throws(KafkaError) {
                return try await operation()
            } catch {
                guard error.isRetriable, !Task.isCancelled else { throw error }
                let backoff = Self.backoff(attempt: attempt, base: configuration.retryBackoff, max: configuration.retryBackoffMax)
                guard ContinuousClock.now.advanced(by: backoff) < deadline else { throw error }
                attempt += 1
                if error.invalidatesMetadata, let topic { invalidate(topic: topic) }
                try? await Task.sleep(for: backoff)
            }
        }
    }

    static func backoff(attempt: Int, base: Duration, max maximum: Duration) -> Duration {
        KafkaBackoff.delay(attempt: attempt, base: base, max: maximum, unit: Double.random(in: 0..<1))
    }
}

extension KafkaBrokerAddress {
    static func splitEndpoint(_ endpoint: String) -> (host: String, port: Int) {
        if let list = try? KafkaBrokerAddress.parseList(endpoint), let first = list.first { return (first.host, first.port) }
        return (endpoint, 0)
    }
}
