import TributaryKafkaProtocol

extension KafkaCluster {
    /// The coordinator of `group`: its node id and address (FindCoordinator on any broker).
    func findCoordinator(group: String) async throws(KafkaError) -> (node: Int32, address: KafkaBrokerAddress) {
        let (connection, _) = try await anyConnection()
        let version = try connection.version(for: .findCoordinator)
        var request = FindCoordinatorRequest()
        request.keyType = 0
        if version >= 4 { request.coordinatorKeys = [group] } else { request.key = group }
        let response = try await connection.send(request, version: version)
        var code = KafkaErrorCode(rawValue: response.errorCode)
        var node = response.nodeID
        var address = KafkaBrokerAddress(host: response.host, port: Int(response.port))
        var message = response.errorMessage
        if version >= 4 {
            guard let entry = response.coordinators.first(where: { $0.key == group }) else {
                throw KafkaError(.protocolError, "FindCoordinator answered without the group asked about", broker: connection.endpoint, api: .findCoordinator)
            }
            code = KafkaErrorCode(rawValue: entry.errorCode)
            node = entry.nodeID
            address = KafkaBrokerAddress(host: entry.host, port: Int(entry.port))
            message = entry.errorMessage
        }
        if code.isError { throw KafkaError.broker(code, api: .findCoordinator, broker: connection.endpoint, serverMessage: message) }
        return (node, address)
    }

    /// Committed offsets of `group` for `partitions` through `connection` (the coordinator's);
    /// -1 where nothing is committed.
    static func fetchCommitted(group: String, _ partitions: [TopicPartition], requireStable: Bool,
                               through connection: KafkaBrokerConnection) async throws(KafkaError) -> [TopicPartition: Int64] {
        // Versions 8+ batch several groups; 7 is the newest with the single-group shape.
        let version = try connection.version(for: .offsetFetch, clientRange: 1...7)
        var request = OffsetFetchRequest()
        request.groupID = group
        var byTopic: [String: [Int32]] = [:]
        for key in partitions { byTopic[key.topic, default: []].append(key.partition) }
        request.topics = byTopic.sorted { $0.key < $1.key }.map { OffsetFetchRequest.OffsetFetchRequestTopic(name: $0.key, partitionIndexes: $0.value.sorted()) }
        if version >= 7 { request.requireStable = requireStable }
        let response = try await connection.send(request, version: version)
        let topLevel = KafkaErrorCode(rawValue: response.errorCode)
        if topLevel.isError { throw KafkaError.broker(topLevel, api: .offsetFetch, broker: connection.endpoint) }
        var result: [TopicPartition: Int64] = [:]
        for topic in response.topics {
            for partition in topic.partitions {
                let code = KafkaErrorCode(rawValue: partition.errorCode)
                if code.isError {
                    throw KafkaError.broker(code, api: .offsetFetch, broker: connection.endpoint, topic: topic.name, partition: partition.partitionIndex)
                }
                result[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] = partition.committedOffset
            }
        }
        return result
    }
}

extension KafkaClient {
    /// The offsets `group` committed for `partitions` of `topic` (-1 where none), as
    /// `kafka-consumer-groups --describe` shows them. Does not join the group.
    public func committedOffsets(group: String, topic: String, partitions: [Int32]) async throws(KafkaError) -> [Int32: Int64] {
        let deadline = ContinuousClock.now.advanced(by: configuration.operationTimeout)
        let offsets = try await cluster.retrying(until: deadline) { () throws(KafkaError) in
            let (node, _) = try await cluster.findCoordinator(group: group)
            let connection = try await cluster.connection(to: node)
            return try await KafkaCluster.fetchCommitted(group: group, partitions.map { TopicPartition(topic: topic, partition: $0) }, requireStable: false, through: connection)
        }
        var result: [Int32: Int64] = [:]
        for (key, value) in offsets { result[key.partition] = value }
        return result
    }
}
