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
    private let state: Mutex<GroupState>
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
        self.state = Mutex(GroupState(machine: KafkaGroupMachine(settings: .init(topics: configuration.topics, assignors: configuration.assignors,
                                                                                 groupInstanceID: configuration.groupInstanceID))))
        var fetch = configuration.fetch
        fetch.autoOffsetReset = configuration.autoOffsetReset == .none ? .none : configuration.autoOffsetReset
        self.consumer = try KafkaConsumer(client: client, configuration: fetch)
        Task.detached { [self] in await coordinate() }
    }

    // MARK: - Public API

    /// The member id the coordinator gave this member ("" before the first join).
    public var memberID: String { state.withLock { $0.machine.memberID } }
    /// The generation of the current assignment (-1 before the first).
    public var generationID: Int32 { state.withLock { $0.machine.generation } }
    /// The partitions assigned now.
    public var assignment: [KafkaTopicPartitions] { state.withLock { KafkaTopicPartition.lists($0.assigned) } }
    /// The assignor the group uses, once joined.
    public var protocolName: String? { state.withLock { $0.machine.protocolName } }

    /// Up to `maxRecords` records of the assigned partitions, waiting up to `timeout`.
    ///
    /// - Throws: the group's fatal error (such as `offsetOutOfRange` with reset `.none`, or a
    ///   coordinator error that rejoining cannot fix).
    public func poll(maxRecords: Int = 500, timeout: Duration) async throws(KafkaError) -> [KafkaConsumerRecord] {
        if let failure = state.withLock({ $0.failure }) { throw failure }
        let records = try await consumer.poll(maxRecords: maxRecords, timeout: timeout)
        let assigned = state.withLock { $0.assigned }
        return records.filter { assigned.contains(KafkaTopicPartition(topic: $0.topic, partition: $0.partition)) }
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
        let key = KafkaTopicPartition(topic: topic, partition: partition)
        return state.withLock { $0.assigned.contains(key) }
    }

    /// Marks `record` (and everything before it in its partition) processed: its offset + 1 is
    /// what the next commit stores.
    public func markProcessed(_ record: KafkaConsumerRecord) {
        let key = KafkaTopicPartition(topic: record.topic, partition: record.partition)
        state.withLock { $0.markProcessed(key, offset: record.offset) }
    }

    /// Commits the processed offsets that are not committed yet.
    ///
    /// - Throws: ``KafkaError`` from OffsetCommit (for example `REBALANCE_IN_PROGRESS` or
    ///   `ILLEGAL_GENERATION` when the group moved on: the partitions are then someone else's).
    public func commit() async throws(KafkaError) {
        try await commitProcessed(only: nil)
    }

    /// Commits the processed offsets without waiting; `onComplete` gets nil or the error.
    public func commitInBackground(onComplete: (@Sendable (KafkaError?) -> Void)? = nil) {
        Task {
            do throws(KafkaError) {
                try await commit()
                onComplete?(nil)
            } catch {
                onComplete?(error)
            }
        }
    }

    /// Subscribes to `topics` instead: the member rejoins, and partitions of topics no longer
    /// subscribed are revoked (committed first) in that rebalance.
    public func subscribe(to topics: [String]) throws(KafkaError) {
        guard !topics.isEmpty else { throw KafkaError(.invalidArgument, "subscribe to at least one topic") }
        state.withLock { state in
            state.injected += state.machine.subscriptionChanged(topics: topics)
        }
    }

    /// The topics subscribed to.
    public var topics: [String] { state.withLock { $0.machine.settings.topics } }

    /// The committed offset of each of `partitions` (-1 where none), from the coordinator.
    public func committed(topic: String, partitions: [Int32]) async throws(KafkaError) -> [Int32: Int64] {
        let offsets = try await fetchCommitted(partitions.map { KafkaTopicPartition(topic: topic, partition: $0) })
        var result: [Int32: Int64] = [:]
        for (key, value) in offsets { result[key.partition] = value }
        return result
    }

    /// Stops: finishes nothing new, commits what was processed, leaves the group and closes the
    /// underlying consumer. Idempotent.
    public func close() async {
        let (first, actions) = state.withLock { state -> (Bool, [KafkaGroupMachine.Action]) in
            guard !state.closing else { return (false, []) }
            state.closing = true
            return (true, state.machine.closeRequested())
        }
        guard first else { return }
        for action in actions {
            switch action {
            case .revoke(let partitions):
                await revoke(partitions)
            case .leave(let member):
                await leaveGroup(member)
            default:
                break
            }
        }
        consumer.close()
        state.withLock { $0.coordinatorConnection }?.close()
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
            var byPartition: [KafkaTopicPartition: [KafkaConsumerRecord]] = [:]
            var order: [KafkaTopicPartition] = []
            for record in records {
                let key = KafkaTopicPartition(topic: record.topic, partition: record.partition)
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
            let key = KafkaTopicPartition(topic: record.topic, partition: record.partition)
            // A partition revoked meanwhile is someone else's now. Counted while the handler runs,
            // so that a revocation waits for it and commits its offset before handing over.
            guard state.withLock({ state -> Bool in
                guard state.assigned.contains(key) && !state.revoking.contains(key) && !state.closing else { return false }
                state.handling[key, default: 0] += 1
                return true
            }) else { return nil }
            let failure = await handle(record, retry: retry, deadLetter: deadLetter, producer: producer, eachRecord: eachRecord)
            state.withLock { state in
                state.handling[key, default: 1] -= 1
                if failure == nil { state.markProcessed(key, offset: record.offset) }
            }
            if let failure { return failure }
        }
        return nil
    }

    /// Runs the handler for one record with retries; a record it keeps failing on goes to the
    /// dead-letter topic. Returns the error that ends the run, if any.
    private func handle(_ record: KafkaConsumerRecord, retry: KafkaRetryPolicy, deadLetter: KafkaDeadLetterPolicy?, producer: KafkaProducer?,
                        eachRecord: @Sendable (KafkaConsumerRecord) async throws -> Void) async -> KafkaError? {
        var lastError: (any Error)?
        for attempt in 0..<retry.attempts {
            do {
                try await eachRecord(record)
                return nil
            } catch {
                lastError = error
                if attempt + 1 < retry.attempts {
                    try? await Task.sleep(for: retry.backoff * (1 << min(attempt, 10)))
                }
            }
        }
        guard let lastError else { return nil }
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
            return nil
        } catch {
            return KafkaError(error.code, "record \(record) could not be sent to the dead-letter topic '\(target)': \(error.message)",
                              brokerErrorCode: error.brokerErrorCode, topic: target, underlying: error)
        }
    }

    private func ensureTopic(_ topic: String, like origin: String) async throws(KafkaError) {
        if state.withLock({ $0.knownTopics.contains(topic) }) { return }
        let partitions = (try? await cluster.topic(origin))?.partitionCount ?? 1
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: Int32(max(1, partitions))), ifNotExists: true)
        _ = state.withLock { $0.knownTopics.insert(topic) }
    }

    // MARK: - Coordination

    /// Drives the membership machine: performs each action it returns and reports the outcome.
    /// Between rebalances it heartbeats, auto-commits and (as leader) watches partition counts.
    private func coordinate() async {
        var queue = state.withLock { $0.machine.started() }
        var lastError: KafkaError?
        var lastCommit = ContinuousClock.now
        var lastHeartbeat = ContinuousClock.now
        var lastMetadataCheck = ContinuousClock.now
        while true {
            if state.withLock({ $0.closing }) { return }
            queue += state.withLock { state in
                defer { state.injected.removeAll() }
                return state.injected
            }
            guard !queue.isEmpty else {
                guard state.withLock({ $0.machine.phase }) == .stable else { return }
                try? await Task.sleep(for: min(configuration.heartbeatInterval, .milliseconds(200)))
                if state.withLock({ $0.closing }) { return }
                let now = ContinuousClock.now
                if configuration.enableAutoCommit && now - lastCommit >= configuration.autoCommitInterval {
                    lastCommit = now
                    do throws(KafkaError) {
                        try await commitProcessed(only: nil)
                    } catch {
                        if let code = error.brokerErrorCode { queue += state.withLock { $0.machine.commitFailed(errorCode: code.rawValue) } }
                    }
                }
                if queue.isEmpty && now - lastHeartbeat >= configuration.heartbeatInterval {
                    lastHeartbeat = now
                    queue += await heartbeat()
                }
                if queue.isEmpty && now - lastMetadataCheck >= .seconds(5) && state.withLock({ $0.machine.isLeader }) {
                    lastMetadataCheck = now
                    if await partitionCountsChanged() { queue += state.withLock { $0.machine.rebalanceNeeded() } }
                }
                continue
            }
            let action = queue.removeFirst()
            switch action {
            case .findCoordinator:
                do throws(KafkaError) {
                    _ = try await coordinatorConnection()
                    queue += state.withLock { $0.machine.coordinatorFound() }
                } catch {
                    lastError = error
                    queue += state.withLock { $0.machine.requestFailed(api: .findCoordinator, code: error.brokerErrorCode, retriable: error.isRetriable) }
                }
            case .join(let memberID, let owned, let generation):
                state.withLock { $0.joining = true }
                do throws(KafkaError) {
                    let response = try await sendJoin(memberID: memberID, owned: owned, generation: generation)
                    queue += state.withLock { $0.machine.joinCompleted(response) }
                } catch {
                    lastError = error
                    queue += failedRequest(.joinGroup, error)
                }
                state.withLock { $0.joining = false }
            case .computeAssignment(let members, let protocolName):
                do throws(KafkaError) {
                    let plan = try await computeAssignment(members: members, protocolName: protocolName)
                    queue += state.withLock { $0.machine.assignmentComputed(plan) }
                } catch {
                    fail(error)
                    return
                }
            case .sync(let generation, let memberID, let protocolName, let assignments):
                do throws(KafkaError) {
                    let response = try await sendSync(generation: generation, memberID: memberID, protocolName: protocolName, assignments: assignments)
                    let assignment = try? KafkaConsumerAssignment(decoding: response.assignment)
                    queue += state.withLock { state in
                        let actions = state.machine.syncCompleted(errorCode: response.errorCode, assignment: assignment)
                        if state.machine.phase != .syncing { state.assignedPartitionCounts = state.pendingPartitionCounts }
                        return actions
                    }
                } catch {
                    lastError = error
                    queue += failedRequest(.syncGroup, error)
                }
            case .revoke(let partitions):
                await revoke(partitions)
            case .lose(let partitions):
                lose(partitions)
            case .take(let partitions):
                do throws(KafkaError) {
                    try await take(partitions)
                } catch {
                    fail(error)
                    return
                }
            case .backoff(let attempt):
                dropCoordinatorConnection()
                try? await Task.sleep(for: KafkaCluster.backoff(attempt: attempt, base: cluster.configuration.retryBackoff, max: cluster.configuration.retryBackoffMax))
                queue += state.withLock { $0.machine.backoffElapsed() }
            case .fail(let code, let api):
                fail(lastError ?? KafkaError.broker(code, api: api))
                return
            case .leave(let memberID):
                await leaveGroup(memberID)
                return
            }
        }
    }

    /// Hands a failed request to the machine: group error codes as such, the rest by whether
    /// retrying can help.
    private func failedRequest(_ api: KafkaAPIKey, _ error: KafkaError) -> [KafkaGroupMachine.Action] {
        if error.isConnectionFatal || error.code == .timedOut { dropCoordinatorConnection() }
        return state.withLock { $0.machine.requestFailed(api: api, code: error.brokerErrorCode, retriable: error.isRetriable) }
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

    private func dropCoordinatorConnection() {
        let stale = state.withLock { state -> KafkaBrokerConnection? in
            defer { state.coordinatorConnection = nil }
            return state.coordinatorConnection
        }
        stale?.close()
    }

    /// The member's own connection to the group coordinator. Not the client's shared one: the
    /// coordinator holds a JoinGroup until the rebalance completes, and a broker answers one
    /// connection's requests in order, so members sharing a connection would block each other.
    private func coordinatorConnection() async throws(KafkaError) -> KafkaBrokerConnection {
        if let existing = state.withLock({ $0.coordinatorConnection }), existing.isAlive { return existing }
        let (node, address) = try await cluster.findCoordinator(group: configuration.groupID)
        let dedicated = try await KafkaBrokerConnection.open(address, nodeID: node, configuration: cluster.configuration)
        let old = state.withLock { state -> KafkaBrokerConnection? in
            defer { state.coordinatorConnection = dedicated }
            return state.coordinatorConnection
        }
        old?.close()
        cluster.track(dedicated)
        return dedicated
    }

    private func sendJoin(memberID: String, owned: [KafkaTopicPartitions], generation: Int32) async throws(KafkaError) -> JoinGroupResponse {
        let connection = try await coordinatorConnection()
        var protocols: [JoinGroupRequest.JoinGroupRequestProtocol] = []
        let topics = state.withLock { $0.machine.settings.topics }
        for assignor in configuration.assignors {
            let subscription = KafkaConsumerSubscription(topics: topics, ownedPartitions: owned, generationID: generation)
            do throws(WireEncodingError) {
                protocols.append(.init(name: assignor.name, metadata: try subscription.encode()))
            } catch {
                throw KafkaError(.invalidArgument, "cannot encode the subscription: \(error)")
            }
        }
        var request = JoinGroupRequest()
        request.groupID = configuration.groupID
        request.sessionTimeoutMs = configuration.sessionTimeout.kafkaMilliseconds
        request.rebalanceTimeoutMs = configuration.rebalanceTimeout.kafkaMilliseconds
        request.memberID = memberID
        request.protocolType = "consumer"
        request.protocols = protocols
        let version = try connection.version(for: .joinGroup)
        if version >= 5 { request.groupInstanceID = configuration.groupInstanceID }
        // The coordinator may hold a join for up to the rebalance timeout.
        return try await connection.send(request, version: version, timeout: configuration.rebalanceTimeout + .seconds(5))
    }

    private func sendSync(generation: Int32, memberID: String, protocolName: String, assignments: [String: KafkaConsumerAssignment]) async throws(KafkaError) -> SyncGroupResponse {
        let connection = try await coordinatorConnection()
        var request = SyncGroupRequest()
        request.groupID = configuration.groupID
        request.generationID = generation
        request.memberID = memberID
        request.protocolType = "consumer"
        request.protocolName = protocolName
        for (member, assignment) in assignments.sorted(by: { $0.key < $1.key }) {
            do throws(WireEncodingError) {
                request.assignments.append(.init(memberID: member, assignment: try assignment.encode()))
            } catch {
                throw KafkaError(.invalidArgument, "cannot encode an assignment: \(error)")
            }
        }
        let version = try connection.version(for: .syncGroup)
        if version >= 3 { request.groupInstanceID = configuration.groupInstanceID }
        return try await connection.send(request, version: version, timeout: configuration.rebalanceTimeout + .seconds(5))
    }

    private func computeAssignment(members: [KafkaGroupMember], protocolName: String) async throws(KafkaError) -> [String: KafkaConsumerAssignment] {
        guard let assignor = KafkaPartitionAssignor(rawValue: protocolName) else {
            throw KafkaError(.invalidArgument, "the group chose assignor '\(protocolName)', which this client does not implement; offer only range, roundrobin or cooperative-sticky in the group")
        }
        var counts: [String: Int] = [:]
        for topic in Set(members.flatMap(\.subscription.topics)).sorted() {
            if let metadata = try? await cluster.topic(topic, refresh: true) { counts[topic] = metadata.partitionCount }
        }
        state.withLock { $0.pendingPartitionCounts = counts }
        let plan = assignor.assign(members: members, partitionCounts: counts)
        var result: [String: KafkaConsumerAssignment] = [:]
        for member in members { result[member.memberID] = KafkaConsumerAssignment(assignedPartitions: plan[member.memberID] ?? []) }
        return result
    }

    /// Sends a heartbeat and returns what the machine makes of the answer.
    private func heartbeat() async -> [KafkaGroupMachine.Action] {
        do throws(KafkaError) {
            let connection = try await coordinatorConnection()
            var request = HeartbeatRequest()
            request.groupID = configuration.groupID
            let (member, generation) = state.withLock { ($0.machine.memberID, $0.machine.generation) }
            request.memberID = member
            request.generationID = generation
            let version = try connection.version(for: .heartbeat)
            if version >= 3 { request.groupInstanceID = configuration.groupInstanceID }
            let response = try await connection.send(request, version: version)
            return state.withLock { $0.machine.heartbeatCompleted(errorCode: response.errorCode) }
        } catch {
            return failedRequest(.heartbeat, error)
        }
    }

    /// Whether a subscribed topic's partition count differs from the last assignment's (the
    /// leader then starts a rebalance by rejoining).
    private func partitionCountsChanged() async -> Bool {
        let known = state.withLock { $0.assignedPartitionCounts }
        for (topic, count) in known {
            if let metadata = try? await cluster.topic(topic, refresh: true), metadata.partitionCount != count { return true }
        }
        return false
    }

    private func leaveGroup(_ member: String) async {
        guard !member.isEmpty, let connection = try? await coordinatorConnection() else { return }
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

    private func revoke(_ partitions: Set<KafkaTopicPartition>) async {
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
        onRebalance?(.revoked(KafkaTopicPartition.lists(partitions)))
    }

    private func lose(_ partitions: Set<KafkaTopicPartition>) {
        guard !partitions.isEmpty else { return }
        state.withLock { state in
            state.assigned.subtract(partitions)
            for key in partitions { state.processed[key] = nil }
        }
        for key in partitions { consumer.unassign(topic: key.topic, partition: key.partition) }
        onRebalance?(.lost(KafkaTopicPartition.lists(partitions)))
    }

    private func take(_ partitions: Set<KafkaTopicPartition>) async throws(KafkaError) {
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
        onRebalance?(.assigned(KafkaTopicPartition.lists(partitions)))
    }

    // MARK: - Offsets

    private func fetchCommitted(_ partitions: [KafkaTopicPartition]) async throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let deadline = ContinuousClock.now.advanced(by: cluster.configuration.operationTimeout)
        return try await cluster.retrying(until: deadline) { () throws(KafkaError) in
            let connection = try await coordinatorConnection()
            do throws(KafkaError) {
                return try await KafkaCluster.fetchCommitted(group: configuration.groupID, partitions, requireStable: true, through: connection)
            } catch {
                if let code = error.brokerErrorCode, code == .notCoordinator || code == .coordinatorNotAvailable || code == .coordinatorLoadInProgress {
                    state.withLock { $0.coordinatorConnection }?.close()
                }
                throw error
            }
        }
    }

    private func commitProcessed(only: Set<KafkaTopicPartition>?) async throws(KafkaError) {
        // During a join the generation is about to change and the coordinator connection is held
        // by the JoinGroup; processed offsets stay pending and are committed on revoke or later.
        if only == nil && state.withLock({ $0.joining }) { return }
        let (pending, member, generation) = state.withLock { state -> ([KafkaTopicPartition: Int64], String, Int32) in
            var pending: [KafkaTopicPartition: Int64] = [:]
            for (key, offset) in state.processed where (only?.contains(key) ?? true) && state.committed[key] != offset {
                pending[key] = offset
            }
            return (pending, state.machine.memberID, state.machine.generation)
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
        var done: [KafkaTopicPartition: Int64] = [:]
        for topic in response.topics {
            for partition in topic.partitions {
                let key = KafkaTopicPartition(topic: topic.name, partition: partition.partitionIndex)
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
    var machine: KafkaGroupMachine
    var coordinatorConnection: KafkaBrokerConnection?
    var joining = false
    /// Actions from the public API (a subscription change) for the coordination task.
    var injected: [KafkaGroupMachine.Action] = []
    var assigned = Set<KafkaTopicPartition>()
    var processed: [KafkaTopicPartition: Int64] = [:]
    var committed: [KafkaTopicPartition: Int64] = [:]
    var assignedPartitionCounts: [String: Int] = [:]
    var pendingPartitionCounts: [String: Int] = [:]
    var knownTopics = Set<String>()
    var handling: [KafkaTopicPartition: Int] = [:]
    var revoking = Set<KafkaTopicPartition>()
    var failure: KafkaError?
    var closing = false

    /// Records `offset` of an owned partition as processed: offset + 1 is what commits store.
    mutating func markProcessed(_ key: KafkaTopicPartition, offset: Int64) {
        guard assigned.contains(key) else { return }
        processed[key] = max(processed[key] ?? 0, offset + 1)
    }
}
