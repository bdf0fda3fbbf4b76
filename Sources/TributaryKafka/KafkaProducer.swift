#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import TributaryKafkaProtocol
import TributaryTransport
import TributaryWire

/// Where an acknowledged record landed.
public struct KafkaRecordMetadata: Hashable, Sendable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The record's offset; -1 with acks=0 (the broker does not say).
    public var offset: Int64
    /// The create timestamp the record was sent with (milliseconds since the epoch).
    public var timestamp: Int64

    /// `topic [partition] @ offset`, like kcat's delivery report.
    public var description: String { "\(topic) [\(partition)] @ \(offset)" }
}

/// Counters of a producer's work since it was created: the producer machine's counters, with
/// the producer id and epoch in use when idempotent.
public typealias KafkaProducerStatistics = KafkaProducerMachine.Statistics

/// Produces records to Kafka: per-partition batches sent when full or after `linger`,
/// retriable errors retried until the delivery timeout, and (by default, with `acks=all`)
/// idempotent: every batch carries a producer id, an epoch and sequence numbers, so a retry
/// after a lost connection is not stored twice, and up to five batches per partition are in
/// flight with their order kept.
///
/// Two ways to send:
/// - ``send(topic:key:value:headers:partition:timestamp:)`` returns the partition and offset once
///   the broker acknowledged the record, or throws.
/// - ``produce(topic:key:value:headers:partition:timestamp:onDelivery:)`` returns once the record
///   is buffered; `onDelivery` (optional) gets the per-record result on the producer's delivery
///   queue (one serial queue, never an I/O thread). Failures of records without a callback are
///   counted and thrown by the next ``flush()``: none is lost silently.
///
/// Keyed records go to `murmur2(key) % partitions`, the Java client's choice; keyless records
/// stick to one partition per batch (KIP-480).
///
/// The policy (batching, linger, limits, retries, timeouts, producer ids and sequences) is
/// ``KafkaProducerMachine``; this class drives it: one lock around the machine, one sender
/// thread that waits in `poll` until the machine's next deadline, and responses fed back from
/// the connections' I/O threads. Locks nest in one order only: producer, then client metadata
/// or connection (the producer's lock is never taken while holding either).
public final class KafkaProducer: Sendable {
    typealias Machine = KafkaProducerMachine

    /// The producer's settings.
    public let configuration: KafkaProducerConfiguration
    /// Whether batches carry a producer id, epoch and sequence numbers (see
    /// ``KafkaProducerConfiguration/idempotence``).
    public let isIdempotent: Bool
    let client: KafkaClient
    var cluster: KafkaCluster { client.cluster }
    let state: Locked<DriverState>
    let wakeup: WakeupPipe
    let clock = SystemMonotonicClock()
    private let deliveryQueue = DispatchQueue(label: "tributary-kafka-producer-deliveries")

    /// Creates a producer on `client`'s connections and starts its sender thread.
    ///
    /// - Throws: ``KafkaError`` `invalidConfiguration` naming the bad field.
    public init(client: KafkaClient, configuration: KafkaProducerConfiguration = KafkaProducerConfiguration()) throws(KafkaError) {
        try configuration.validate()
        self.client = client
        self.configuration = configuration
        self.isIdempotent = configuration.usesIdempotence
        var settings = Machine.Configuration()
        settings.acks = configuration.acks.rawValue
        settings.linger = configuration.linger
        settings.batchSize = configuration.batchSize
        settings.bufferMemory = configuration.bufferMemory
        settings.maxRequestSize = configuration.maxRequestSize
        settings.deliveryTimeout = configuration.deliveryTimeout
        settings.retryBackoff = client.cluster.configuration.retryBackoff
        settings.retryBackoffMax = client.cluster.configuration.retryBackoffMax
        settings.maxInFlightRequestsPerConnection = configuration.maxInFlightRequestsPerConnection
        settings.idempotent = configuration.usesIdempotence
        settings.compression = configuration.compression
        settings.transactional = configuration.transactionalID != nil
        var driverState = DriverState(machine: Machine(configuration: settings, seed: UInt64.random(in: 0...UInt64.max)))
        if configuration.transactionalID != nil {
            driverState.transaction = KafkaTransactionMachine(retryBackoff: client.cluster.configuration.retryBackoff,
                                                              retryBackoffMax: client.cluster.configuration.retryBackoffMax)
        }
        self.state = Locked(driverState)
        do throws(TransportError) {
            self.wakeup = try WakeupPipe()
        } catch {
            throw KafkaError(.invalidConfiguration, "cannot create the producer's wakeup pipe: \(error)")
        }
        // The sender thread's stack is sized like a default pthread's: it compresses batches.
        guard IOThread.start(stackSize: 8 << 20, { [self] in senderMain() }) else {
            wakeup.close()
            throw KafkaError(.invalidConfiguration, "cannot start the producer's sender thread (the system refused a new thread)")
        }
    }

