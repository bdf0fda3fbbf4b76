import TributaryKafkaProtocol
import TributaryWire

/// A change of a member's partitions, handed to the rebalance callback.
public enum KafkaRebalanceEvent: Sendable, Hashable, CustomStringConvertible {
    /// These partitions were assigned to this member; reading starts at their committed offsets.
    case assigned([KafkaTopicPartitions])
    /// These partitions are being taken away; their processed offsets were committed first.
    case revoked([KafkaTopicPartitions])
    /// These partitions were lost without a clean handover (the member was removed from the
    /// group); nothing could be committed for them.
    case lost([KafkaTopicPartitions])

    /// `assigned orders [0, 1], payments [2]` (likewise `revoked`, `lost`).
    public var description: String {
        let (word, lists): (String, [KafkaTopicPartitions]) = switch self {
        case .assigned(let lists): ("assigned", lists)
        case .revoked(let lists): ("revoked", lists)
        case .lost(let lists): ("lost", lists)
        }
        return lists.isEmpty ? "\(word) nothing" : "\(word) " + lists.map(\.description).joined(separator: ", ")
    }
}

/// A member of a Kafka consumer group: joins through the group coordinator, gets partitions from
/// the elected leader's assignor, reads them from their committed offsets, commits what was
/// processed, and rejoins on every rebalance the coordinator announces.
///
/// Two ways to read:
/// - ``run(concurrency:retry:deadLetter:eachRecord:)`` calls a handler per record (or, with
///   `eachBatch:`, per fetched batch of a partition), in order per partition, and commits an
///   offset only after the handler returned for it (at-least-once). Transient failures are
///   retried until a deadline, poison ones a few times; then the record follows the dead-letter
///   policy you chose. Cancelling the task stops the loop.
/// - ``poll(maxRecords:timeout:)`` returns records; ``markProcessed(_:)`` and ``commit()`` commit.
public final class KafkaGroupConsumer: Sendable {
    /// The member's settings.
    public let configuration: KafkaGroupConsumerConfiguration
    private let client: KafkaClient
    private var cluster: KafkaCluster { client.cluster }
    private let consumer: KafkaConsumer
    private let state: Locked<GroupState>
    /// Where the membership machine's time comes from.
    private let clock = SystemMonotonicClock()
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
        let settings = KafkaGroupMachine.Settings(topics: configuration.topics, assignors: configuration.assignors,
                                                  groupInstanceID: configuration.groupInstanceID,
                                                  heartbeatInterval: configuration.heartbeatInterval,
                                                  autoCommitInterval: configuration.enableAutoCommit ? configuration.autoCommitInterval : nil)
        self.state = Locked(GroupState(machine: KafkaGroupMachine(settings: settings)))
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
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.injected += state.machine.subscriptionChanged(topics: topics)
            return state.injected.isEmpty ? nil : state.takeWakeup()
        }
        waiter?.resume()
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
        let (first, actions, waiter) = state.withLock { state -> (Bool, [KafkaGroupMachine.Action], CheckedContinuation<Void, Never>?) in
            guard !state.closing else { return (false, [], nil) }
            state.closing = true
            return (true, state.machine.closeRequested(), state.takeWakeup())
        }
        guard first else { return }
        // The coordination task, if waiting for its next deadline, ends now.
        waiter?.resume()
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

    /// Processes records until ``close()`` is called, the calling task is cancelled or a fatal
    /// error happens: `eachRecord` runs per record, in offset order within a partition, up to
    /// `concurrency` partitions at once. An offset is committed only after its handler returned
    /// (at-least-once).
    ///
    /// Failures follow `retry` by kind (``KafkaFailureKind``): transient ones are retried until
    /// ``KafkaRetryPolicy/transientTimeout``, poison ones ``KafkaRetryPolicy/attempts`` times;
    /// then the record follows `deadLetter` (default ``KafkaDeadLetterPolicy/none``: the run ends
    /// with an error naming the record, which stays uncommitted).
    ///
    /// Cancelling the task stops the loop: no new handler starts, running handlers see the
    /// cancellation and finish or throw, what was processed is committed, unprocessed records are
    /// fetched again by the next run (or the partition's next owner), and `run` returns.
    /// Cancellation is never a handler failure and never dead-letters.
    ///
    /// - Throws: ``KafkaError``: the group's fatal error, a record given up on with
    ///   ``KafkaDeadLetterPolicy/none``, or a dead letter that could not be sent.
    public func run(concurrency: Int = 1, retry: KafkaRetryPolicy = KafkaRetryPolicy(), deadLetter: KafkaDeadLetterPolicy = .none,
                    eachRecord: @escaping @Sendable (KafkaConsumerRecord) async throws -> Void) async throws(KafkaError) {
        try await runLoop(concurrency: concurrency, retry: retry, deadLetter: deadLetter, handler: .record { record, _ in try await eachRecord(record) })
    }

    /// ``run(concurrency:retry:deadLetter:eachRecord:)`` with a handler that also gets the
    /// call's ``KafkaHandlerContext`` (the attempt number and the previous failure).
    public func run(concurrency: Int = 1, retry: KafkaRetryPolicy = KafkaRetryPolicy(), deadLetter: KafkaDeadLetterPolicy = .none,
                    eachRecord: @escaping @Sendable (KafkaConsumerRecord, KafkaHandlerContext) async throws -> Void) async throws(KafkaError) {
        try await runLoop(concurrency: concurrency, retry: retry, deadLetter: deadLetter, handler: .record(eachRecord))
    }

    /// Like ``run(concurrency:retry:deadLetter:eachRecord:)``, but `eachBatch` gets all records of
    /// a partition from one fetch at once (like kafkajs's `eachBatch`), so that a handler can
    /// confirm downstream once per batch. It resolves records with
    /// ``KafkaPartitionBatch/resolve(through:)`` as it confirms them; returning normally resolves the
    /// whole batch. After a throw, the unresolved records are offered again under `retry`; a
    /// record given up on is the first unresolved one, and follows `deadLetter`.
    ///
    /// - Throws: as ``run(concurrency:retry:deadLetter:eachRecord:)``.
    public func run(concurrency: Int = 1, retry: KafkaRetryPolicy = KafkaRetryPolicy(), deadLetter: KafkaDeadLetterPolicy = .none,
                    eachBatch: @escaping @Sendable (KafkaPartitionBatch) async throws -> Void) async throws(KafkaError) {
        try await runLoop(concurrency: concurrency, retry: retry, deadLetter: deadLetter, handler: .batch(eachBatch))
    }

    /// Dead letters sent by this member's run loop so far, by reason.
    public var deadLetterCounts: KafkaDeadLetterCounts { state.withLock { $0.deadLetterCounts } }

    private enum Handler: Sendable {
        case record(@Sendable (KafkaConsumerRecord, KafkaHandlerContext) async throws -> Void)
        case batch(@Sendable (KafkaPartitionBatch) async throws -> Void)
    }

    /// How processing one partition's records ended.
    private enum PartitionOutcome: Sendable {
        /// Everything handled (or the partition is no longer ours).
        case done
        /// Cancelled; fetching must resume at `resumeAt`.
        case stopped(KafkaTopicPartition, resumeAt: Int64)
        /// The run must end with `error`; fetching must resume at `resumeAt`.
        case failed(KafkaError, KafkaTopicPartition, resumeAt: Int64)
    }

    private func runLoop(concurrency: Int, retry: KafkaRetryPolicy, deadLetter: KafkaDeadLetterPolicy, handler: Handler) async throws(KafkaError) {
        var producer: KafkaProducer?
        defer { if let producer { Task { try? await producer.close() } } }
        while !state.withLock({ $0.closing }) && !Task.isCancelled {
            let records: [KafkaConsumerRecord]
            do throws(KafkaError) {
                records = try await poll(maxRecords: 1000, timeout: .milliseconds(200))
            } catch {
                if Task.isCancelled { break }
                throw error
            }
            if records.isEmpty { continue }
            var byPartition: [KafkaTopicPartition: [KafkaConsumerRecord]] = [:]
            var order: [KafkaTopicPartition] = []
            for record in records {
                let key = KafkaTopicPartition(topic: record.topic, partition: record.partition)
                if byPartition[key] == nil { order.append(key) }
                byPartition[key, default: []].append(record)
            }
            if deadLetter.topic(forRecordsOf: order[0].topic) != nil && producer == nil {
                var settings = KafkaProducerConfiguration()
                settings.acks = .all
                settings.linger = .zero
                producer = try client.makeProducer(settings)
            }
            let dlqProducer = producer
            let outcomes: [PartitionOutcome] = await withTaskGroup(of: PartitionOutcome.self) { group in
                var running = 0
                var outcomes: [PartitionOutcome] = []
                for key in order {
                    if running >= max(1, concurrency), let outcome = await group.next() {
                        outcomes.append(outcome)
                        running -= 1
                    }
                    let batch = byPartition[key] ?? []
                    group.addTask {
                        await self.process(batch, key: key, retry: retry, deadLetter: deadLetter, producer: dlqProducer, handler: handler)
                    }
                    running += 1
                }
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            var failure: KafkaError?
            var stopped = false
            for outcome in outcomes {
                switch outcome {
                case .done: break
                case .stopped(let key, let offset):
                    stopped = true
                    await rewind(key, to: offset)
                case .failed(let error, let key, let offset):
                    failure = failure ?? error
                    await rewind(key, to: offset)
                }
            }
            // Commit what was processed, shielded from the caller's cancellation: a cancelled
            // run still stores its progress.
            let commit = await Task { () -> KafkaError? in
                do throws(KafkaError) {
                    try await self.commitProcessed(only: nil)
                    return nil
                } catch {
                    return error
                }
            }.value
            if let failure { throw failure }
            if stopped || Task.isCancelled { return }
            if let commit {
                if state.withLock({ $0.closing }) { return }
                // A rebalance moved the partitions on; the records will be processed again by
                // their new owner from the last commit (at-least-once). Not fatal.
                guard commit.isRetriable || commit.brokerErrorCode == .illegalGeneration || commit.brokerErrorCode == .unknownMemberID
                        || commit.brokerErrorCode == .rebalanceInProgress else { throw commit }
            }
        }
    }

    /// Moves the fetch position of a partition back to its first unprocessed record, so that the
    /// next run (or poll) gets the records this one fetched but did not process.
    private func rewind(_ key: KafkaTopicPartition, to offset: Int64) async {
        guard isOwned(topic: key.topic, partition: key.partition) || state.withLock({ $0.assigned.contains(key) }) else { return }
        await Task { try? await self.consumer.seek(topic: key.topic, partition: key.partition, to: .offset(offset)) }.value
    }

    /// Whether a partition is assigned here, not being revoked, and the member is not closing.
    func isOwned(topic: String, partition: Int32) -> Bool {
        let key = KafkaTopicPartition(topic: topic, partition: partition)
        return state.withLock { $0.assigned.contains(key) && !$0.revoking.contains(key) && !$0.closing }
    }

    /// Marks `offset` of a partition processed (for batch handlers).
    func markProcessed(topic: String, partition: Int32, offset: Int64) {
        let key = KafkaTopicPartition(topic: topic, partition: partition)
        state.withLock { $0.markProcessed(key, offset: offset) }
    }

    /// Handles one partition's records in order, with retries; gives up on a record by the
    /// dead-letter policy.
    private func process(_ records: [KafkaConsumerRecord], key: KafkaTopicPartition, retry: KafkaRetryPolicy, deadLetter: KafkaDeadLetterPolicy,
                         producer: KafkaProducer?, handler: Handler) async -> PartitionOutcome {
        var remaining = records[...]
        var tracker = KafkaRetryTracker(policy: retry)
        while let first = remaining.first {
            if Task.isCancelled { return .stopped(key, resumeAt: first.offset) }
            // A partition revoked meanwhile is someone else's now. Counted while the handler runs,
            // so that a revocation waits for it and commits its offset before handing over.
            guard state.withLock({ state -> Bool in
                guard state.assigned.contains(key) && !state.revoking.contains(key) && !state.closing else { return false }
                state.handling[key, default: 0] += 1
                return true
            }) else { return .done }
            let context = KafkaHandlerContext(attempt: tracker.nextAttempt, previousFailure: tracker.lastFailure, previousFailureKind: tracker.lastKind)
            var failure: (any Error)?
            switch handler {
            case .record(let body):
                do {
                    try await body(first, context)
                    state.withLock { $0.markProcessed(key, offset: first.offset) }
                } catch {
                    failure = error
                }
            case .batch(let body):
                let batch = KafkaPartitionBatch(topic: key.topic, partition: key.partition, records: Array(remaining), context: context, owner: self)
                do {
                    try await body(batch)
                    batch.resolve(through: batch.lastOffset)
                } catch {
                    failure = error
                }
            }
            let (processed, idle) = state.withLock { state -> (Int64?, [CheckedContinuation<Void, Never>]) in
                state.handling[key, default: 1] -= 1
                return (state.processed[key], state.takeIdleWaiters())
            }
            for waiter in idle { waiter.resume() }
            let before = remaining.first?.offset
            if let processed { remaining = remaining.drop { $0.offset < processed } }
            guard let failure else {
                tracker = KafkaRetryTracker(policy: retry)
                continue
            }
            guard let next = remaining.first else { continue }
            // Progress before the failure (a batch resolved part of itself): the retry count
            // belongs to the first unresolved record.
            if next.offset != before { tracker = KafkaRetryTracker(policy: retry) }
            let kind: KafkaFailureKind = Task.isCancelled ? .cancellation : retry.classify(failure)
            switch tracker.failed(failure, kind: kind, at: .now) {
            case .stop:
                return .stopped(key, resumeAt: next.offset)
            case .retry(let wait):
                do {
                    try await Task.sleep(for: wait)
                } catch {
                    return .stopped(key, resumeAt: next.offset)
                }
            case .giveUp(let reason):
                if let error = await deadLetterRecord(next, reason: reason, attempts: tracker.failures, error: failure,
                                                      policy: deadLetter, producer: producer) {
                    return .failed(error, key, resumeAt: next.offset)
                }
                state.withLock { $0.markProcessed(key, offset: next.offset) }
                remaining = remaining.dropFirst()
                tracker = KafkaRetryTracker(policy: retry)
            }
        }
        return .done
    }

    /// Sends a record the loop gave up on to its dead-letter topic and reports it. Returns the
    /// error that ends the run, if any (always one with ``KafkaDeadLetterPolicy/none``).
    private func deadLetterRecord(_ record: KafkaConsumerRecord, reason: KafkaDeadLetterReason, attempts: Int, error: any Error,
                                  policy: KafkaDeadLetterPolicy, producer: KafkaProducer?) async -> KafkaError? {
        let why = reason == .poison ? "the handler rejected it \(attempts) time\(attempts == 1 ? "" : "s")"
            : "transient failures went on for the retry policy's transientTimeout (\(attempts) attempts)"
        guard let target = policy.topic(forRecordsOf: record.topic), let producer else {
            return KafkaError(.invalidArgument, "gave up on \(record): \(why); last error: \(error). No dead-letter topic is set (deadLetter: .none), so the run stops and the record stays uncommitted; fix the cause, or pass deadLetter: .suffix(\".DLQ\") or .topic(\"…\")",
                              topic: record.topic, partition: record.partition, offset: record.offset, underlying: error)
        }
        var headers = record.headers
        headers.append((KafkaDeadLetterPolicy.errorHeader, Array(String(describing: error).utf8)))
        headers.append((KafkaDeadLetterPolicy.reasonHeader, Array(reason.rawValue.utf8)))
        headers.append((KafkaDeadLetterPolicy.attemptsHeader, Array(String(attempts).utf8)))
        headers.append((KafkaDeadLetterPolicy.topicHeader, Array(record.topic.utf8)))
        headers.append((KafkaDeadLetterPolicy.partitionHeader, Array(String(record.partition).utf8)))
        headers.append((KafkaDeadLetterPolicy.offsetHeader, Array(String(record.offset).utf8)))
        do throws(KafkaError) {
            try await ensureTopic(target, like: record.topic)
            try await producer.send(topic: target, key: record.key, value: record.value, headers: headers)
        } catch {
            return KafkaError(error.code, "record \(record) could not be sent to the dead-letter topic '\(target)': \(error.message)",
                              brokerErrorCode: error.brokerErrorCode, topic: target, underlying: error)
        }
        state.withLock { $0.deadLetterCounts.byReason[reason, default: 0] += 1 }
        policy.onDeadLetter?(KafkaDeadLetter(record: record, destination: target, reason: reason, attempts: attempts, error: error))
        return nil
    }

    private func ensureTopic(_ topic: String, like origin: String) async throws(KafkaError) {
        if state.withLock({ $0.knownTopics.contains(topic) }) { return }
        let partitions = (try? await cluster.topic(origin))?.partitionCount ?? 1
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: Int32(max(1, partitions))), ifNotExists: true)
        _ = state.withLock { $0.knownTopics.insert(topic) }
    }

    // MARK: - Coordination

    /// Drives the membership machine: performs each action it returns and reports the outcome.
    /// Between rebalances it waits for the machine's next deadline (heartbeat, background commit,
    /// the leader's partition check), for an action injected by the public API, or for close.
    private func coordinate() async {
        var queue = state.withLock { $0.machine.started() }
        var lastError: KafkaError?
        while true {
            if state.withLock({ $0.closing }) { return }
            queue += state.withLock { state in
                defer { state.injected.removeAll() }
                return state.injected
            }
            if queue.isEmpty {
                let now = clock.now()
                let step = state.withLock { state -> IdleStep in
                    guard state.machine.phase == .stable else { return .stop }
                    guard let deadline = state.machine.nextDeadline, deadline <= now else { return .wait(until: state.machine.nextDeadline) }
                    return .perform(state.machine.timerFired(now: now))
                }
                switch step {
                case .stop:
                    return
                case .wait(let deadline):
                    await waitForWork(until: deadline)
                    continue
                case .perform(let due):
                    queue = due
                    if queue.isEmpty { continue }
                }
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
                        let actions = state.machine.syncCompleted(errorCode: response.errorCode, assignment: assignment, now: clock.now())
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
            case .heartbeat(let memberID, let generation):
                queue += await heartbeat(memberID: memberID, generation: generation)
            case .autoCommit:
                do throws(KafkaError) {
                    try await commitProcessed(only: nil)
                } catch {
                    if let code = error.brokerErrorCode { queue += state.withLock { $0.machine.commitFailed(errorCode: code.rawValue) } }
                }
            case .checkPartitionCounts:
                if await partitionCountsChanged() { queue += state.withLock { $0.machine.rebalanceNeeded() } }
            }
        }
    }

    /// What the coordination task does when it has no action to perform.
    private enum IdleStep {
        /// The member is no longer stable and nothing is queued: the task ends.
        case stop
        /// Nothing is due: wait until the deadline (nil: none), an injected action or close.
        case wait(until: MonotonicInstant?)
        /// A timer job fell due: perform these actions.
        case perform([KafkaGroupMachine.Action])
    }

    /// Suspends the coordination task until `deadline` passes, ``subscribe(to:)`` injects an
    /// action or ``close()`` is called, whichever comes first. The continuation is kept in the
    /// locked state, where the public API takes and resumes it; a timer task resumes it at the
    /// deadline and is cancelled when something else did.
    private func waitForWork(until deadline: MonotonicInstant?) async {
        var timer: Task<Void, Never>?
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let wait = state.withLock { state -> UInt64? in
                if state.closing || !state.injected.isEmpty { return nil }
                state.waits &+= 1
                state.wakeup = (state.waits, continuation)
                return state.waits
            }
            guard let wait else {
                continuation.resume()
                return
            }
            guard let deadline else { return }
            let delay = deadline.duration(since: clock.now())
            timer = Task { [self] in
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return
                }
                // Only this wait's continuation: a later one has a timer of its own.
                let waiter = state.withLock { $0.wakeup?.id == wait ? $0.takeWakeup() : nil }
                waiter?.resume()
            }
        }
        timer?.cancel()
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
        // Two requests (a join and an offset fetch) may have opened one each: the first to
        // finish wins and the other closes its own, never the one in use.
        let (chosen, spare) = state.withLock { state -> (KafkaBrokerConnection, KafkaBrokerConnection?) in
            if let current = state.coordinatorConnection, current.isAlive { return (current, dedicated) }
            defer { state.coordinatorConnection = dedicated }
            return (dedicated, state.coordinatorConnection)
        }
        spare?.close()
        if chosen === dedicated { cluster.track(dedicated) }
        return chosen
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
    private func heartbeat(memberID: String, generation: Int32) async -> [KafkaGroupMachine.Action] {
        do throws(KafkaError) {
            let connection = try await coordinatorConnection()
            var request = HeartbeatRequest()
            request.groupID = configuration.groupID
            request.memberID = memberID
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
        await waitForHandlers(of: partitions, atMost: configuration.rebalanceTimeout)
        try? await commitProcessed(only: partitions)
        state.withLock { state in
            state.assigned.subtract(partitions)
            state.revoking.subtract(partitions)
            for key in partitions { state.processed[key] = nil }
        }
        for key in partitions { consumer.unassign(topic: key.topic, partition: key.partition) }
        onRebalance?(.revoked(KafkaTopicPartition.lists(partitions)))
    }

    /// Suspends until no handler runs for `partitions` (each handler that finishes wakes the
    /// waiters whose partitions are then idle), or `limit` passes.
    private func waitForHandlers(of partitions: Set<KafkaTopicPartition>, atMost limit: Duration) async {
        let id = UInt64.random(in: 0...UInt64.max)
        let timer = Task { [self] in
            try? await Task.sleep(for: limit)
            let waiter = state.withLock { $0.idleWaiters.removeValue(forKey: id)?.continuation }
            waiter?.resume()
        }
        defer { timer.cancel() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                if !partitions.contains(where: { state.handling[$0, default: 0] > 0 }) { return true }
                state.idleWaiters[id] = (partitions, continuation)
                return false
            }
            if idle { continuation.resume() }
        }
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
    /// The coordination task while it waits for its next deadline, an injected action or close,
    /// with the number of its wait (so that an old wait's timer cannot end a newer wait).
    var wakeup: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
    /// Waits started so far.
    var waits: UInt64 = 0
    var assigned = Set<KafkaTopicPartition>()
    var processed: [KafkaTopicPartition: Int64] = [:]
    var committed: [KafkaTopicPartition: Int64] = [:]
    var assignedPartitionCounts: [String: Int] = [:]
    var pendingPartitionCounts: [String: Int] = [:]
    var knownTopics = Set<String>()
    var handling: [KafkaTopicPartition: Int] = [:]
    /// Revocations waiting for the handlers of their partitions to finish.
    var idleWaiters: [UInt64: (partitions: Set<KafkaTopicPartition>, continuation: CheckedContinuation<Void, Never>)] = [:]
    var revoking = Set<KafkaTopicPartition>()
    var failure: KafkaError?
    var closing = false
    var deadLetterCounts = KafkaDeadLetterCounts()

    /// Removes and returns the waiting coordination task, to be resumed after the lock is released.
    mutating func takeWakeup() -> CheckedContinuation<Void, Never>? {
        defer { wakeup = nil }
        return wakeup?.continuation
    }

    /// Removes and returns the waiters none of whose partitions has a handler running.
    mutating func takeIdleWaiters() -> [CheckedContinuation<Void, Never>] {
        guard !idleWaiters.isEmpty else { return [] }
        var ready: [CheckedContinuation<Void, Never>] = []
        for (id, waiter) in idleWaiters where !waiter.partitions.contains(where: { handling[$0, default: 0] > 0 }) {
            ready.append(waiter.continuation)
            idleWaiters[id] = nil
        }
        return ready
    }

    /// Records `offset` of an owned partition as processed: offset + 1 is what commits store.
    mutating func markProcessed(_ key: KafkaTopicPartition, offset: Int64) {
        guard assigned.contains(key) else { return }
        processed[key] = max(processed[key] ?? 0, offset + 1)
    }
}
