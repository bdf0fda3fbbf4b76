import Foundation
import Synchronization
import TributaryKafkaProtocol
import TributaryTransport

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

/// Counters of a producer's work since it was created.
public struct KafkaProducerStatistics: Hashable, Sendable {
    /// Records acknowledged (or written, with acks=0).
    public var deliveredRecords = 0
    /// Records that failed.
    public var failedRecords = 0
    /// Produce requests sent.
    public var requests = 0
    /// Batches sent again after a retriable error.
    public var retriedBatches = 0
    /// Records sent again after a failure that left their fate unknown (the connection broke
    /// or timed out after the request was written): each may be in the log twice, since this
    /// producer is not idempotent.
    public var possiblyDuplicatedRecords = 0
}

/// Produces records to Kafka: per-partition batches sent when full or after `linger`, at most
/// one batch per partition in flight (so records with the same key stay in order, retries
/// included), retriable errors retried until the delivery timeout.
///
/// Two ways to send:
/// - ``send(topic:key:value:headers:partition:timestamp:)`` returns the partition and offset once
///   the broker acknowledged the record, or throws.
/// - ``produce(topic:key:value:headers:partition:timestamp:onDelivery:)`` returns once the record
///   is buffered; `onDelivery` (optional) gets the per-record result. Failures of records without
///   a callback are counted and thrown by the next ``flush()``: none is lost silently.
///
/// Keyed records go to `murmur2(key) % partitions`, the Java client's choice; keyless records
/// stick to one partition per batch (KIP-480).
public final class KafkaProducer: Sendable {
    /// The producer's settings.
    public let configuration: KafkaProducerConfiguration
    private let client: KafkaClient
    private var cluster: KafkaCluster { client.cluster }
    private let state = Mutex(ProducerState())
    private let wakeup: WakeupPipe

    /// Creates a producer on `client`'s connections and starts its sender thread.
    ///
    /// - Throws: ``KafkaError`` `invalidConfiguration` naming the bad field.
    public init(client: KafkaClient, configuration: KafkaProducerConfiguration = KafkaProducerConfiguration()) throws(KafkaError) {
        try configuration.validate()
        self.client = client
        self.configuration = configuration
        do throws(TransportError) {
            self.wakeup = try WakeupPipe()
        } catch {
            throw KafkaError(.invalidConfiguration, "cannot create the producer's wakeup pipe: \(error)")
        }
        let thread = Thread { [self] in senderMain() }
        thread.name = "tributary-kafka-producer"
        thread.start()
    }

    deinit { wakeup.close() }

    /// Counters since the producer was created.
    public var statistics: KafkaProducerStatistics { state.withLock { $0.statistics } }

    // MARK: - Public API

    /// Sends one record and waits for the broker's acknowledgement.
    ///
    /// - Parameters:
    ///   - partition: a fixed partition; nil to let the partitioner choose.
    ///   - timestamp: create time in milliseconds since the epoch; nil for now.
    /// - Returns: where the record landed (offset -1 with acks=0).
    /// - Throws: ``KafkaError``: the broker's error for the record, `timedOut` after the delivery
    ///   timeout, `bufferFull` when no buffer space freed within `maxBlock`, `invalidArgument` for
    ///   an unknown partition or a record over `maxRequestSize`, `closed`.
    @discardableResult
    public func send(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header] = [],
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