    deinit { wakeup.close() }

    /// Counters since the producer was created.
    public var statistics: KafkaProducerStatistics { state.withLock { $0.machine.statistics } }

    // MARK: - Public API

    /// Sends one record and waits for the broker's acknowledgement.
    ///
    /// - Parameters:
    ///   - partition: a fixed partition; nil to let the partitioner choose.
    ///   - timestamp: create time in milliseconds since the epoch; nil for now.
    /// - Returns: where the record landed (offset -1 with acks=0, and for a retried batch the
    ///   broker recognised as already written without saying where).
    /// - Throws: ``KafkaError``: the broker's error for the record, `timedOut` after the delivery
    ///   timeout, `bufferFull` when no buffer space freed within `maxBlock`, `invalidArgument` for
    ///   an unknown partition or a record over `maxRequestSize`, `closed`.
    @discardableResult
    nonisolated(nonsending) public func send(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header] = [],
                                             partition: Int32? = nil, timestamp: Int64? = nil) async throws(KafkaError) -> KafkaRecordMetadata {
        let size = KafkaRecordBatchBuilder.estimatedSize(keyCount: key?.count, valueCount: value?.count, headers: headers)
        var deadline: ContinuousClock.Instant?
        while true {
            // nil: not buffered yet (no metadata or no room); wait, then try again.
            let outcome: Result<KafkaRecordMetadata, KafkaError>? = await withCheckedContinuation { continuation in
                do throws(KafkaError) {
                    if try !enqueueIfReady(topic: topic, key: key, value: value, headers: headers, partition: partition, timestamp: timestamp,
                                           size: size, completion: .continuation(continuation)) {
                        continuation.resume(returning: nil)
                    }
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if let outcome { return try outcome.get() }
            try await waitUntilReady(topic: topic, partition: partition, size: size, deadline: &deadline)
        }
    }

    /// Buffers one record for sending and returns; `onDelivery` runs with its result on the
    /// producer's serial delivery queue (keep it short: it delays the next results). Waits only
    /// for topic metadata or buffer space.
    ///
    /// - Throws: ``KafkaError`` when the record cannot be buffered (see ``send(topic:key:value:headers:partition:timestamp:)``).
    ///   Later failures go to `onDelivery`, or, without it, to the next ``flush()``.
    nonisolated(nonsending) public func produce(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header] = [],
                                                partition: Int32? = nil, timestamp: Int64? = nil,
                                                onDelivery: (@Sendable (Result<KafkaRecordMetadata, KafkaError>) -> Void)? = nil) async throws(KafkaError) {
        let completion = onDelivery.map { Completion.callback($0) }
        let size = KafkaRecordBatchBuilder.estimatedSize(keyCount: key?.count, valueCount: value?.count, headers: headers)
        if try enqueueIfReady(topic: topic, key: key, value: value, headers: headers, partition: partition, timestamp: timestamp,
                              size: size, completion: completion) {
            return
        }
        try await produceAfterWaiting(topic: topic, key: key, value: value, headers: headers, partition: partition, timestamp: timestamp,
                                      size: size, completion: completion)
    }

    /// The rest of ``produce(topic:key:value:headers:partition:timestamp:onDelivery:)`` when the
    /// record could not be buffered at once. Kept out of line: its frame (errors, metadata
    /// waits) would otherwise be allocated by every call, also the ones that never wait.
    @inline(never)
    nonisolated(nonsending) private func produceAfterWaiting(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header],
                                                             partition: Int32?, timestamp: Int64?, size: Int, completion: Completion?) async throws(KafkaError) {
        var deadline: ContinuousClock.Instant?
        repeat {
            try await waitUntilReady(topic: topic, partition: partition, size: size, deadline: &deadline)
        } while try !enqueueIfReady(topic: topic, key: key, value: value, headers: headers, partition: partition, timestamp: timestamp,
                                    size: size, completion: completion)
    }

    /// Appends a record without suspending when the topic's metadata is known and the buffer
    /// has room, under one lock. False (nothing done) means the caller must
    /// ``waitUntilReady(topic:partition:size:deadline:)`` and try again.
    private func enqueueIfReady(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header], partition: Int32?, timestamp: Int64?,
                                size: Int, completion: Completion?) throws(KafkaError) -> Bool {
        guard size + 200 <= configuration.maxRequestSize else { return false }
        let keyHash = key.map { KafkaPartitioner.murmur2($0) }
        let timestamp = timestamp ?? Self.wallClockMilliseconds()
        let clock = self.clock
        let (outcome, refusal) = state.withLock { state -> (Machine.AppendOutcome?, KafkaTransactionMachine.Failure?) in
            // A transactional producer takes records only inside an open transaction.
            if let refusal = state.transaction?.appendRefusal { return (nil, refusal) }
            return (state.machine.append(topic: topic, partition: partition, keyHash: keyHash, timestamp: timestamp, key: key, value: value,
                                         headers: headers, size: size, completion: completion, now: { clock.now() }), nil)
        }
        guard let outcome else {
            var error = transactionError(refusal ?? .invalidState("no transaction is open"))
            error.topic = topic
            error.partition = partition
            throw error
        }
        switch outcome {
        case .appended(_, let wakeSender):
            if wakeSender { wakeup.wake() }
            return true
        case .needsMetadata, .noRoom, .unknownPartition:
            return false
        case .closed(let failure):
            if let failure { throw error(for: failure, topic: topic, partition: partition) }
            throw KafkaError(.closed, "the producer is closed", topic: topic)
        case .invalid(let error):
            throw KafkaError(.invalidArgument, "record cannot be encoded: \(error)", topic: topic, partition: partition, underlying: error)
        }
    }

    /// What keeps a record from being buffered: throws when it never can be (too large, unknown
    /// partition, closed, no metadata or no room until `deadline`, which is `maxBlock` from the
    /// first wait); otherwise fetches missing metadata or waits a moment for buffer space.
    @inline(never)
    private func waitUntilReady(topic: String, partition: Int32?, size: Int, deadline: inout ContinuousClock.Instant?) async throws(KafkaError) {
        guard size + 200 <= configuration.maxRequestSize else {
            throw KafkaError(.invalidArgument, "a record of about \(size) bytes exceeds maxRequestSize (\(configuration.maxRequestSize)); raise it (and the broker's message.max.bytes) or send smaller records",
                             topic: topic)
        }
        let now = ContinuousClock.now
        let limit = deadline ?? now.advanced(by: configuration.maxBlock)
        deadline = limit
        let bufferMemory = configuration.bufferMemory
        let (closing, partitionCount, full) = state.withLock { state in
            (state.closing, state.machine.partitionCount(of: topic), !state.machine.hasRoom(for: size))
        }
        if closing { throw KafkaError(.closed, "the producer is closed", topic: topic) }
        guard let partitionCount else {
            // A topic the broker says does not exist: without auto-creation it will not appear by
            // waiting, so the second such answer (the first may predate a fresh creation reaching
            // this broker) ends the wait. With auto-creation the broker is creating it: wait.
            let autoCreate = cluster.configuration.allowAutoTopicCreation
            var unknownAnswers = 0
            let metadata = try await cluster.retrying(until: limit, topic: topic) { () throws(KafkaError) in
                do throws(KafkaError) {
                    return try await cluster.topic(topic)
                } catch {
                    guard !autoCreate, error.brokerErrorCode == .unknownTopicOrPartition else { throw error }
                    unknownAnswers += 1
                    guard unknownAnswers >= 2 else { throw error }
                    var settled = KafkaError(.brokerError, "topic '\(topic)' does not exist (UNKNOWN_TOPIC_OR_PARTITION in \(unknownAnswers) metadata answers) and this client does not ask the broker to create topics; create it first (KafkaClient.createTopic) or set KafkaClientConfiguration.allowAutoTopicCreation = true to let a broker that allows auto-creation create it",
                                             brokerErrorCode: .unknownTopicOrPartition, broker: error.broker, api: .metadata, topic: topic)
                    settled.isSettled = true
                    throw settled
                }
            }
            let leaders = Self.leaders(of: metadata)
            state.withLock { $0.machine.metadataUpdated(topic: topic, leaders: leaders) }
            return
        }
        guard partitionCount > 0 else {
            throw KafkaError(.invalidArgument, "topic '\(topic)' has no partitions", topic: topic)
        }
        if let partition, !(0..<Int32(partitionCount)).contains(partition) {
            throw KafkaError(.invalidArgument, "topic '\(topic)' has no partition \(partition) (it has \(partitionCount)); use 0..<\(partitionCount) or nil for the partitioner",
                             topic: topic, partition: partition)
        }
        if full {
            if now >= limit {
                throw KafkaError(.bufferFull, "the producer's buffer (bufferMemory \(bufferMemory) bytes) stayed full for maxBlock (\(configuration.maxBlock)); the brokers are slower than the producer or unreachable",
                                 topic: topic)
            }
            await waitForSpace(size: size, until: clock.now().advanced(by: limit - now))
        }
    }

    /// Waits (suspended, no polling) until the sender loop sees room for `size` bytes, the
    /// producer closes, or `deadline` passes; the caller then tries again.
    private func waitForSpace(size: Int, until deadline: MonotonicInstant) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // Checked under the lock the sender resumes waiters under: room that appeared since
            // the caller's try is seen here, and room that appears later finds the waiter.
            let ready = state.withLock { state -> Bool in
                if state.closing || state.stopped || state.machine.hasRoom(for: size) { return true }
                state.spaceWaiters.append(SpaceWaiter(size: size, deadline: deadline, continuation: continuation))
                return false
            }
            if ready { continuation.resume() } else { wakeup.wake() }
        }
    }

    /// Sends every buffered record now and waits until each has succeeded or failed.
    ///
    /// - Throws: ``KafkaError`` for the first failure, since the last flush, of a record produced
    ///   without a delivery callback, with the count of such failures.
    public func flush() async throws(KafkaError) {
        await waitUntilIdle()
        // Callbacks of the records just finished run before flush returns.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            deliveryQueue.async { continuation.resume() }
        }
        let unreported = state.withLock { state -> (Int, KafkaError?) in
            defer { state.unreportedFailures = 0; state.firstUnreportedError = nil }
            return (state.unreportedFailures, state.firstUnreportedError)
        }
        if unreported.0 > 0, var error = unreported.1 {
            error.message = "\(unreported.0) record(s) produced without a delivery callback failed; the first: \(error.message)"
            throw error
        }
    }

    /// Waits until every record appended so far succeeded or failed (buffered batches are sent
    /// without waiting for linger meanwhile).
    func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.machine.isIdle { return true }
                state.flushWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() } else { wakeup.wake() }
        }
    }

    /// Delivers what is buffered (up to the delivery timeout), then stops the sender. Idempotent.
    ///
    /// - Throws: what ``flush()`` throws.
    public func close() async throws(KafkaError) {
        let first = state.withLock { state -> Bool in
            defer {
                state.closing = true
                state.machine.closeRequested()
            }
            return !state.closing
        }
        guard first else { return }
        defer {
            let actions = state.withLock { state in
                state.stopped = true
                return state.machine.stopped()
            }
            perform(actions)
            wakeup.wake()
        }
        try await flush()
    }

    // MARK: - Buffering

    static func wallClockMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    static func leaders(of metadata: KafkaTopicMetadata) -> [Int32] {
        var leaders = [Int32](repeating: -1, count: metadata.partitionCount)
        for partition in metadata.partitions where partition.partition >= 0 && Int(partition.partition) < leaders.count {
            leaders[Int(partition.partition)] = partition.leader
        }
        return leaders
    }

    // MARK: - Sender thread

    private func senderMain() {
        while true {
            let now = clock.now()
            let (actions, transactionEffects, deadline, stop, ready) = state.withLock { state in
                state.machine.draining = state.closing || !state.flushWaiters.isEmpty
                let actions = state.machine.poll(now: now)
                // Batches of partitions not yet in the open transaction wait for AddPartitionsToTxn.
                var effects = TransactionEffects()
                if state.transaction != nil {
                    let needed = state.machine.partitionsAwaitingTransaction
                    if !needed.isEmpty { effects = state.apply(state.transaction!.partitionsNeeded(needed)) }
                }
                let stop = state.stopped && state.machine.isIdle
                let (ready, waiterDeadline) = state.takeSpaceWaiters(now: now, all: stop)
                var deadline = state.machine.nextDeadline(now: now)
                if let waiterDeadline { deadline = deadline.map { min($0, waiterDeadline) } ?? waiterDeadline }
                return (actions, effects, deadline, stop, ready)
            }
            perform(actions)
            execute(transactionEffects)
            for waiter in ready { waiter.resume() }
            if stop { break }
            var wait = Duration.milliseconds(100)
            if let deadline { wait = min(wait, deadline.duration(since: clock.now())) }
            var pfd = pollfd(fd: wakeup.readFD, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, wait.pollMilliseconds) > 0 { wakeup.drain() }
        }
    }

    /// Feeds an event to the machine under the lock, then performs its actions outside it.
    func report(_ event: (inout DriverState) -> [Machine.Action]) {
        let actions = state.withLock { event(&$0) }
        perform(actions)
        wakeup.wake()
    }

    func perform(_ actions: [Machine.Action]) {
        for action in actions {
            switch action {
            case .send(let plan): send(plan)
            case .finish(let outcomes): finish(outcomes)
            case .refreshMetadata(let topic): startRefresh(topic)
            case .connect(let broker): startConnect(broker)
            case .initProducerID(let current): startInitProducerID(current: current)
            }
        }
    }

    private func startRefresh(_ topic: String) {
        Task { [self] in
            do throws(KafkaError) {
                let metadata = try await cluster.topic(topic, refresh: true)
                let leaders = Self.leaders(of: metadata)
                report { state in
                    state.machine.metadataUpdated(topic: topic, leaders: leaders)
                    return []
                }
            } catch {
                try? await Task.sleep(for: cluster.configuration.retryBackoff)
                report { state in
                    state.machine.metadataFailed(topic: topic)
                    return []
                }
            }
        }
    }

    private func startConnect(_ node: Int32) {
        Task { [self] in
            do throws(KafkaError) {
                _ = try await cluster.connection(to: node)
                report { state in
                    state.machine.connected(broker: node)
                    return []
                }
            } catch {
                // Batches for this broker stay queued; their topics' leaders are looked up again.
                try? await Task.sleep(for: cluster.configuration.retryBackoff)
                report { state in
                    state.machine.connectFailed(broker: node)
                    return []
                }
            }
        }
    }

    /// Asks any broker for a producer id (or, with `current`, for that id's epoch bumped).
    private func startInitProducerID(current: Machine.ProducerIdentity?) {
        Task { [self] in
            do throws(KafkaError) {
                let (connection, _) = try await cluster.anyConnection()
                let version: Int16
                do throws(KafkaError) {
                    version = try connection.version(for: .initProducerID)
                } catch {
                    var unsupported = error
                    unsupported.message = "the broker does not offer InitProducerId, so the producer cannot be idempotent (\(error.message)); set KafkaProducerConfiguration.idempotence = .disabled for this broker"
                    throw unsupported
                }
                var request = InitProducerIdRequest(transactionalID: nil, transactionTimeoutMs: 60_000)
                if let current {
                    // The epoch bump needs version 3 (KIP-360); older brokers get a new id instead.
                    guard version >= 3 else {
                        report { state in
                            state.machine.producerIDFailed(code: nil, retriable: false, detail: "InitProducerId v\(version) cannot bump an epoch", now: clock.now())
                        }
                        return
                    }
                    request.producerID = current.id
                    request.producerEpoch = current.epoch
                }
                let response = try await connection.send(request, version: version)
                let code = KafkaErrorCode(rawValue: response.errorCode)
                if code.isError {
                    let detail = KafkaError.broker(code, api: .initProducerID, broker: connection.endpoint).message
                    report { state in state.machine.producerIDFailed(code: code, retriable: code.isRetriable, detail: detail, now: clock.now()) }
                } else if response.producerID < 0 {
                    report { state in
                        state.machine.producerIDFailed(code: nil, retriable: false, detail: "InitProducerId v\(version) granted no producer id (\(response.producerID)); set KafkaProducerConfiguration.idempotence = .disabled for this broker", now: clock.now())
                    }
                } else {
                    let identity = Machine.ProducerIdentity(id: response.producerID, epoch: response.producerEpoch)
                    report { state in state.machine.producerIDGranted(identity) }
                }
            } catch {
                if error.isRetriable { try? await Task.sleep(for: cluster.configuration.retryBackoff) }
                report { state in state.machine.producerIDFailed(code: nil, retriable: error.isRetriable, detail: error.description, now: clock.now()) }
            }
        }
    }

    private static func failureKind(_ error: KafkaError) -> Machine.RequestFailureKind {
        let written = error.code == .connectionLost || error.code == .timedOut
        return Machine.RequestFailureKind(retriable: error.isRetriable, ambiguous: written,
                                          connectionLost: error.isConnectionFatal || error.code == .timedOut)
    }

    private func send(_ plan: Machine.ProduceRequestPlan) {
        guard let connection = cluster.existingConnection(to: plan.broker) else {
            let error = KafkaError(.connectionLost, "the connection to broker \(plan.broker) closed before the request was sent")
            report { state in
                state.machine.requestFailed(id: plan.id, failure: error, kind: .init(retriable: true, ambiguous: false, connectionLost: true), now: clock.now())
            }
            return
        }
        var request = ProduceRequest()
        // Transactional batches name their transactional id (KIP-98).
        request.transactionalID = configuration.transactionalID
        request.acks = configuration.acks.rawValue
        request.timeoutMs = (configuration.requestTimeout ?? cluster.configuration.requestTimeout).kafkaMilliseconds
        var byTopic: [String: [ProduceRequest.TopicProduceData.PartitionProduceData]] = [:]
        for batch in plan.batches {
            do throws(KafkaRecordError) {
                let bytes = try batch.builder.build()
                byTopic[batch.partition.topic, default: []].append(.init(index: batch.partition.partition, records: bytes))
            } catch {
                let failure = KafkaError(.invalidArgument, "a batch of this request cannot be encoded (\(batch.partition)): \(error)", underlying: error)
                report { state in
                    state.machine.requestFailed(id: plan.id, failure: failure, kind: .init(retriable: false, ambiguous: false, connectionLost: false), now: clock.now())
                }
                return
            }
        }
        request.topicData = byTopic.sorted { $0.key < $1.key }.map { ProduceRequest.TopicProduceData(name: $0.key, partitionData: $0.value) }
        let version: Int16
        do throws(KafkaError) {
            version = try connection.version(for: .produce)
        } catch {
            report { state in
                state.machine.requestFailed(id: plan.id, failure: error, kind: .init(retriable: false, ambiguous: false, connectionLost: false), now: clock.now())
            }
            return
        }
        if configuration.acks == .none {
            do throws(KafkaError) {
                try connection.sendWithoutResponse(request, version: version)
                report { state in state.machine.requestWritten(id: plan.id) }
            } catch {
                report { state in state.machine.requestFailed(id: plan.id, failure: error, kind: Self.failureKind(error), now: clock.now()) }
            }
            return
        }
        connection.send(request, version: version) { [self] response in
            switch response {
            case .failure(let error):
                report { state in state.machine.requestFailed(id: plan.id, failure: error, kind: Self.failureKind(error), now: clock.now()) }
            case .success(let body):
                var results: [KafkaTopicPartition: Machine.PartitionResponse] = [:]
                for topic in body.responses {
                    for entry in topic.partitionResponses {
                        results[KafkaTopicPartition(topic: topic.name, partition: entry.index)] =
                            Machine.PartitionResponse(errorCode: KafkaErrorCode(rawValue: entry.errorCode), baseOffset: entry.baseOffset, message: entry.errorMessage)
                    }
                }
                report { state in state.machine.responseReceived(id: plan.id, results: results, now: clock.now()) }
            }
        }
    }

    // MARK: - Completing records

    private func error(for failure: Machine.Failure, topic: String, partition: Int32?) -> KafkaError {
        switch failure {
        case .deliveryTimeout(let attempts):
            return KafkaError(.timedOut, "the record was not acknowledged within deliveryTimeout (\(configuration.deliveryTimeout)), after \(attempts) failed attempt(s); the brokers are unreachable or too slow",
                              topic: topic, partition: partition)
        case .closed:
            return KafkaError(.closed, "the producer closed before the record was sent", topic: topic, partition: partition)
        case .broker(let code, let message):
            return .broker(code, api: .produce, topic: topic, partition: partition, serverMessage: message)
        case .request(let underlying):
            guard var error = underlying as? KafkaError else {
                return KafkaError(.connectionLost, "\(underlying)", topic: topic, partition: partition, underlying: underlying)
            }
            error.topic = topic
            error.partition = partition
            return error
        case .missingPartitionInResponse:
            return KafkaError(.protocolError, "the Produce response has no entry for this partition", api: .produce, topic: topic, partition: partition)
        case .producerIdentity(let code, let detail):
            return KafkaError(code == nil ? .invalidConfiguration : .brokerError,
                              "the idempotent producer stopped: it could not get a producer id: \(detail)",
                              brokerErrorCode: code, api: .initProducerID, topic: topic, partition: partition)
        case .transaction(let failure):
            var error = transactionError(failure)
            error.topic = topic
            error.partition = partition
            return error
        }
    }

    private func finish(_ outcomes: [Machine.BatchOutcome]) {
        var callbacks: [(@Sendable (Result<KafkaRecordMetadata, KafkaError>) -> Void, Result<KafkaRecordMetadata, KafkaError>)] = []
        var unreported = 0
        var firstError: KafkaError?
        // The first failure of a record of the open transaction (not one the transaction itself
        // dropped): the transaction can no longer commit.
        var transactionFailure: (code: KafkaErrorCode?, detail: String)?
        for outcome in outcomes {
            let key = outcome.partition
            switch outcome.result {
            case .success(let baseOffset):
                for delivery in outcome.deliveries {
                    let offset = baseOffset >= 0 ? baseOffset + Int64(delivery.index) : -1
                    let result = Result<KafkaRecordMetadata, KafkaError>.success(
                        KafkaRecordMetadata(topic: key.topic, partition: key.partition, offset: offset, timestamp: delivery.timestamp))
                    switch delivery.completion as? Completion {
                    case .continuation(let continuation)?: continuation.resume(returning: result)
                    case .callback(let callback)?: callbacks.append((callback, result))
                    case nil: break
                    }
                }
            case .failure(let failure):
                let error = error(for: failure, topic: key.topic, partition: key.partition)
                if transactionFailure == nil {
                    if case .transaction = failure {} else { transactionFailure = (error.brokerErrorCode, error.message) }
                }
                for delivery in outcome.deliveries {
                    switch delivery.completion as? Completion {
                    case .continuation(let continuation)?: continuation.resume(returning: .failure(error))
                    case .callback(let callback)?: callbacks.append((callback, .failure(error)))
                    case nil: break
                    }
                }
                if outcome.unreportedCount > 0 {
                    unreported += outcome.unreportedCount
                    if firstError == nil { firstError = error }
                }
            }
        }
        if !callbacks.isEmpty {
            // User code never runs on an I/O thread or the sender: one serial queue, in order.
            deliveryQueue.async { [callbacks] in
                for (callback, result) in callbacks { callback(result) }
            }
        }
        let (waiters, effects) = state.withLock { state -> ([CheckedContinuation<Void, Never>], TransactionEffects) in
            if unreported > 0 {
                state.unreportedFailures += unreported
                if state.firstUnreportedError == nil { state.firstUnreportedError = firstError }
            }
            var effects = TransactionEffects()
            if let transactionFailure, state.transaction != nil {
                effects = state.apply(state.transaction!.recordFailed(code: transactionFailure.code, detail: transactionFailure.detail))
            }
            guard state.machine.isIdle else { return ([], effects) }
            defer { state.flushWaiters.removeAll() }
            return (state.flushWaiters, effects)
        }
        execute(effects)
        for waiter in waiters { waiter.resume() }
    }
}

