import Synchronization
import TributaryKafkaProtocol
import TributaryWire

/// A change of a member's partitions, handed to the rebalance callback.
public enum KafkaRebalanceEvent: Sendable, Hashable {
    /// These partitions were assigned to this member; reading starts at their committed offsets.
    case assigned([KafkaTopicPartitions])
    /// These partitions are being taken away; their processed offsets were committed first.
    case revoked([KafkaTopicPartitions])
    /// These partitions were lost without a clean handover (the member was removed from the
    /// group); nothing could be committed for them.
    case lost([KafkaTopicPartitions])
}

/// A member of a Kafka consumer group: joins through the group coordinator, gets partitions from
/// the elected leader's assignor, reads them from their committed offsets, commits what was
/// processed, and rejoins on every rebalance the coordinator announces.
///
/// Two ways to read:
/// - ``run(concurrency:retry:deadLetter:eachRecord:)`` calls a handler per record, in order per
///   partition, and commits an offset only after the handler returned for it (at-least-once);
///   a handler that keeps failing sends the record to a dead-letter topic and processing goes on.
/// - ``poll(maxRecords:timeout:)`` returns records; ``markProcessed(_:)`` and ``commit()`` commit.
public final class KafkaGroupConsumer: Sendable {
    /// The member's settings.
    public let configuration: KafkaGroupConsumerConfiguration
    private let client: KafkaClient
    private var cluster: KafkaCluster { client.cluster }
    private let consumer: KafkaConsumer
    private let state = Mutex(GroupState())
    private let onRebalance: (@Sendable (KafkaRebalanceEvent) -> Void)?

    /// Creates a member and starts joining the group in the background.
    ///
    /// - Parameter onRebalance: called (on an internal task) when partitions are assigned,
    ///   revoked or lost; revocation is reported after the partitions' offsets were committed.
    /// - Throws: ``KafkaError`` `invalidConfiguration` naming the bad field.
    public init(client: KafkaClient, configuration: KafkaGroupConsumerConfiguration,
                onRebalance: (@Sendable (KafkaRebalanceEvent) -> Void)? = nil) throws(KafkaError) {
        try configuration.validate()
        self.client = client
        self.configuration = configuration
        self.onRebalance = onRebalance
        var fetch = configuration.fetch
        fetch.autoOffsetReset = configuration.autoOffsetReset == .none ? .none : configuration.autoOffsetReset
        self.consumer = try KafkaConsumer(client: client, configuration: fetch)
        Task.detached { [self] in await coordinate() }
    }

    // MARK: - Public API

    /// The member id the coordinator gave this member ("" before the first join).
    public var memberID: String { state.withLock { $0.memberID } }
    /// The generation of the current assignment (-1 before the first).
    public var generationID: Int32 { state.withLock { $0.generationID } }
    /// The partitions assigned now.
    public var assignment: [KafkaTopicPartitions] { state.withLock { Self.lists($0.assigned) } }
    /// The assignor the group uses, once joined.
    public var protocolName: String? { state.withLock { $0.protocolName } }

    /// Up to `maxRecords` records of the assigned partitions, waiting up to `timeout`.
    ///
    /// - Throws: the group's fatal error (such as `offsetOutOfRange` with reset `.none`, or a
    ///   coordinator error that rejoining cannot fix).
    public func poll(maxRecords: Int = 500, timeout: Duration) async throws(KafkaError) -> [KafkaConsumerRecord] {
        if let failure = state.withLock({ $0.failure }) { throw failure }
        let records = try await consumer.poll(maxRecords: maxRecords, timeout: timeout)
        let assigned = state.withLock { $0.assigned }
        return records.filter { assigned.contains(TopicPartition(topic: $0.topic, partition: $0.partition)) }
    }

    /// The offset of the next record ``poll(maxRecords:timeout:)`` returns from this partition;
    /// nil when it is not assigned to this member or its start is not known yet.
    public func position(topic: String, partition: Int32) -> Int64? {
        guard isAssigned(topic: topic, partition: partition) else { return nil }
        return consumer.position(topic: topic, partition: partition)
    }

