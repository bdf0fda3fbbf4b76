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
    static func fetchCommitted(group: String, _ partitions: [KafkaTopicPartition], requireStable: Bool,
                               through connection: KafkaBrokerConnection) async throws(KafkaError) -> [KafkaTopicPartition: Int64] {
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
        var result: [KafkaTopicPartition: Int64] = [:]
        for topic in response.topics {
            for partition in topic.partitions {
                let code = KafkaErrorCode(rawValue: partition.errorCode)
                if code.isError {
                    throw KafkaError.broker(code, api: .offsetFetch, broker: connection.endpoint, topic: topic.name, partition: partition.partitionIndex)
                }
                result[KafkaTopicPartition(topic: topic.name, partition: partition.partitionIndex)] = partition.committedOffset
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
            return try await KafkaCluster.fetchCommitted(group: group, partitions.map { KafkaTopicPartition(topic: topic, partition: $0) }, requireStable: false, through: connection)
        }
        var result: [Int32: Int64] = [:]
        for (key, value) in offsets { result[key.partition] = value }
        return result
    }
}

/// A consumer group as ListGroups reports it.
public struct KafkaGroupListing: Hashable, Sendable {
    /// The group id.
    public var groupID: String
    /// `consumer` for consumer groups.
    public var protocolType: String
    /// The state (`Stable`, `Empty`, `PreparingRebalance`, …), when the broker reports it.
    public var state: String?
}

/// A consumer group as DescribeGroups reports it.
public struct KafkaGroupDescription: Hashable, Sendable {
    /// One member and what it holds.
    public struct Member: Hashable, Sendable {
        /// The member id.
        public var memberID: String
        /// Its static id, if any.
        public var groupInstanceID: String?
        /// Its client id and host.
        public var clientID: String
        /// The host it connects from.
        public var clientHost: String
        /// The partitions assigned to it (decoded from the consumer protocol; empty when the
        /// assignment is not a consumer-protocol one).
        public var assignment: [KafkaTopicPartitions]
    }

    /// The group id.
    public var groupID: String
    /// The state (`Stable`, `Empty`, `Dead`, …).
    public var state: String
    /// `consumer` for consumer groups.
    public var protocolType: String
    /// The assignor in use (`range`, `cooperative-sticky`, …).
    public var protocolName: String
    /// The members.
    public var members: [Member]
}

extension KafkaClient {
    /// Every group the brokers know (ListGroups on each broker).
    public func listGroups() async throws(KafkaError) -> [KafkaGroupListing] {
        _ = try await cluster.retrying(until: ContinuousClock.now.advanced(by: configuration.operationTimeout)) { () throws(KafkaError) in
            try await cluster.refreshMetadata(topics: [])
        }
        var result: [KafkaGroupListing] = []
        for broker in cluster.brokers {
            let response = try await cluster.retrying(until: ContinuousClock.now.advanced(by: configuration.operationTimeout)) { () throws(KafkaError) in
                let connection = try await cluster.connection(to: broker.nodeID)
                return try await connection.send(ListGroupsRequest())
            }
            let code = KafkaErrorCode(rawValue: response.errorCode)
            if code.isError { throw KafkaError.broker(code, api: .listGroups, broker: broker.address.description) }
            result += response.groups.map { KafkaGroupListing(groupID: $0.groupID, protocolType: $0.protocolType, state: $0.groupState.isEmpty ? nil : $0.groupState) }
        }
        return result.sorted { $0.groupID < $1.groupID }
    }

    /// The state, assignor and members of `group`.
    public func describeGroup(_ group: String) async throws(KafkaError) -> KafkaGroupDescription {
        let response = try await cluster.retrying(until: ContinuousClock.now.advanced(by: configuration.operationTimeout)) { () throws(KafkaError) in
            let (node, _) = try await cluster.findCoordinator(group: group)
            let connection = try await cluster.connection(to: node)
            var request = DescribeGroupsRequest()
            request.groups = [group]
            let response = try await connection.send(request)
            if let described = response.groups.first {
                let code = KafkaErrorCode(rawValue: described.errorCode)
                if code.isError { throw KafkaError.broker(code, api: .describeGroups, broker: connection.endpoint) }
            }
            return response
        }
        guard let described = response.groups.first(where: { $0.groupID == group }) else {
            throw KafkaError(.protocolError, "DescribeGroups answered without the group asked about", api: .describeGroups)
        }
        return KafkaGroupDescription(
            groupID: described.groupID, state: described.groupState, protocolType: described.protocolType, protocolName: described.protocolData,
            members: described.members.map { member in
                KafkaGroupDescription.Member(memberID: member.memberID, groupInstanceID: member.groupInstanceID, clientID: member.clientID, clientHost: member.clientHost,
                                             assignment: (try? KafkaConsumerAssignment(decoding: member.memberAssignment))?.assignedPartitions ?? [])
            })
    }

    /// Deletes `groups` (they must have no members).
    ///
    /// - Throws: ``KafkaError`` `brokerError` naming the first group that could not be deleted
    ///   (for example `NON_EMPTY_GROUP`).
    public func deleteGroups(_ groups: [String]) async throws(KafkaError) {
        for group in groups {
            let response = try await cluster.retrying(until: ContinuousClock.now.advanced(by: configuration.operationTimeout)) { () throws(KafkaError) in
                let (node, _) = try await cluster.findCoordinator(group: group)
                let connection = try await cluster.connection(to: node)
                var request = DeleteGroupsRequest()
                request.groupsNames = [group]
                let response = try await connection.send(request)
                for result in response.results {
                    let code = KafkaErrorCode(rawValue: result.errorCode)
                    if code == .notCoordinator || code == .coordinatorNotAvailable || code == .coordinatorLoadInProgress {
                        throw KafkaError.broker(code, api: .deleteGroups, broker: connection.endpoint)
                    }
                }
                return response
            }
            for result in response.results {
                let code = KafkaErrorCode(rawValue: result.errorCode)
                if code.isError { throw KafkaError(.brokerError, "group '\(result.groupID)': \(KafkaError.broker(code).message)", brokerErrorCode: code, api: .deleteGroups) }
            }
        }
    }
}