// MARK: - State

/// Boxed (`indirect`): an optional completion is then one reference, copied and destroyed
/// inline on the append path, where the two-payload form went through the runtime's generic
/// enum-tag functions for every record.
indirect enum Completion: Sendable {
    case callback(@Sendable (Result<KafkaRecordMetadata, KafkaError>) -> Void)
    case continuation(CheckedContinuation<Result<KafkaRecordMetadata, KafkaError>?, Never>)
}

struct DriverState: Sendable {
    var machine: KafkaProducer.Machine
    /// The transaction state, for a producer with a transactional id.
    var transaction: KafkaTransactionMachine?
    /// The transaction coordinator's node id, once found.
    var transactionCoordinator: Int32?
    /// When each transaction request that is being retried was first sent.
    var transactionRetriesSince: [KafkaTransactionMachine.Request: ContinuousClock.Instant] = [:]
    /// The caller waiting for the running transaction operation.
    var transactionWaiter: CheckedContinuation<Result<Void, KafkaTransactionMachine.Failure>, Never>?
    var flushWaiters: [CheckedContinuation<Void, Never>] = []
    /// Callers waiting for buffer space (`send`/`produce` on a full buffer); the sender loop
    /// resumes them when there is room for them, at their deadline, or when the producer stops.
    var spaceWaiters: [SpaceWaiter] = []
    var unreportedFailures = 0
    var firstUnreportedError: KafkaError?
    var closing = false
    var stopped = false
}