    /// Whether this member has read an assigned partition up to the high watermark of its last
    /// fetch (kcat's end of partition); false when the partition is not assigned here.
    public func isAtEnd(topic: String, partition: Int32) -> Bool {
        isAssigned(topic: topic, partition: partition) && consumer.isAtEnd(topic: topic, partition: partition)
    }

    private func isAssigned(topic: String, partition: Int32) -> Bool {
        let key = TopicPartition(topic: topic, partition: partition)
        return state.withLock { $0.assigned.contains(key) }
    }

    /// Marks `record` (and everything before it in its partition) processed: its offset + 1 is
    /// what the next commit stores.
    public func markProcessed(_ record: KafkaConsumerRecord) {
        let key = TopicPartition(topic: record.topic, partition: record.partition)
        state.withLock { state in
            guard state.assigned.contains(key) else { return }
            state.processed[key] = max(state.processed[key] ?? 0, record.offset + 1)
        }
    }

    /// Commits the processed offsets that are not committed yet.
    ///
    /// - Throws: ``KafkaError`` from OffsetCommit (for example `REBALANCE_IN_PROGRESS` or
    ///   `ILLEGAL_GENERATION` when the group moved on: the partitions are then someone else's).
    public func commit() async throws(KafkaError) {
        try await commitProcessed(only: nil)
    }

    /// The committed offset of each of `partitions` (-1 where none), from the coordinator.
    public func committed(topic: String, partitions: [Int32]) async throws(KafkaError) -> [Int32: Int64] {
        let offsets = try await fetchCommitted([TopicPartition](partitions.map { TopicPartition(topic: topic, partition: $0) }))
        var result: [Int32: Int64] = [:]
        for (key, value) in offsets { result[key.partition] = value }
        return result
    }