    /// Buffers one record for sending and returns; `onDelivery` runs with its result on an
    /// internal thread (keep it short). Waits only for topic metadata or buffer space.
    ///
    /// - Throws: ``KafkaError`` when the record cannot be buffered (see ``send(topic:key:value:headers:partition:timestamp:)``).
    ///   Later failures go to `onDelivery`, or, without it, to the next ``flush()``.
    public func produce(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header] = [],
                        partition: Int32? = nil, timestamp: Int64? = nil,
                        onDelivery: (@Sendable (Result<KafkaRecordMetadata, KafkaError>) -> Void)? = nil) async throws(KafkaError) {
        let completion = onDelivery.map { Completion.callback($0) }
        let size = KafkaRecordBatchBuilder.estimatedSize(keyCount: key?.count, valueCount: value?.count, headers: headers)
        var deadline: ContinuousClock.Instant?
        while try !enqueueIfReady(topic: topic, key: key, value: value, headers: headers, partition: partition, timestamp: timestamp,
                                  size: size, completion: completion) {
            try await waitUntilReady(topic: topic, partition: partition, size: size, deadline: &deadline)
        }
    }

    /// Places and appends a record without suspending when the topic's metadata is cached and
    /// the buffer has room, under one lock. False (nothing done) means the caller must
    /// ``waitUntilReady(topic:partition:size:deadline:)`` and try again.
    private func enqueueIfReady(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header], partition: Int32?, timestamp: Int64?,
                                size: Int, completion: Completion?) throws(KafkaError) -> Bool {
        guard size + 200 <= configuration.maxRequestSize else { return false }
        let keyHash = key.map { KafkaPartitioner.murmur2($0) }
        let timestamp = timestamp ?? Self.wallClockMilliseconds()
        let configuration = self.configuration
        let outcome: Bool? = try state.withLock { (state) throws(KafkaError) -> Bool? in
            guard !state.closing, state.bufferedBytes == 0 || state.bufferedBytes + size <= configuration.bufferMemory else { return nil }
            // One lookup of the topic: partition count, and the sticky choice made in place.
            guard let chosen = state.topics[topic]?.place(partition: partition, keyHash: keyHash) else { return nil }
            let target = KafkaTopicPartition(topic: topic, partition: chosen)
            let sticky = partition == nil && keyHash == nil
            // One dictionary access for the queue: it is modified in place.
            var sealedForRoom = false
            defer { if sticky && sealedForRoom { state.topics[topic]?.stickyBatchCompleted() } }
            do throws(KafkaRecordError) {
                let signal = try state.queues[target, default: PartitionQueue()].append(
                    timestamp: timestamp, key: key, value: value, headers: headers, size: size, completion: completion,
                    configuration: configuration, sealedForRoom: &sealedForRoom)
                state.bufferedBytes += size
                state.outstandingRecords += 1
                return signal
            } catch {
                throw KafkaError(.invalidArgument, "record cannot be encoded: \(error)", topic: topic, partition: chosen, underlying: error)
            }
        }
        guard let signal = outcome else { return false }
        if signal { wakeup.wake() }
        return true
    }

    /// What keeps a record from being buffered: throws when it never can be (too large, unknown
    /// partition, closed, no metadata or no room until `deadline`, which is `maxBlock` from the
    /// first wait); otherwise fetches missing metadata or waits a moment for buffer space.
    private func waitUntilReady(topic: String, partition: Int32?, size: Int, deadline: inout ContinuousClock.Instant?) async throws(KafkaError) {
        guard size + 200 <= configuration.maxRequestSize else {
            throw KafkaError(.invalidArgument, "a record of about \(size) bytes exceeds maxRequestSize (\(configuration.maxRequestSize)); raise it (and the broker's message.max.bytes) or send smaller records",
                             topic: topic)
        }
        let now = ContinuousClock.now
        let limit = deadline ?? now.advanced(by: configuration.maxBlock)
        deadline = limit
        let bufferMemory = configuration.bufferMemory
        let (closing, info, full) = state.withLock { state in
            (state.closing, state.topics[topic], state.bufferedBytes > 0 && state.bufferedBytes + size > bufferMemory)
        }
        if closing { throw KafkaError(.closed, "the producer is closed", topic: topic) }
        guard let info else {
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
            state.withLock { $0.topics[topic] = $0.topics[topic].map { $0.updated(with: metadata) } ?? TopicInfo(metadata) }
            return
        }
        guard info.partitionCount > 0 else {
            throw KafkaError(.invalidArgument, "topic '\(topic)' has no partitions", topic: topic)
        }
        if let partition, !(0..<Int32(info.partitionCount)).contains(partition) {
            throw KafkaError(.invalidArgument, "topic '\(topic)' has no partition \(partition) (it has \(info.partitionCount)); use 0..<\(info.partitionCount) or nil for the partitioner",
                             topic: topic, partition: partition)
        }
        if full {
            if now >= limit {
                throw KafkaError(.bufferFull, "the producer's buffer (bufferMemory \(bufferMemory) bytes) stayed full for maxBlock (\(configuration.maxBlock)); the brokers are slower than the producer or unreachable",
                                 topic: topic)
            }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Sends every buffered record now and waits until each has succeeded or failed.
    ///
    /// - Throws: ``KafkaError`` for the first failure, since the last flush, of a record produced
    ///   without a delivery callback, with the count of such failures.
    public func flush() async throws(KafkaError) {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.outstandingRecords == 0 { return true }
                state.flushWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() } else { wakeup.wake() }
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

    /// Delivers what is buffered (up to the delivery timeout), then stops the sender. Idempotent.
    ///
    /// - Throws: what ``flush()`` throws.
    public func close() async throws(KafkaError) {
        let first = state.withLock { state -> Bool in
            defer { state.closing = true }
            return !state.closing
        }
        guard first else { return }
        defer {
            state.withLock { $0.stopped = true }
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

    // MARK: - Sender thread

    private struct Outgoing {
        let leader: Int32
        let connection: KafkaBrokerConnection
        var partitions: [(KafkaTopicPartition, Batch)]
    }

    private func senderMain() {
        while true {
            let now = ContinuousClock.now
            var expired: [(KafkaTopicPartition, Batch)] = []
            var outgoing: [Int32: Outgoing] = [:]
            var refresh: Set<String> = []
            var connect: Set<Int32> = []
            var nextWake = now.advanced(by: .milliseconds(100))
            let stop: Bool = state.withLock { state in
                if state.stopped && state.outstandingRecords == 0 { return true }
                let draining = !state.flushWaiters.isEmpty || state.closing
                for (key, var queue) in state.queues {
                    // Expire what waited past the delivery timeout (never a batch in flight).
                    while !queue.inFlight, let first = queue.batches.first, now - first.createdAt >= configuration.deliveryTimeout {
                        expired.append((key, queue.batches.removeFirst()))
                    }
                    defer { state.queues[key] = queue.batches.isEmpty && !queue.inFlight ? nil : queue }
                    guard !queue.inFlight, let first = queue.batches.first else { continue }
                    let lingerEnds = first.createdAt.advanced(by: configuration.linger)
                    let ready = first.sealed || draining || lingerEnds <= now || queue.batches.count > 1
                    if let retryAt = first.retryAt, retryAt > now {
                        nextWake = min(nextWake, retryAt)
                        continue
                    }
                    guard ready else {
                        nextWake = min(nextWake, lingerEnds)
                        continue
                    }
                    guard let info = state.topics[key.topic], Int(key.partition) < info.leaders.count, info.leaders[Int(key.partition)] >= 0 else {
                        refresh.insert(key.topic)
                        continue
                    }
                    let leader = info.leaders[Int(key.partition)]
                    if outgoing[leader] == nil {
                        guard state.inFlightRequests[leader, default: 0] < configuration.maxInFlightRequestsPerConnection else { continue }
                        guard let connection = cluster.existingConnection(to: leader) else {
                            connect.insert(leader)
                            continue
                        }
                        outgoing[leader] = Outgoing(leader: leader, connection: connection, partitions: [])
                        state.inFlightRequests[leader, default: 0] += 1
                    }
                    let size = outgoing[leader]!.partitions.reduce(0) { $0 + $1.1.builder.uncompressedSize }
                    guard outgoing[leader]!.partitions.isEmpty || size + first.builder.uncompressedSize <= configuration.maxRequestSize else { continue }
                    var batch = first
                    if first.sealed == false { batch.sealed = true; queue.batches[0].sealed = true }
                    queue.inFlight = true
                    outgoing[leader]!.partitions.append((key, batch))
                }
                refresh.subtract(state.refreshing)
                state.refreshing.formUnion(refresh)
                connect.subtract(state.connecting)
                state.connecting.formUnion(connect)
                return false
            }
            if stop { break }
            for (key, batch) in expired {
                fail(batch, of: key, with: KafkaError(.timedOut, "the record was not acknowledged within deliveryTimeout (\(configuration.deliveryTimeout)); the brokers are unreachable or too slow",
                                                       topic: key.topic, partition: key.partition))
            }
            for topic in refresh { startRefresh(topic) }
            for node in connect { startConnect(node) }
            for (_, request) in outgoing { send(request) }
            let wait = max(.zero, nextWake - ContinuousClock.now)
            var pfd = pollfd(fd: wakeup.readFD, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, wait.pollMilliseconds) > 0 { wakeup.drain() }
        }
        // Fail what could not be delivered before the producer stopped.
        let leftovers: [(KafkaTopicPartition, Batch)] = state.withLock { state in
            var all: [(KafkaTopicPartition, Batch)] = []
            for (key, queue) in state.queues where !queue.inFlight {
                for batch in queue.batches { all.append((key, batch)) }
            }
            state.queues.removeAll()
            return all
        }
        for (key, batch) in leftovers {
            fail(batch, of: key, with: KafkaError(.closed, "the producer closed before the record was sent", topic: key.topic, partition: key.partition))
        }
    }

    private func startRefresh(_ topic: String) {
        Task { [self] in
            defer {
                state.withLock { _ = $0.refreshing.remove(topic) }
                wakeup.wake()
            }
            if let metadata = try? await cluster.topic(topic, refresh: true) {
                state.withLock { $0.topics[topic] = $0.topics[topic].map { $0.updated(with: metadata) } ?? TopicInfo(metadata) }
            } else {
                try? await Task.sleep(for: cluster.configuration.retryBackoff)
            }
        }
    }

    private func startConnect(_ node: Int32) {
        Task { [self] in
            defer {
                state.withLock { _ = $0.connecting.remove(node) }
                wakeup.wake()
            }
            do throws(KafkaError) {
                _ = try await cluster.connection(to: node)
            } catch {
                // Batches for this broker stay queued; their topics' leaders are looked up again.
                let topics = state.withLock { state in
                    state.topics.filter { $0.value.leaders.contains(node) }.map(\.key)
                }
                for topic in topics { cluster.invalidate(topic: topic) }
                state.withLock { state in for topic in topics { state.topics[topic]?.leaders = [] } }
                try? await Task.sleep(for: cluster.configuration.retryBackoff)
            }
        }
    }

    private func send(_ outgoing: Outgoing) {
        var request = ProduceRequest()
        request.acks = configuration.acks.rawValue
        request.timeoutMs = (configuration.requestTimeout ?? cluster.configuration.requestTimeout).kafkaMilliseconds
        var byTopic: [String: [ProduceRequest.TopicProduceData.PartitionProduceData]] = [:]
        var buildFailures: [(KafkaTopicPartition, Batch, KafkaError)] = []
        var sent: [(KafkaTopicPartition, Batch)] = []
        for (key, batch) in outgoing.partitions {
            do throws(KafkaRecordError) {
                let bytes = try batch.builder.build()
                byTopic[key.topic, default: []].append(.init(index: key.partition, records: bytes))
                sent.append((key, batch))
            } catch {
                buildFailures.append((key, batch, KafkaError(.invalidArgument, "the batch cannot be encoded: \(error)", topic: key.topic, partition: key.partition, underlying: error)))
            }
        }
        for (key, batch, error) in buildFailures { finish(key, batch: batch, leader: nil, result: .failure(error)) }
        guard !sent.isEmpty else {
            releaseRequestSlot(outgoing.leader)
            return
        }
        request.topicData = byTopic.sorted { $0.key < $1.key }.map { ProduceRequest.TopicProduceData(name: $0.key, partitionData: $0.value) }
        let version: Int16
        do throws(KafkaError) {
            version = try outgoing.connection.version(for: .produce)
        } catch {
            for (key, batch) in sent { finish(key, batch: batch, leader: outgoing.leader, result: .failure(error)) }
            releaseRequestSlot(outgoing.leader)
            return
        }
        state.withLock { $0.statistics.requests += 1 }
        if configuration.acks == .none {
            let result: Result<Int64, KafkaError>
            do throws(KafkaError) {
                try outgoing.connection.sendWithoutResponse(request, version: version)
                result = .success(-1)
            } catch {
                result = .failure(error)
            }
            for (key, batch) in sent { finish(key, batch: batch, leader: outgoing.leader, result: result, ambiguous: false) }
            releaseRequestSlot(outgoing.leader)
            return
        }
        let endpoint = outgoing.connection.endpoint
        outgoing.connection.send(request, version: version) { [self, sent] response in
            switch response {
            case .failure(let error):
                for (key, batch) in sent {
                    var error = error
                    error.topic = key.topic
                    error.partition = key.partition
                    finish(key, batch: batch, leader: outgoing.leader, result: .failure(error), ambiguous: true)
                }
            case .success(let body):
                for (key, batch) in sent {
                    let entry = body.responses.first { $0.name == key.topic }?.partitionResponses.first { $0.index == key.partition }
                    guard let entry else {
                        finish(key, batch: batch, leader: outgoing.leader, result: .failure(KafkaError(.protocolError, "the Produce response has no entry for this partition", broker: endpoint, api: .produce, topic: key.topic, partition: key.partition)))
                        continue
                    }
                    let code = KafkaErrorCode(rawValue: entry.errorCode)
                    if code.isError {
                        finish(key, batch: batch, leader: outgoing.leader, result: .failure(.broker(code, api: .produce, broker: endpoint, topic: key.topic, partition: key.partition, serverMessage: entry.errorMessage)))
                    } else {
                        finish(key, batch: batch, leader: outgoing.leader, result: .success(entry.baseOffset))
                    }
                }
            }
            releaseRequestSlot(outgoing.leader)
        }
    }

    private func releaseRequestSlot(_ leader: Int32) {
        state.withLock { state in
            state.inFlightRequests[leader, default: 1] -= 1
        }
        wakeup.wake()
    }

    /// Completes or requeues the in-flight head batch of `key`.
    private func finish(_ key: KafkaTopicPartition, batch: Batch, leader: Int32?, result: Result<Int64, KafkaError>, ambiguous: Bool = false) {
        let now = ContinuousClock.now
        if case .failure(let error) = result, error.isRetriable, now - batch.createdAt < configuration.deliveryTimeout {
            let refresh = state.withLock { state -> Bool in
                guard var queue = state.queues[key], !queue.batches.isEmpty else { return false }
                queue.inFlight = false
                queue.batches[0].attempts += 1
                queue.batches[0].retryAt = now.advanced(by: KafkaCluster.backoff(attempt: queue.batches[0].attempts - 1, base: cluster.configuration.retryBackoff, max: cluster.configuration.retryBackoffMax))
                state.queues[key] = queue
                state.statistics.retriedBatches += 1
                if ambiguous { state.statistics.possiblyDuplicatedRecords += batch.builder.count }
                if error.invalidatesMetadata { state.topics[key.topic]?.leaders = [] }
                return error.invalidatesMetadata
            }
            if refresh { cluster.invalidate(topic: key.topic) }
            return
        }
        state.withLock { state in
            if var queue = state.queues[key], !queue.batches.isEmpty {
                queue.inFlight = false
                queue.batches.removeFirst()
                state.queues[key] = queue.batches.isEmpty ? nil : queue
            }
        }
        switch result {
        case .success(let baseOffset): succeed(batch, of: key, baseOffset: baseOffset)
        case .failure(let error): fail(batch, of: key, with: error)
        }
    }

    private func succeed(_ batch: Batch, of key: KafkaTopicPartition, baseOffset: Int64) {
        let waiters = release(batch, failed: false, error: nil)
        for (index, timestamp, completion) in batch.completions {
            let offset = baseOffset >= 0 ? baseOffset + Int64(index) : -1
            completion.complete(.success(KafkaRecordMetadata(topic: key.topic, partition: key.partition, offset: offset, timestamp: timestamp)))
        }
        for waiter in waiters { waiter.resume() }
    }

    private func fail(_ batch: Batch, of key: KafkaTopicPartition, with error: KafkaError) {
        let waiters = release(batch, failed: true, error: error)
        for (_, _, completion) in batch.completions { completion.complete(.failure(error)) }
        for waiter in waiters { waiter.resume() }
    }

    private func release(_ batch: Batch, failed: Bool, error: KafkaError?) -> [CheckedContinuation<Void, Never>] {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.bufferedBytes -= batch.reservedBytes
            state.outstandingRecords -= batch.builder.count
            if failed {
                state.statistics.failedRecords += batch.builder.count
                let unreported = batch.builder.count - batch.completions.count
                if unreported > 0 {
                    state.unreportedFailures += unreported
                    if state.firstUnreportedError == nil { state.firstUnreportedError = error }
                }
            } else {
                state.statistics.deliveredRecords += batch.builder.count
            }
            guard state.outstandingRecords == 0 else { return [] }
            defer { state.flushWaiters.removeAll() }
            return state.flushWaiters
        }
        wakeup.wake()
        return waiters
    }
}

// MARK: - State

private enum Completion: Sendable {
    case callback(@Sendable (Result<KafkaRecordMetadata, KafkaError>) -> Void)
    case continuation(CheckedContinuation<Result<KafkaRecordMetadata, KafkaError>?, Never>)

    func complete(_ result: Result<KafkaRecordMetadata, KafkaError>) {
        switch self {
        case .callback(let callback): callback(result)
        case .continuation(let continuation): continuation.resume(returning: result)
        }
    }
}

private struct Batch: Sendable {
    var builder: KafkaRecordBatchBuilder
    var createdAt: ContinuousClock.Instant
    /// Index in the batch, timestamp and completion of each record that has one.
    var completions: [(Int32, Int64, Completion)] = []
    var reservedBytes = 0
    var sealed = false
    var attempts = 0
    var retryAt: ContinuousClock.Instant?
}

private struct PartitionQueue: Sendable {
    var batches: [Batch] = []
    var inFlight = false
    /// The size the last sealed batch reached: new batches start with that capacity, so a busy
    /// partition allocates each batch once instead of growing it step by step.
    var lastBatchBytes = 0

    /// Appends one record to the open batch, first sealing it when the record does not fit and
    /// opening a new one when needed (`sealedForRoom` tells the sticky partitioner a batch is
    /// complete; it is set even when the append then throws).
    ///
    /// - Returns: whether a batch was opened or sealed, so the sender should look.
    mutating func append(timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header], size: Int,
                         completion: Completion?, configuration: KafkaProducerConfiguration,
                         sealedForRoom: inout Bool) throws(KafkaRecordError) -> Bool {
        var signal = false
        if batches.isEmpty || batches[batches.count - 1].sealed
            || batches[batches.count - 1].builder.uncompressedSize + size > configuration.batchSize {
            if !batches.isEmpty && !batches[batches.count - 1].sealed {
                batches[batches.count - 1].sealed = true
                sealedForRoom = true
                lastBatchBytes = batches[batches.count - 1].builder.uncompressedSize
            }
            var settings = KafkaRecordBatchEncoder(compression: configuration.compression)
            settings.timestampType = .createTime
            let capacity = min(configuration.batchSize + 256, max(16 * 1024, lastBatchBytes + 256))
            batches.append(Batch(builder: KafkaRecordBatchBuilder(settings: settings, capacity: capacity), createdAt: ContinuousClock.now))
            signal = true
        }
        let index = batches.count - 1
        try batches[index].builder.append(timestamp: timestamp, key: key, value: value, headers: headers)
        batches[index].reservedBytes += size
        if let completion {
            batches[index].completions.append((Int32(batches[index].builder.count - 1), timestamp, completion))
        }
        if batches[index].builder.uncompressedSize >= configuration.batchSize {
            batches[index].sealed = true
            lastBatchBytes = batches[index].builder.uncompressedSize
            signal = true
        }
        return signal
    }
}

private struct TopicInfo: Sendable {
    var partitionCount: Int
    var leaders: [Int32]
    /// The sticky partition of keyless records (KIP-480), kept here so that placing a record
    /// costs one lookup of the topic.
    var sticky = KafkaStickyPartition()

    mutating func stickyPartition() -> Int32 {
        var random = SystemRandomNumberGenerator()
        return Int32(sticky.partition(partitionCount: max(partitionCount, 1), using: &random))
    }

    mutating func stickyBatchCompleted() {
        var random = SystemRandomNumberGenerator()
        sticky.batchCompleted(partitionCount: max(partitionCount, 1), using: &random)
    }

    /// The partition for a record: `partition` if valid, the key's, else the sticky one; nil when
    /// the topic has no partitions or `partition` is out of range (the slow path reports that).
    mutating func place(partition: Int32?, keyHash: Int32?) -> Int32? {
        guard partitionCount > 0 else { return nil }
        if let partition {
            guard partition >= 0 && Int(partition) < partitionCount else { return nil }
            return partition
        }
        if let keyHash { return Int32(KafkaPartitioner.partition(forHash: keyHash, partitionCount: partitionCount)) }
        return stickyPartition()
    }

    /// Fresh metadata, the sticky choice kept.
    func updated(with metadata: KafkaTopicMetadata) -> TopicInfo {
        var fresh = TopicInfo(metadata)
        fresh.sticky = sticky
        return fresh
    }

    init(_ metadata: KafkaTopicMetadata) {
        partitionCount = metadata.partitionCount
        var leaders = [Int32](repeating: -1, count: metadata.partitions.count)
        for partition in metadata.partitions where Int(partition.partition) < leaders.count && partition.partition >= 0 {
            leaders[Int(partition.partition)] = partition.leader
        }
        self.leaders = leaders
    }
}

private struct ProducerState: Sendable {
    var topics: [String: TopicInfo] = [:]
    var queues: [KafkaTopicPartition: PartitionQueue] = [:]
    var bufferedBytes = 0
    var outstandingRecords = 0
    var inFlightRequests: [Int32: Int] = [:]
    var flushWaiters: [CheckedContinuation<Void, Never>] = []
    var unreportedFailures = 0
    var firstUnreportedError: KafkaError?
    var refreshing: Set<String> = []
    var connecting: Set<Int32> = []
    var closing = false
    var stopped = false
    var statistics = KafkaProducerStatistics()
}

extension KafkaClient {
    /// A producer sharing this client's connections and metadata.
    ///
    /// - Throws: ``KafkaError`` `invalidConfiguration` naming the bad field.
    public func makeProducer(_ configuration: KafkaProducerConfiguration = KafkaProducerConfiguration()) throws(KafkaError) -> KafkaProducer {
        try KafkaProducer(client: self, configuration: configuration)
    }
}