/// A caller waiting for `size` bytes of buffer space until `deadline`.
struct SpaceWaiter: Sendable {
    let size: Int
    let deadline: MonotonicInstant
    let continuation: CheckedContinuation<Void, Never>
}

extension DriverState {
    /// Takes the space waiters that have room now, whose deadline passed, or all of them (the
    /// producer stopped); returns them with the earliest deadline of those left.
    mutating func takeSpaceWaiters(now: MonotonicInstant, all: Bool) -> ([CheckedContinuation<Void, Never>], MonotonicInstant?) {
        guard !spaceWaiters.isEmpty else { return ([], nil) }
        var ready: [CheckedContinuation<Void, Never>] = []
        var left: [SpaceWaiter] = []
        var earliest: MonotonicInstant?
        for waiter in spaceWaiters {
            if all || closing || now >= waiter.deadline || machine.hasRoom(for: waiter.size) {
                ready.append(waiter.continuation)
            } else {
                left.append(waiter)
                earliest = earliest.map { min($0, waiter.deadline) } ?? waiter.deadline
            }
        }
        spaceWaiters = left
        return (ready, earliest)
    }
}

extension KafkaClient {
    /// A producer sharing this client's connections and metadata.
    ///
    /// - Throws: ``KafkaError`` `invalidConfiguration` naming the bad field.
    public func makeProducer(_ configuration: KafkaProducerConfiguration = KafkaProducerConfiguration()) throws(KafkaError) -> KafkaProducer {
        try KafkaProducer(client: self, configuration: configuration)
    }
}