    /// Stops: finishes nothing new, commits what was processed, leaves the group and closes the
    /// underlying consumer. Idempotent.
    public func close() async {
        let first = state.withLock { state -> Bool in
            defer { state.closing = true }
            return !state.closing
        }
        guard first else { return }
        try? await commitProcessed(only: nil)
        await leaveGroup()
        consumer.close()
        state.withLock { $0.coordinatorConnection }?.close()
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer { state.wakeups.removeAll() }
            return state.wakeups
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Processes records until ``close()`` is called or a fatal error happens: `eachRecord` runs
    /// per record, in offset order within a partition, up to `concurrency` partitions at once.
    /// An offset is committed only after its handler returned (at-least-once). A handler that
    /// fails `retry.attempts` times sends the record to the dead-letter topic (headers carry the
    /// error, origin topic, partition and offset) and processing continues; without a
    /// dead-letter policy the error ends the run.
    public func run(concurrency: Int = 1, retry: KafkaRetryPolicy = KafkaRetryPolicy(), deadLetter: KafkaDeadLetterPolicy? = KafkaDeadLetterPolicy(),
                    eachRecord: @escaping @Sendable (KafkaConsumerRecord) async throws -> Void) async throws(KafkaError) {
        var producer: KafkaProducer?
        defer { if let producer { Task { try? await producer.close() } } }
        while !state.withLock({ $0.closing }) {
            let records = try await poll(maxRecords: 1000, timeout: .milliseconds(200))
            if records.isEmpty { continue }
            var byPartition: [TopicPartition: [KafkaConsumerRecord]] = [:]
            var order: [TopicPartition] = []
            for record in records {
                let key = TopicPartition(topic: record.topic, partition: record.partition)
                if byPartition[key] == nil { order.append(key) }
                byPartition[key, default: []].append(record)
            }
            if deadLetter != nil && producer == nil {
                var settings = KafkaProducerConfiguration()
                settings.acks = .all
                settings.linger = .zero
                producer = try client.makeProducer(settings)
            }
            let dlqProducer = producer
            let failure: KafkaError? = await withTaskGroup(of: KafkaError?.self) { group in
                var running = 0
                var firstFailure: KafkaError?
                for key in order {
                    if running >= max(1, concurrency) {
                        if let result = await group.next(), let result { firstFailure = firstFailure ?? result }
                        running -= 1
                    }
                    let batch = byPartition[key] ?? []
                    group.addTask {
                        await self.process(batch, retry: retry, deadLetter: deadLetter, producer: dlqProducer, eachRecord: eachRecord)
                    }
                    running += 1
                }
                for await result in group { if let result { firstFailure = firstFailure ?? result } }
                return firstFailure
            }
            if let failure { throw failure }
            do throws(KafkaError) {
                try await commitProcessed(only: nil)
            } catch {
                if state.withLock({ $0.closing }) { return }
                // A rebalance moved the partitions on; the records will be processed again by
                // their new owner from the last commit (at-least-once). Not fatal.
                guard error.isRetriable || error.brokerErrorCode == .illegalGeneration || error.brokerErrorCode == .unknownMemberID
                        || error.brokerErrorCode == .rebalanceInProgress else { throw error }
            }
        }
    }

    private func process(_ records: [KafkaConsumerRecord], retry: KafkaRetryPolicy, deadLetter: KafkaDeadLetterPolicy?, producer: KafkaProducer?,
                         eachRecord: @Sendable (KafkaConsumerRecord) async throws -> Void) async -> KafkaError? {
        for record in records {
            let key = TopicPartition(topic: record.topic, partition: record.partition)
            // A partition revoked meanwhile is someone else's now. Counted while the handler runs,
            // so that a revocation waits for it and commits its offset before handing over.
            guard state.withLock({ state -> Bool in
                guard state.assigned.contains(key) && !state.revoking.contains(key) && !state.closing else { return false }
                state.handling[key, default: 0] += 1
                return true
            }) else { return nil }
            defer { state.withLock { $0.handling[key, default: 1] -= 1 } }
            var lastError: (any Error)?
            for attempt in 0..<retry.attempts {
                do {
                    try await eachRecord(record)
                    lastError = nil
                    break
                } catch {
                    lastError = error
                    if attempt + 1 < retry.attempts {
                        try? await Task.sleep(for: retry.backoff * (1 << min(attempt, 10)))
                    }
                }
            }
            if let lastError {
                guard let deadLetter, let producer else {
                    return KafkaError(.invalidArgument, "the handler failed for \(record) after \(retry.attempts) attempts: \(lastError)",
                                      topic: record.topic, partition: record.partition, offset: record.offset, underlying: lastError)
                }
                var headers = record.headers
                headers.append((KafkaDeadLetterPolicy.errorHeader, Array(String(describing: lastError).utf8)))
                headers.append((KafkaDeadLetterPolicy.topicHeader, Array(record.topic.utf8)))
                headers.append((KafkaDeadLetterPolicy.partitionHeader, Array(String(record.partition).utf8)))
                headers.append((KafkaDeadLetterPolicy.offsetHeader, Array(String(record.offset).utf8)))
                let target = deadLetter.topic(record.topic)
                do throws(KafkaError) {
                    try await ensureTopic(target, like: record.topic)
                    try await producer.send(topic: target, key: record.key, value: record.value, headers: headers)
                } catch {
                    return KafkaError(error.code, "record \(record) could not be sent to the dead-letter topic '\(target)': \(error.message)",
                                      brokerErrorCode: error.brokerErrorCode, topic: target, underlying: error)
                }
            }
            markProcessed(record)
        }
        return nil
    }

    private func ensureTopic(_ topic: String, like origin: String) async throws(KafkaError) {
        if state.withLock({ $0.knownTopics.contains(topic) }) { return }
        let partitions = (try? await cluster.topic(origin))?.partitionCount ?? 1
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: Int32(max(1, partitions))), ifNotExists: true)
        _ = state.withLock { $0.knownTopics.insert(topic) }
    }

    // MARK: - Coordination

    private func coordinate() async {
        var attempt = 0
        while !state.withLock({ $0.closing }) {
            do throws(KafkaError) {
                try await joinAndSync()
                attempt = 0
                try await heartbeatUntilRebalance()
            } catch {
                if state.withLock({ $0.closing }) { return }
                if let code = error.brokerErrorCode, code == .unknownMemberID || code == .fencedInstanceID {
                    await loseAll()
                    state.withLock { $0.memberID = "" }
                } else if let code = error.brokerErrorCode, code == .illegalGeneration {
                    await loseAll()
                } else if let code = error.brokerErrorCode, code == .rebalanceInProgress {
                    // Rejoin at once.
                } else if error.invalidatesMetadata || error.isRetriable {
                    let stale = state.withLock { state -> KafkaBrokerConnection? in
                        defer { state.coordinator = nil; state.coordinatorConnection = nil }
                        return state.coordinatorConnection
                    }
                    stale?.close()
                    let backoff = KafkaCluster.backoff(attempt: attempt, base: cluster.configuration.retryBackoff, max: cluster.configuration.retryBackoffMax)
                    attempt += 1
                    try? await Task.sleep(for: backoff)
                } else {
                    fail(error)
                    return
                }
            }
        }
    }

    private func fail(_ error: KafkaError) {
        let connection = state.withLock { state -> KafkaBrokerConnection? in
            if state.failure == nil { state.failure = error }
            return state.coordinatorConnection
        }
        consumer.close()
        connection?.close()
    }

    deinit {
        state.withLock { $0.coordinatorConnection }?.close()
    }

    /// The member's own connection to the group coordinator. Not the client's shared one: the
    /// coordinator holds a JoinGroup until the rebalance completes, and a broker answers one
    /// connection's requests in order, so members sharing a connection would block each other.
    private func coordinatorConnection() async throws(KafkaError) -> KafkaBrokerConnection {
        if let existing = state.withLock({ $0.coordinatorConnection }), existing.isAlive { return existing }
        let (connection, _) = try await cluster.anyConnection()
        let version = try connection.version(for: .findCoordinator)
        var request = FindCoordinatorRequest()
        request.keyType = 0
        if version >= 4 { request.coordinatorKeys = [configuration.groupID] } else { request.key = configuration.groupID }
        let response = try await connection.send(request, version: version)
        var code = KafkaErrorCode(rawValue: response.errorCode)
        var node = response.nodeID
        var address = KafkaBrokerAddress(host: response.host, port: Int(response.port))
        var message = response.errorMessage
        if version >= 4 {
            guard let entry = response.coordinators.first(where: { $0.key == configuration.groupID }) else {
                throw KafkaError(.protocolError, "FindCoordinator answered without the group asked about", broker: connection.endpoint, api: .findCoordinator)
            }
            code = KafkaErrorCode(rawValue: entry.errorCode)
            node = entry.nodeID
            address = KafkaBrokerAddress(host: entry.host, port: Int(entry.port))
            message = entry.errorMessage
        }
        if code.isError { throw KafkaError.broker(code, api: .findCoordinator, broker: connection.endpoint, serverMessage: message) }
        let dedicated = try await KafkaBrokerConnection.open(address, nodeID: node, configuration: cluster.configuration)
        let old = state.withLock { state -> KafkaBrokerConnection? in
            defer {
                state.coordinator = node
                state.coordinatorConnection = dedicated
            }
            return state.coordinatorConnection
        }
        old?.close()
        cluster.track(dedicated)
        return dedicated
    }

    private func checkGroupError(_ raw: Int16, api: KafkaAPIKey, broker: String) throws(KafkaError) {
        let code = KafkaErrorCode(rawValue: raw)
        guard code.isError else { return }
        if code == .notCoordinator || code == .coordinatorNotAvailable || code == .coordinatorLoadInProgress {
            let stale = state.withLock { state -> KafkaBrokerConnection? in
                defer { state.coordinator = nil; state.coordinatorConnection = nil }
                return state.coordinatorConnection
            }
            stale?.close()
        }
        throw KafkaError.broker(code, api: api, broker: broker)
    }

    private func joinAndSync() async throws(KafkaError) {
        state.withLock { $0.joining = true }
        defer { state.withLock { $0.joining = false } }
        // Eager assignors give everything up before joining; cooperative ones keep it.
        let current = state.withLock { $0.protocolName }.flatMap(KafkaPartitionAssignor.init(rawValue:)) ?? configuration.assignors[0]
        if current.rebalanceProtocol == .eager { await revoke(state.withLock { $0.assigned }) }

        let connection = try await coordinatorConnection()
        let (owned, generation) = state.withLock { (Self.lists($0.assigned), $0.generationID) }
        var protocols: [JoinGroupRequest.JoinGroupRequestProtocol] = []
        for assignor in configuration.assignors {
            let subscription = KafkaConsumerSubscription(topics: configuration.topics, ownedPartitions: owned, generationID: generation)
            do throws(WireEncodingError) {
                protocols.append(.init(name: assignor.name, metadata: try subscription.encode()))
            } catch {
                throw KafkaError(.invalidArgument, "cannot encode the subscription: \(error)")
            }
        }
        var response: JoinGroupResponse
        var joinAttempts = 0
        while true {
            var request = JoinGroupRequest()
            request.groupID = configuration.groupID
            request.sessionTimeoutMs = Int32(clamping: configuration.sessionTimeout.components.seconds * 1000)
            request.rebalanceTimeoutMs = Int32(clamping: configuration.rebalanceTimeout.components.seconds * 1000)
            request.memberID = state.withLock { $0.memberID }
            request.protocolType = "consumer"
            request.protocols = protocols
            let version = try connection.version(for: .joinGroup)
            if version >= 5 { request.groupInstanceID = configuration.groupInstanceID }
            // The coordinator may hold a join for up to the rebalance timeout.
            response = try await connection.send(request, version: version, timeout: configuration.rebalanceTimeout + .seconds(5))
            let code = KafkaErrorCode(rawValue: response.errorCode)
            if code == .memberIDRequired && joinAttempts < 3 {
                // KIP-394: the coordinator hands out the member id; join again with it.
                state.withLock { $0.memberID = response.memberID }
                joinAttempts += 1
                continue
            }
            try checkGroupError(response.errorCode, api: .joinGroup, broker: connection.endpoint)
            break
        }
        let protocolName = response.protocolName ?? configuration.assignors[0].name
        state.withLock { state in
            state.memberID = response.memberID
            state.pendingGeneration = response.generationID
            state.protocolName = protocolName
        }

        var assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = []
        if response.leader == response.memberID && !response.skipAssignment {
            assignments = try await leaderAssign(response, protocolName: protocolName)
        }
        var sync = SyncGroupRequest()
        sync.groupID = configuration.groupID
        sync.generationID = response.generationID
        sync.memberID = response.memberID
        sync.protocolType = "consumer"
        sync.protocolName = protocolName
        sync.assignments = assignments
        let syncVersion = try connection.version(for: .syncGroup)
        if syncVersion >= 3 { sync.groupInstanceID = configuration.groupInstanceID }
        let synced = try await connection.send(sync, version: syncVersion, timeout: configuration.rebalanceTimeout + .seconds(5))
        try checkGroupError(synced.errorCode, api: .syncGroup, broker: connection.endpoint)
        let assignment: KafkaConsumerAssignment
        do throws(WireDecodingError) {
            assignment = try KafkaConsumerAssignment(decoding: synced.assignment)
        } catch {
            throw KafkaError(.protocolError, "the group assignment does not decode: \(error)", broker: connection.endpoint, api: .syncGroup, underlying: error)
        }
        var newSet = Set<TopicPartition>()
        for list in assignment.assignedPartitions where configuration.topics.contains(list.topic) {
            for partition in list.partitions { newSet.insert(TopicPartition(topic: list.topic, partition: partition)) }
        }
        let previous = state.withLock { $0.assigned }
        let revoked = previous.subtracting(newSet)
        let added = newSet.subtracting(previous)
        // The new generation first: the revocation commits with it, or the commit is refused.
        state.withLock { state in
            state.generationID = response.generationID
            state.assignedPartitionCounts = state.pendingPartitionCounts
        }
        await revoke(revoked)
        try await assign(added)
        if !revoked.isEmpty && KafkaPartitionAssignor(rawValue: protocolName)?.rebalanceProtocol == .cooperative {
            // KIP-429: partitions given up must reach their new owner in a follow-up rebalance.
            state.withLock { $0.rejoinRequested = true }
        }
    }

    private func leaderAssign(_ response: JoinGroupResponse, protocolName: String) async throws(KafkaError) -> [SyncGroupRequest.SyncGroupRequestAssignment] {
        guard let assignor = KafkaPartitionAssignor(rawValue: protocolName) else {
            throw KafkaError(.invalidArgument, "the group chose assignor '\(protocolName)', which this client does not implement; offer only range, roundrobin or cooperative-sticky in the group")
        }
        var members: [KafkaGroupMember] = []
        for member in response.members {
            do throws(WireDecodingError) {
                members.append(KafkaGroupMember(memberID: member.memberID, groupInstanceID: member.groupInstanceID,
                                                subscription: try KafkaConsumerSubscription(decoding: member.metadata)))
            } catch {
                // A member whose subscription does not decode gets nothing; the others proceed.
                members.append(KafkaGroupMember(memberID: member.memberID, groupInstanceID: member.groupInstanceID, subscription: KafkaConsumerSubscription(topics: [])))
            }
        }
        var counts: [String: Int] = [:]
        for topic in Set(members.flatMap(\.subscription.topics)).sorted() {
            if let metadata = try? await cluster.topic(topic, refresh: true) { counts[topic] = metadata.partitionCount }
        }
        state.withLock { $0.pendingPartitionCounts = counts }
        let plan = assignor.assign(members: members, partitionCounts: counts)
        var assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = []
        for member in members {
            let payload = KafkaConsumerAssignment(assignedPartitions: plan[member.memberID] ?? [])
            do throws(WireEncodingError) {
                assignments.append(.init(memberID: member.memberID, assignment: try payload.encode()))
            } catch {
                throw KafkaError(.invalidArgument, "cannot encode an assignment: \(error)")
            }
        }
        return assignments
    }

    private func heartbeatUntilRebalance() async throws(KafkaError) {
        var lastCommit = ContinuousClock.now
        var lastMetadataCheck = ContinuousClock.now
        while true {
            if state.withLock({ $0.closing }) { return }
            if state.withLock({ state -> Bool in
                defer { state.rejoinRequested = false }
                return state.rejoinRequested
            }) { return }
            try? await Task.sleep(for: min(configuration.heartbeatInterval, .milliseconds(500)))
            if state.withLock({ $0.closing }) { return }
            let now = ContinuousClock.now
            if configuration.enableAutoCommit && now - lastCommit >= configuration.autoCommitInterval {
                lastCommit = now
                try? await commitProcessed(only: nil)
            }
            if now - state.withLock({ $0.lastHeartbeat }) >= configuration.heartbeatInterval {
                try await heartbeat()
            }
            if now - lastMetadataCheck >= .seconds(5) {
                lastMetadataCheck = now
                if try await partitionCountsChanged() { return }
            }
        }
    }

    /// Whether a subscribed topic's partition count differs from the last assignment's (the
    /// leader then starts a rebalance by rejoining).
    private func partitionCountsChanged() async throws(KafkaError) -> Bool {
        let known = state.withLock { $0.assignedPartitionCounts }
        guard !known.isEmpty else { return false }
        for (topic, count) in known {
            if let metadata = try? await cluster.topic(topic, refresh: true), metadata.partitionCount != count { return true }
        }
        return false
    }

    private func heartbeat() async throws(KafkaError) {
        let connection = try await coordinatorConnection()
        var request = HeartbeatRequest()
        request.groupID = configuration.groupID
        let (member, generation) = state.withLock { ($0.memberID, $0.generationID) }
        request.memberID = member
        request.generationID = generation
        let version = try connection.version(for: .heartbeat)
        if version >= 3 { request.groupInstanceID = configuration.groupInstanceID }
        let response = try await connection.send(request, version: version)
        state.withLock { $0.lastHeartbeat = ContinuousClock.now }
        try checkGroupError(response.errorCode, api: .heartbeat, broker: connection.endpoint)
    }

    private func leaveGroup() async {
        let member = state.withLock { $0.memberID }
        guard !member.isEmpty, let connection = try? await coordinatorConnection() else { return }
        // A static member does not leave: it keeps its partitions across a restart.
        guard configuration.groupInstanceID == nil else { return }
        var request = LeaveGroupRequest()
        request.groupID = configuration.groupID
        guard let version = try? connection.version(for: .leaveGroup) else { return }
        if version >= 3 {
            request.members = [.init(memberID: member, groupInstanceID: nil, reason: "the consumer is closing")]
        } else {
            request.memberID = member
        }
        _ = try? await connection.send(request, version: version, timeout: .seconds(5))
    }

    // MARK: - Assignment changes

    private func revoke(_ partitions: Set<TopicPartition>) async {
        guard !partitions.isEmpty else { return }
        // Stop handing out records of these partitions, let running handlers finish, then commit.
        state.withLock { $0.revoking.formUnion(partitions) }
        let deadline = ContinuousClock.now.advanced(by: configuration.rebalanceTimeout)
        while ContinuousClock.now < deadline, state.withLock({ state in partitions.contains { state.handling[$0, default: 0] > 0 } }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        try? await commitProcessed(only: partitions)
        state.withLock { state in
            state.assigned.subtract(partitions)
            state.revoking.subtract(partitions)
            for key in partitions { state.processed[key] = nil }
        }
        for key in partitions { consumer.unassign(topic: key.topic, partition: key.partition) }
        onRebalance?(.revoked(Self.lists(partitions)))
    }

    private func loseAll() async {
        let lost = state.withLock { state -> Set<TopicPartition> in
            defer {
                state.assigned.removeAll()
                state.processed.removeAll()
                state.generationID = -1
            }
            return state.assigned
        }
        guard !lost.isEmpty else { return }
        for key in lost { consumer.unassign(topic: key.topic, partition: key.partition) }
        onRebalance?(.lost(Self.lists(lost)))
    }

    private func assign(_ partitions: Set<TopicPartition>) async throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let committed = try await fetchCommitted(Array(partitions))
        for key in partitions.sorted(by: { ($0.topic, $0.partition) < ($1.topic, $1.partition) }) {
            let start: KafkaOffsetSpec
            if let offset = committed[key], offset >= 0 {
                start = .offset(offset)
            } else {
                switch configuration.autoOffsetReset {
                case .earliest: start = .earliest
                case .latest: start = .latest
                case .none:
                    throw KafkaError(.offsetOutOfRange, "\(key.topic) [\(key.partition)] has no committed offset in group '\(configuration.groupID)' and autoOffsetReset is none; commit a start offset or choose earliest/latest",
                                     topic: key.topic, partition: key.partition)
                }
            }
            // Owned before the first record can arrive: poll drops records of partitions not owned.
            _ = state.withLock { $0.assigned.insert(key) }
            try await consumer.assign(topic: key.topic, partition: key.partition, from: start)
        }
        onRebalance?(.assigned(Self.lists(partitions)))
    }

    // MARK: - Offsets

    private func fetchCommitted(_ partitions: [TopicPartition]) async throws(KafkaError) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let deadline = ContinuousClock.now.advanced(by: cluster.configuration.operationTimeout)
        return try await cluster.retrying(until: deadline) { () throws(KafkaError) in
            let connection = try await coordinatorConnection()
            // Versions 8+ batch several groups; 7 is the newest with the single-group shape.
            let version = try connection.version(for: .offsetFetch, clientRange: 1...7)
            var request = OffsetFetchRequest()
            request.groupID = configuration.groupID
            var byTopic: [String: [Int32]] = [:]
            for key in partitions { byTopic[key.topic, default: []].append(key.partition) }
            request.topics = byTopic.sorted { $0.key < $1.key }.map { OffsetFetchRequest.OffsetFetchRequestTopic(name: $0.key, partitionIndexes: $0.value.sorted()) }
            if version >= 7 { request.requireStable = true }
            let response = try await connection.send(request, version: version)
            try checkGroupError(response.errorCode, api: .offsetFetch, broker: connection.endpoint)
            var result: [TopicPartition: Int64] = [:]
            for topic in response.topics {
                for partition in topic.partitions {
                    try checkGroupError(partition.errorCode, api: .offsetFetch, broker: connection.endpoint)
                    result[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] = partition.committedOffset
                }
            }
            return result
        }
    }

    private func commitProcessed(only: Set<TopicPartition>?) async throws(KafkaError) {
        // During a join the generation is about to change and the coordinator connection is held
        // by the JoinGroup; processed offsets stay pending and are committed on revoke or later.
        if only == nil && state.withLock({ $0.joining }) { return }
        let (pending, member, generation) = state.withLock { state -> ([TopicPartition: Int64], String, Int32) in
            var pending: [TopicPartition: Int64] = [:]
            for (key, offset) in state.processed where (only?.contains(key) ?? true) && state.committed[key] != offset {
                pending[key] = offset
            }
            return (pending, state.memberID, state.generationID)
        }
        guard !pending.isEmpty else { return }
        let connection = try await coordinatorConnection()
        let version = try connection.version(for: .offsetCommit, clientRange: 2...8)
        var request = OffsetCommitRequest()
        request.groupID = configuration.groupID
        request.generationIDOrMemberEpoch = generation
        request.memberID = member
        if version >= 7 { request.groupInstanceID = configuration.groupInstanceID }
        if version >= 2 && version <= 4 { request.retentionTimeMs = -1 }
        var byTopic: [String: [OffsetCommitRequest.OffsetCommitRequestTopic.OffsetCommitRequestPartition]] = [:]
        for (key, offset) in pending {
            byTopic[key.topic, default: []].append(.init(partitionIndex: key.partition, committedOffset: offset, committedMetadata: ""))
        }
        request.topics = byTopic.sorted { $0.key < $1.key }.map { .init(name: $0.key, partitions: $0.value.sorted { $0.partitionIndex < $1.partitionIndex }) }
        let response = try await connection.send(request, version: version)
        var firstError: KafkaError?
        var done: [TopicPartition: Int64] = [:]
        for topic in response.topics {
            for partition in topic.partitions {
                let key = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                let code = KafkaErrorCode(rawValue: partition.errorCode)
                if code.isError {
                    firstError = firstError ?? KafkaError.broker(code, api: .offsetCommit, broker: connection.endpoint, topic: key.topic, partition: key.partition)
                } else if let offset = pending[key] {
                    done[key] = offset
                }
            }
        }
        state.withLock { state in
            for (key, offset) in done { state.committed[key] = offset }
        }
        if let firstError { throw firstError }
    }

    static func lists(_ partitions: Set<TopicPartition>) -> [KafkaTopicPartitions] {
        var map: [String: [Int32]] = [:]
        for key in partitions { map[key.topic, default: []].append(key.partition) }
        return map.sorted { $0.key < $1.key }.map { KafkaTopicPartitions(topic: $0.key, partitions: $0.value.sorted()) }
    }
}

extension KafkaClient {
    /// A consumer-group member sharing this client's connections; it starts joining at once.
    ///
    /// - Throws: ``KafkaError`` `invalidConfiguration` naming the bad field.
    public func makeGroupConsumer(_ configuration: KafkaGroupConsumerConfiguration,
                                  onRebalance: (@Sendable (KafkaRebalanceEvent) -> Void)? = nil) throws(KafkaError) -> KafkaGroupConsumer {
        try KafkaGroupConsumer(client: self, configuration: configuration, onRebalance: onRebalance)
    }
}

private struct GroupState: Sendable {
    var memberID = ""
    var generationID: Int32 = -1
    var pendingGeneration: Int32 = -1
    var protocolName: String?
    var coordinator: Int32?
    var coordinatorConnection: KafkaBrokerConnection?
    var joining = false
    var assigned = Set<TopicPartition>()
    var processed: [TopicPartition: Int64] = [:]
    var committed: [TopicPartition: Int64] = [:]
    var assignedPartitionCounts: [String: Int] = [:]
    var pendingPartitionCounts: [String: Int] = [:]
    var knownTopics = Set<String>()
    var handling: [TopicPartition: Int] = [:]
    var revoking = Set<TopicPartition>()
    var lastHeartbeat = ContinuousClock.now
    var rejoinRequested = false
    var failure: KafkaError?
    var closing = false
    var closed = false
    var wakeups: [CheckedContinuation<Void, Never>] = []
}
