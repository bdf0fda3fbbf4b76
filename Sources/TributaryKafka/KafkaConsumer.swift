import TributaryWire
import TributaryKafkaProtocol

/// A record read from Kafka.
public struct KafkaConsumerRecord: Sendable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The record's offset.
    public var offset: Int64
    /// The timestamp (milliseconds since the epoch).
    public var timestamp: Int64
    /// Whether ``timestamp`` is the producer's create time or the broker's append time.
    public var timestampType: KafkaTimestampType
    /// The key, nil when null.
    public var key: [UInt8]?
    /// The value, nil when null (a tombstone).
    public var value: [UInt8]?
    /// Headers in order; keys may repeat.
    public var headers: [KafkaRecord.Header]

    /// Creates a record (the consumer does; handler tests may too).
    public init(topic: String, partition: Int32, offset: Int64, timestamp: Int64, timestampType: KafkaTimestampType = .createTime,
                key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header] = []) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.timestampType = timestampType
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// `topic [partition] @ offset`.
    public var description: String { "\(topic) [\(partition)] @ \(offset)" }
}

/// Reads assigned partitions: one fetch loop per consumer, one fetch request per leader in
/// parallel, records decoded (every codec, CRCs checked, control records dropped) into a
/// bounded buffer that ``records`` and ``poll(maxRecords:timeout:)`` read from.
///
/// The bound (``KafkaConsumerConfiguration/maxBufferedBytes``) counts each record's fixed cost
/// as well as its bytes, and responses are decoded record by record into it, waiting for the
/// reader when it is full: a small compressed response of millions of records does not expand
/// past it. Data the broker never returns as a complete batch, offsets a batch cannot have, and
/// batches that do not decode end in a `corruptRecords` error naming topic, partition and
/// offset, never in a fetch loop that spins.
///
/// Positions: ``assign(topic:partition:from:)`` resolves where to start; ``seek(topic:partition:to:)``
/// moves; ``pause(topic:partition:)`` and ``resume(topic:partition:)`` stop and restart fetching a
/// partition without losing its position. An out-of-range position is reset by `autoOffsetReset`.
public final class KafkaConsumer: Sendable {
    /// The consumer's settings.
    public let configuration: KafkaConsumerConfiguration
    let client: KafkaClient
    private var cluster: KafkaCluster { client.cluster }
    private let state = Locked(ConsumerState())
    private let decodeJobs: AsyncStream<DecodeJob>.Continuation
    // Lock order: `fetchConnections` is never taken while `state` is held, nor the reverse.
    private let fetchConnections = Locked<[Int32: KafkaBrokerConnection]>([:])

    /// Creates a consumer on `client`'s connections; nothing is fetched until a partition is
    /// assigned.
    ///
    /// - Throws: ``KafkaError`` `invalidConfiguration` naming the bad field.
    public init(client: KafkaClient, configuration: KafkaConsumerConfiguration = KafkaConsumerConfiguration()) throws(KafkaError) {
        try configuration.validate()
        self.client = client
        self.configuration = configuration
        let (jobs, continuation) = AsyncStream<DecodeJob>.makeStream()
        self.decodeJobs = continuation
        Task.detached { [weak self] in
            await self?.decodeLoop(jobs)
        }
    }

    deinit { decodeJobs.finish() }

    // MARK: - Assignment and positions

    /// Starts reading `topic`/`partition` from `start`.
    ///
    /// - Throws: ``KafkaError`` `invalidArgument` for an unknown topic or partition, or the error
    ///   of resolving the offset.
    public func assign(topic: String, partition: Int32, from start: KafkaOffsetSpec) async throws(KafkaError) {
        _ = try await cluster.leader(topic: topic, partition: partition)
        let offset = try await client.offset(topic: topic, partition: partition, start)
        let key = KafkaTopicPartition(topic: topic, partition: partition)
        let startLoop = state.withLock { state -> Bool in
            var entry = state.partitions[key] ?? PartitionState()
            entry.position = offset
            entry.epoch &+= 1
            // Responses of the previous epoch still decoding are dropped; forget their markers.
            entry.decoding.removeAll()
            entry.skipBefore = Self.timestampOf(start)
            entry.clearIncompleteFetches()
            state.partitions[key] = entry
            state.order.removeAll { $0 == key }
            state.order.append(key)
            defer { state.loopStarted = true }
            return !state.loopStarted && !state.closed
        }
        if startLoop { startFetchLoop() }
        wakeFetcher()
    }

    private static func timestampOf(_ spec: KafkaOffsetSpec) -> Int64? {
        if case .timestamp(let value) = spec { return value }
        return nil
    }

    /// Stops reading `topic`/`partition`; buffered records of it are dropped.
    public func unassign(topic: String, partition: Int32) {
        let key = KafkaTopicPartition(topic: topic, partition: partition)
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.partitions[key] = nil
            state.order.removeAll { $0 == key }
            state.dropBuffered(key)
            return state.takeDecoderWakeup()
        }
        waiter?.resume()
    }

    /// The partitions currently assigned.
    public var assignment: [(topic: String, partition: Int32)] {
        state.withLock { $0.order.map { ($0.topic, $0.partition) } }
    }

    /// Moves the position of an assigned partition; buffered records of it are dropped.
    ///
    /// - Throws: ``KafkaError`` `invalidArgument` when the partition is not assigned, or the error
    ///   of resolving the offset.
    public func seek(topic: String, partition: Int32, to target: KafkaOffsetSpec) async throws(KafkaError) {
        let key = KafkaTopicPartition(topic: topic, partition: partition)
        guard state.withLock({ $0.partitions[key] != nil }) else {
            throw KafkaError(.invalidArgument, "seek on \(topic) [\(partition)], which is not assigned; assign it first", topic: topic, partition: partition)
        }
        let offset = try await client.offset(topic: topic, partition: partition, target)
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.partitions[key]?.position = offset
            state.partitions[key]?.epoch &+= 1
            // Responses of the previous epoch still decoding are dropped; forget their markers.
            state.partitions[key]?.decoding.removeAll()
            state.partitions[key]?.highWatermark = nil
            state.partitions[key]?.skipBefore = Self.timestampOf(target)
            state.partitions[key]?.clearIncompleteFetches()
            state.dropBuffered(key)
            return state.takeDecoderWakeup()
        }
        waiter?.resume()
        wakeFetcher()
    }

    /// Stops fetching an assigned partition; its position is kept.
    public func pause(topic: String, partition: Int32) {
        state.withLock { $0.partitions[KafkaTopicPartition(topic: topic, partition: partition)]?.paused = true }
    }

    /// Fetches a paused partition again from its position; also retries a partition that
    /// stopped on a batch it could not get whole (see ``poll(maxRecords:timeout:)``).
    public func resume(topic: String, partition: Int32) {
        state.withLock { state in
            let key = KafkaTopicPartition(topic: topic, partition: partition)
            state.partitions[key]?.paused = false
            state.partitions[key]?.clearIncompleteFetches()
        }
        wakeFetcher()
    }

    /// The offset of the next record the reader will get from this partition, nil when not
    /// assigned.
    public func position(topic: String, partition: Int32) -> Int64? {
        let key = KafkaTopicPartition(topic: topic, partition: partition)
        return state.withLock { state in
            guard let entry = state.partitions[key] else { return nil }
            return state.firstBufferedOffset(key) ?? entry.decoding.first ?? entry.position
        }
    }

    /// Whether the reader has every record of the partition up to the high watermark seen in the
    /// last fetch (kcat's end of partition).
    public func isAtEnd(topic: String, partition: Int32) -> Bool {
        let key = KafkaTopicPartition(topic: topic, partition: partition)
        return state.withLock { state in
            guard let entry = state.partitions[key], let high = entry.highWatermark else { return false }
            return state.firstBufferedOffset(key) == nil && entry.decoding.isEmpty && entry.position >= high
        }
    }

    /// The fetched records waiting for the reader, in bytes as counted against
    /// ``KafkaConsumerConfiguration/maxBufferedBytes``: each record's key, value and headers plus
    /// the fixed cost of the record and its heap blocks.
    public var bufferedByteCount: Int { state.withLock { $0.bufferedBytes } }

    /// Stops fetching; ``records`` ends after what is buffered. Idempotent.
    public func close() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            return state.takeWaiters()
        }
        for waiter in waiters { waiter.resume() }
        // Ends the decoding task (after what it holds), which releases this consumer.
        decodeJobs.finish()
        let connections = fetchConnections.withLock { connections -> [KafkaBrokerConnection] in
            defer { connections.removeAll() }
            return Array(connections.values)
        }
        for connection in connections { connection.close() }
    }

    // MARK: - Reading

    /// Up to `maxRecords` buffered records, waiting up to `timeout` for the first one.
    ///
    /// - Returns: an empty array on timeout or after ``close()``.
    /// - Throws: the fetch loop's fatal error (such as `offsetOutOfRange` with reset `.none`, or
    ///   `corruptRecords`). `corruptRecords` names the topic, partition and offset: a batch that
    ///   does not decode (its records are skipped), or a batch the broker never returns whole
    ///   (that partition stops fetching until ``seek(topic:partition:to:)`` or
    ///   ``resume(topic:partition:)``).
    public func poll(maxRecords: Int = 500, timeout: Duration) async throws(KafkaError) -> [KafkaConsumerRecord] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let (records, failure, closed, decoder) = state.withLock { state -> ([KafkaConsumerRecord], KafkaError?, Bool, CheckedContinuation<Void, Never>?) in
                let records = state.take(maxRecords)
                if !records.isEmpty { return (records, nil, false, state.takeDecoderWakeupIfRoom(limit: configuration.maxBufferedBytes)) }
                defer { state.failure = nil }
                return ([], state.failure, state.closed, nil)
            }
            if !records.isEmpty {
                decoder?.resume()
                wakeFetcher()
                return records
            }
            if let failure { throw failure }
            if closed || ContinuousClock.now >= deadline { return [] }
            await waitForRecords(until: deadline)
        }
    }

    /// Records as they arrive, in offset order per partition. Ends after ``close()``; throws the
    /// fetch loop's fatal error. Only one task should iterate at a time.
    public var records: KafkaConsumerRecords { KafkaConsumerRecords(consumer: self) }

    nonisolated(nonsending) fileprivate func next() async throws(KafkaError) -> KafkaConsumerRecord? {
        while true {
            // One lock per record: the record, or else the failure (taken) and the closed flag.
            let halfFull = configuration.maxBufferedBytes / 2
            let limit = configuration.maxBufferedBytes
            let (record, failure, closed, wake, decoder) = state.withLock { state -> (KafkaConsumerRecord?, KafkaError?, Bool, Bool, CheckedContinuation<Void, Never>?) in
                if let record = state.takeOne() {
                    return (record, nil, false, state.fetcherWakeup != nil && state.heldBytes < halfFull, state.takeDecoderWakeupIfRoom(limit: limit))
                }
                defer { state.failure = nil }
                return (nil, state.failure, state.closed, false, nil)
            }
            if let record {
                decoder?.resume()
                if wake { wakeFetcher() }
                return record
            }
            if let failure { throw failure }
            if closed { return nil }
            if Task.isCancelled { return nil }
            await waitForRecords(until: nil)
        }
    }

    private func waitForRecords(until deadline: ContinuousClock.Instant?) async {
        let id = state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        if let deadline {
            Task { [self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                let waiter = state.withLock { $0.readerWaiters.removeValue(forKey: id) }
                waiter?.resume()
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if !state.buffer.isEmpty || state.failure != nil || state.closed { return true }
                if let deadline, ContinuousClock.now >= deadline { return true }
                state.readerWaiters[id] = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    // MARK: - Fetch loop

    private func wakeFetcher() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.wakeRequested = true
            defer { state.fetcherWakeup = nil }
            return state.fetcherWakeup
        }
        waiter?.resume()
    }

    private func startFetchLoop() {
        Task.detached { [self] in
            await fetchLoop()
        }
    }

    private struct FetchTarget: Sendable {
        let key: KafkaTopicPartition
        let offset: Int64
        let epoch: UInt64
        /// The partition's max bytes for this fetch: `maxPartitionFetchBytes`, or more after a
        /// batch larger than that came back cut.
        let maxBytes: Int
    }

    private func fetchLoop() async {
        var attempt = 0
        while true {
            let (targets, closed) = state.withLock { state -> ([FetchTarget], Bool) in
                // Nothing is fetched while the buffer is full; the reader wakes the loop.
                guard state.heldBytes < configuration.maxBufferedBytes else { return ([], state.closed) }
                var targets = state.order.compactMap { key -> FetchTarget? in
                    guard let entry = state.partitions[key], !entry.paused, !entry.stalled else { return nil }
                    return FetchTarget(key: key, offset: entry.position, epoch: entry.epoch,
                                       maxBytes: entry.grownFetchBytes ?? configuration.maxPartitionFetchBytes)
                }
                // Up to about two responses may wait for the decoding task while another is
                // decoded, not more: when the task is the slower side (a busy machine), fetching
                // further ahead only holds responses. (Allowing one cost a fifth of the rate on
                // one partition; two costs nothing measurable.)
                let nextBytes = targets.reduce(0) { $0 &+ $1.maxBytes }
                if state.undecodedBytes > 2 * nextBytes { return ([], state.closed) }
                // Each partition leads the next request in turn: a broker returns the first batch
                // whole only to the first partition with data (KIP-74), and cuts others at the
                // response's size limit.
                if targets.count > 1 {
                    state.fetchRotation &+= 1
                    let shift = state.fetchRotation % targets.count
                    targets = Array(targets[shift...] + targets[..<shift])
                }
                return (targets, state.closed)
            }
            if closed { return }
            if targets.isEmpty {
                await waitForWake()
                continue
            }
            // Group by leader.
            var byLeader: [Int32: [FetchTarget]] = [:]
            var failed = false
            for target in targets {
                do throws(KafkaError) {
                    let leader = try await cluster.leader(topic: target.key.topic, partition: target.key.partition)
                    byLeader[leader, default: []].append(target)
                } catch {
                    if !error.isRetriable && error.code != .brokerError {
                        fail(with: error)
                        return
                    }
                    cluster.invalidate(topic: target.key.topic)
                    failed = true
                }
            }
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for (leader, targets) in byLeader {
                    group.addTask { await self.fetch(from: leader, targets) }
                }
                var allOK = true
                for await ok in group { allOK = allOK && ok }
                return allOK
            }
            if failed || !outcomes {
                let backoff = KafkaCluster.backoff(attempt: attempt, base: cluster.configuration.retryBackoff, max: cluster.configuration.retryBackoffMax)
                attempt += 1
                try? await Task.sleep(for: backoff)
            } else {
                attempt = 0
            }
        }
    }

    private func waitForWake() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.wakeRequested || state.closed {
                    state.wakeRequested = false
                    return true
                }
                state.fetcherWakeup = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        state.withLock {
            $0.wakeRequested = false
        }
    }

    /// One fetch from one leader; false when the caller should back off.
    /// This consumer's own connection to `leader`: fetches wait on the broker for up to
    /// `fetchMaxWait`, and a shared connection would make producers and admin calls wait behind
    /// them (a broker answers one connection's requests in order).
    private func fetchConnection(to leader: Int32) async throws(KafkaError) -> KafkaBrokerConnection {
        if let existing = fetchConnections.withLock({ $0[leader] }), existing.isAlive { return existing }
        let fresh = try await cluster.openDedicatedConnection(to: leader)
        let old = fetchConnections.withLock { connections -> KafkaBrokerConnection? in
            defer { connections[leader] = fresh }
            return connections[leader]
        }
        old?.close()
        if state.withLock({ $0.closed }) {
            fresh.close()
            throw KafkaError(.closed, "the consumer is closed")
        }
        return fresh
    }

    private func fetch(from leader: Int32, _ targets: [FetchTarget]) async -> Bool {
        let connection: KafkaBrokerConnection
        let version: Int16
        do throws(KafkaError) {
            connection = try await fetchConnection(to: leader)
            // Versions 13+ name topics by id only; 12 is the newest that names them.
            version = try connection.version(for: .fetch, clientRange: KafkaAPIKey.fetch.supportedVersions.lowerBound...12)
        } catch {
            if !error.isRetriable { fail(with: error) }
            for target in targets { cluster.invalidate(topic: target.key.topic) }
            return false
        }
        var request = FetchRequest()
        request.replicaID = -1
        request.maxWaitMs = configuration.fetchMaxWait.kafkaMilliseconds
        request.minBytes = Int32(clamping: configuration.fetchMinBytes)
        // Never more than the partitions' own limits add up to: the same answer from a broker
        // that keeps `partitionMaxBytes`, and a bounded one from a broker that ignores it (tansu
        // 0.6.0 returned about 5 MB to a one-partition fetch asking for 1 MiB, which held the
        // consumer's memory several megabytes above what its settings say).
        let partitionsMaxBytes = targets.reduce(0) { $0 &+ $1.maxBytes }
        request.maxBytes = Int32(clamping: min(configuration.fetchMaxBytes, partitionsMaxBytes))
        request.isolationLevel = configuration.isolationLevel.rawValue
        request.sessionID = 0
        request.sessionEpoch = -1
        // Partitions go out in the fetch loop's (rotating) order, grouped by topic.
        var topics: [FetchRequest.FetchTopic] = []
        for target in targets {
            let partition = FetchRequest.FetchTopic.FetchPartition(partition: target.key.partition, fetchOffset: target.offset, partitionMaxBytes: Int32(clamping: target.maxBytes))
            if let index = topics.firstIndex(where: { $0.topic == target.key.topic }) {
                topics[index].partitions.append(partition)
            } else {
                topics.append(FetchRequest.FetchTopic(topic: target.key.topic, partitions: [partition]))
            }
        }
        request.topics = topics
        let first = targets.first?.key
        let timeout = cluster.configuration.requestTimeout + configuration.fetchMaxWait
        let response: FetchResponse
        do throws(KafkaError) {
            response = try await connection.send(request, version: version, timeout: timeout)
        } catch {
            if !error.isRetriable { fail(with: error) }
            return false
        }
        if KafkaErrorCode(rawValue: response.errorCode).isError {
            let code = KafkaErrorCode(rawValue: response.errorCode)
            if !code.isRetriable { fail(with: .broker(code, api: .fetch, broker: connection.endpoint)) }
            return false
        }
        var allOK = true
        // One batch's decompressed records may take at most the buffer bound; its records are
        // then handed over in parts as the reader makes room (see `decode`).
        var decoder = KafkaRecordBatchDecoder(maxDecompressedBatchBytes: configuration.maxBufferedBytes)
        decoder.verifiesCRC = configuration.checkCRCs
        for topic in response.responses {
            for data in topic.partitions {
                guard let target = targets.first(where: { $0.key.topic == topic.topic && $0.key.partition == data.partitionIndex }) else { continue }
                let ok = await handle(data, for: target, isFirst: target.key == first, decoder: decoder, broker: connection.endpoint)
                allOK = allOK && ok
            }
        }
        return allOK
    }

    /// Takes one partition's part of a Fetch response; `isFirst` says the partition led the
    /// request (the broker owes it a whole first batch).
    private func handle(_ data: FetchResponse.FetchableTopicResponse.PartitionData, for target: FetchTarget, isFirst: Bool,
                        decoder: KafkaRecordBatchDecoder, broker: String) async -> Bool {
        let key = target.key
        let code = KafkaErrorCode(rawValue: data.errorCode)
        if code == .offsetOutOfRange {
            return await reset(target, broker: broker)
        }
        if code.isError {
            if code.isRetriable {
                cluster.invalidate(topic: key.topic)
                return false
            }
            fail(with: .broker(code, api: .fetch, broker: broker, topic: key.topic, partition: key.partition))
            return false
        }
        if (data.highWatermark >= 0 && target.offset > data.highWatermark) || (data.logStartOffset >= 0 && target.offset < data.logStartOffset) {
            // Outside the log, though the broker did not say OFFSET_OUT_OF_RANGE (tansu 0.6 answers
            // such fetches with no records and no error).
            return await reset(target, broker: broker)
        }
        // Advance the position from the batch headers alone, so the next fetch can go out while
        // this response is decoded (on the decoding task, in arrival order).
        let bytes = data.records ?? []
        let batchesEnd = KafkaRecordBatchDecoder.nextOffset(afterBatchesIn: bytes)
        let nextPosition = max(target.offset, batchesEnd ?? target.offset)
        // Data but no progress: no complete batch, or only batches before the position. Fetching
        // again at once would get the same bytes forever.
        var stopsHere = false
        if !bytes.isEmpty && nextPosition == target.offset {
            let stated = KafkaRecordBatchDecoder.statedSizeOfFirstBatch(in: bytes)
            guard batchesEnd == nil, let stated, stated <= bytes.count else {
                return fetchMadeNoProgress(bytes, statedSize: stated, for: target, ledTheRequest: isFirst, broker: broker)
            }
            // The first batch is all there but its header is malformed: decoding reports it, and
            // the partition stops here (it would come back the same).
            stopsHere = true
        }
        let job = DecodeJob(target: target, end: nextPosition, bytes: bytes, aborted: configuration.isolationLevel == .readCommitted ? (data.abortedTransactions ?? []) : [],
                            decoder: decoder, broker: broker)
        let accepted = state.withLock { state -> Bool in
            guard var entry = state.partitions[key], entry.epoch == target.epoch, entry.position == target.offset else { return false }
            entry.position = nextPosition
            entry.highWatermark = data.highWatermark
            entry.decoding.append(target.offset)
            if stopsHere { entry.stalled = true } else if !bytes.isEmpty { entry.clearIncompleteFetches() }
            state.partitions[key] = entry
            state.decodingBytes += bytes.count
            state.undecodedBytes += bytes.count
            return true
        }
        if accepted { decodeJobs.yield(job) }
        return true
    }

    /// How many fetches in a row may return data but no complete batch at or after the
    /// position before the partition stops with a `corruptRecords` error: 5. The fetch loop
    /// backs off (`retryBackoff`, doubling up to `retryBackoffMax`) between them.
    public static let maxIncompleteFetches = 5

    /// A fetch returned bytes but no complete batch at or after the position.
    ///
    /// A partition that did not lead the request may have been cut by the response's size
    /// limit: nothing happens until it leads one (the loop rotates the order). One that led it
    /// is owed its first batch whole (KIP-74); a broker that predates KIP-74 cuts it at the size
    /// asked for, so the partition's fetch size grows to the batch's stated size, up to
    /// `fetchMaxBytes` (like `fetch.max.bytes`). A cut batch larger than that, or no complete
    /// batch after ``maxIncompleteFetches`` such fetches, is an error (as the Java consumer
    /// raises RecordTooLargeException or a corrupt-record error when a partition returns data
    /// but no complete batch), and the partition stops fetching until a seek or resume.
    /// Returns false, so the fetch loop backs off before the next attempt, unless the cut may
    /// have been the response limit's.
    private func fetchMadeNoProgress(_ bytes: [UInt8], statedSize: Int?, for target: FetchTarget, ledTheRequest: Bool, broker: String) -> Bool {
        let key = target.key
        let limit = configuration.fetchMaxBytes
        let cutByTheResponseLimit = !ledTheRequest && (statedSize ?? 0) > bytes.count
        if cutByTheResponseLimit { return true }
        let failure = state.withLock { state -> KafkaError? in
            guard var entry = state.partitions[key], entry.epoch == target.epoch, entry.position == target.offset else { return nil }
            entry.incompleteFetches += 1
            defer { state.partitions[key] = entry }
            let what = "\(key.topic) [\(key.partition)] at offset \(target.offset)"
            if let statedSize, statedSize > limit {
                entry.stalled = true
                return KafkaError(.corruptRecords, "the record batch of \(what) is \(statedSize) bytes, more than fetchMaxBytes (\(limit)); raise KafkaConsumerConfiguration.fetchMaxBytes and maxPartitionFetchBytes to at least \(statedSize) (like fetch.max.bytes and max.partition.fetch.bytes) or seek past it; fetching this partition stopped",
                                  broker: broker, topic: key.topic, partition: key.partition, offset: target.offset)
            }
            if entry.incompleteFetches >= Self.maxIncompleteFetches {
                entry.stalled = true
                let found = if let statedSize, statedSize > bytes.count {
                    "a first batch cut short (\(bytes.count) of its stated \(statedSize) bytes)"
                } else if statedSize == nil {
                    "\(bytes.count) bytes that hold no batch header"
                } else {
                    "only batches that end before that offset"
                }
                return KafkaError(.corruptRecords, "\(broker) answered \(entry.incompleteFetches) fetches of \(what) (asking for up to \(target.maxBytes) bytes) with \(found), never a complete record batch; the batch is corrupt or the broker does not return it whole. Fetching this partition stopped: seek past offset \(target.offset), or resume the partition to try again",
                                  broker: broker, topic: key.topic, partition: key.partition, offset: target.offset)
            }
            if let statedSize, statedSize > bytes.count, statedSize > target.maxBytes {
                entry.grownFetchBytes = statedSize
            }
            return nil
        }
        if let failure { fail(with: failure) }
        return false
    }

    private struct DecodeJob: Sendable {
        let target: FetchTarget
        /// Where the partition's position went after this response (from its batch headers).
        let end: Int64
        let bytes: [UInt8]
        let aborted: [FetchResponse.FetchableTopicResponse.PartitionData.AbortedTransaction]
        let decoder: KafkaRecordBatchDecoder
        let broker: String
    }

    /// Decodes fetched batches in the order they arrived and hands the records to the reader.
    private func decodeLoop(_ jobs: AsyncStream<DecodeJob>) async {
        for await job in jobs {
            await decode(job)
        }
    }

    /// The records of one decoded part are handed over once their cost reaches this share of
    /// `maxBufferedBytes`.
    static let partsPerBuffer = 16

    /// Decodes one fetched response batch by batch and record by record, and hands the records
    /// to the reader in parts: a part goes into the buffer once it fits under
    /// `maxBufferedBytes`, and the decoding waits for the reader otherwise. So a small response
    /// that expands to millions of records never holds more than the buffer bound, the one
    /// decompressed batch being read (itself at most `maxBufferedBytes`) and one part.
    private func decode(_ job: DecodeJob) async {
        let key = job.target.key
        let partLimit = max(configuration.maxBufferedBytes / Self.partsPerBuffer, 1)
        var reader = KafkaRecordBatchReader(job.bytes, decoder: job.decoder)
        // This job's entry in the partition's `decoding` list: the next offset it hands over.
        var marker = job.target.offset
        // Records below this were handed over already (or come before the fetch position).
        var next = job.target.offset
        var part: [KafkaConsumerRecord] = []
        var partCost = 0
        // The current batch's decompressed bytes, counted in `decodingBytes` while held.
        var heldDecompressed = 0
        var failure: KafkaError?
        var live = true
        // Under read_committed, the aborted transactions the broker listed.
        var filter = KafkaAbortedTransactionFilter(aborted: job.aborted.map { .init(producerID: $0.producerID, firstOffset: $0.firstOffset) })
        decoding: do throws(KafkaRecordError) {
            while let batch = try reader.nextBatch() {
                if reader.decompressedByteCount != heldDecompressed {
                    let change = reader.decompressedByteCount - heldDecompressed
                    heldDecompressed = reader.decompressedByteCount
                    state.withLock { $0.decodingBytes += change }
                }
                // Every batch goes through the filter in order, control batches included (an abort
                // marker ends its producer's aborted transaction).
                let deliver = filter.shouldDeliver(batch)
                if batch.isControl || batch.nextOffset <= next || !deliver { continue }
                while let record = try reader.nextRecord() {
                    guard record.offset >= next else { continue }
                    next = record.offset &+ 1
                    let consumerRecord = KafkaConsumerRecord(topic: key.topic, partition: key.partition, offset: record.offset, timestamp: record.timestamp,
                                                             timestampType: batch.attributes.timestampType, key: record.key, value: record.value, headers: record.headers)
                    let cost = ConsumerState.size(of: consumerRecord)
                    if part.isEmpty {
                        // Sized once for the part's expected record count: growing by doubling
                        // left the allocator with each discarded smaller array (megabytes per
                        // part). Expected: what the part's cost bound lets in, but no more than
                        // what is left of the response, so a small fetch does not reserve room
                        // for thousands.
                        part.reserveCapacity(min(partLimit / max(cost, 1), reader.expectedRemainingRecords) + 1)
                    }
                    partCost += cost
                    part.append(consumerRecord)
                    if partCost >= partLimit {
                        guard await hand(part, cost: partCost, from: job, marker: marker, next: next) else {
                            live = false
                            break decoding
                        }
                        marker = next
                        part = []
                        partCost = 0
                    }
                }
            }
        } catch {
            let offset = error.baseOffset ?? job.target.offset
            var text = if error.code == .decompressionFailed, error.compressionError?.code == .outputLimitExceeded {
                "a record batch of \(key.topic) [\(key.partition)] at offset \(offset) decompresses to more than maxBufferedBytes (\(configuration.maxBufferedBytes) bytes); raise KafkaConsumerConfiguration.maxBufferedBytes if batches this large are expected"
            } else {
                "a record batch of \(key.topic) [\(key.partition)] at offset \(offset) does not decode: \(error)"
            }
            // The position already moved past this response (from its batch headers).
            let from = max(next, job.target.offset)
            text += job.end > from
                ? ". Records \(from) to \(job.end - 1) of this fetch were skipped; seek to \(from) to read them again"
                : ". Fetching this partition stopped; seek past offset \(offset) to go on"
            failure = KafkaError(.corruptRecords, text, broker: job.broker, topic: key.topic, partition: key.partition, offset: offset, underlying: error)
        }
        if live && !part.isEmpty {
            live = await hand(part, cost: partCost, from: job, marker: marker, next: next)
            marker = next
        }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.decodingBytes -= job.bytes.count + heldDecompressed
            state.undecodedBytes -= job.bytes.count
            guard var entry = state.partitions[key], entry.epoch == job.target.epoch else { return state.takeWaiters() }
            if let index = entry.decoding.firstIndex(of: marker) { entry.decoding.remove(at: index) }
            state.partitions[key] = entry
            if let failure, live, state.failure == nil { state.failure = failure }
            return state.takeWaiters()
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Appends `records` (a part of `job`, up to `next`) once the buffer has room for `cost`
    /// (or is empty), waiting for the reader meanwhile. False when the job went stale (its
    /// partition was sought, unassigned, or the consumer closed): the rest of it is dropped.
    private func hand(_ records: [KafkaConsumerRecord], cost: Int, from job: DecodeJob, marker: Int64, next: Int64) async -> Bool {
        let key = job.target.key
        let limit = configuration.maxBufferedBytes
        while true {
            let (outcome, waiters) = state.withLock { state -> (Bool?, [CheckedContinuation<Void, Never>]) in
                guard !state.closed, var entry = state.partitions[key], entry.epoch == job.target.epoch else { return (false, []) }
                guard state.bufferedBytes == 0 || state.bufferedBytes + cost <= limit else { return (nil, []) }
                var records = records
                if let threshold = entry.skipBefore {
                    if let index = records.firstIndex(where: { $0.timestamp >= threshold }) {
                        records.removeFirst(index)
                        entry.skipBefore = nil
                    } else {
                        records.removeAll()
                    }
                }
                if let index = entry.decoding.firstIndex(of: marker) { entry.decoding[index] = next }
                state.partitions[key] = entry
                if !records.isEmpty { state.append(records, for: key) }
                return (true, state.takeReaderWaiters())
            }
            for waiter in waiters { waiter.resume() }
            if let outcome { return outcome }
            await waitForRoom(cost)
        }
    }

    /// Waits until the buffer has room for `cost` (or is empty), the consumer closes, or a seek
    /// or unassign wakes the decoding task.
    private func waitForRoom(_ cost: Int) async {
        let limit = configuration.maxBufferedBytes
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.closed || state.bufferedBytes == 0 || state.bufferedBytes + cost <= limit { return true }
                state.decoderWakeup = continuation
                state.decoderNeeds = cost
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func reset(_ target: FetchTarget, broker: String) async -> Bool {
        let key = target.key
        let spec: KafkaOffsetSpec
        switch configuration.autoOffsetReset {
        case .earliest: spec = .earliest
        case .latest: spec = .latest
        case .none:
            fail(with: KafkaError(.offsetOutOfRange, "offset \(target.offset) of \(key.topic) [\(key.partition)] is out of range and autoOffsetReset is none; seek to a valid offset",
                                  broker: broker, topic: key.topic, partition: key.partition, offset: target.offset))
            return false
        }
        do throws(KafkaError) {
            let offset = try await client.listOffset(topic: key.topic, partition: key.partition, spec)
            state.withLock { state in
                guard state.partitions[key]?.epoch == target.epoch, state.partitions[key]?.position == target.offset else { return }
                state.partitions[key]?.position = offset
            }
            return true
        } catch {
            return false
        }
    }

    private func fail(with error: KafkaError) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            // After close() a fetch fails because close() shut its connection: that is not a
            // failure to report (poll returns no records after close, as documented).
            if state.failure == nil && !state.closed { state.failure = error }
            return state.takeWaiters()
        }
        for waiter in waiters { waiter.resume() }
    }
}

extension KafkaClient {
    /// A partition consumer sharing this client's connections and metadata.
    ///
    /// - Throws: ``KafkaError`` `invalidConfiguration` naming the bad field.
    public func makeConsumer(_ configuration: KafkaConsumerConfiguration = KafkaConsumerConfiguration()) throws(KafkaError) -> KafkaConsumer {
        try KafkaConsumer(client: self, configuration: configuration)
    }
}

/// The records of a ``KafkaConsumer`` as an `AsyncSequence`.
public struct KafkaConsumerRecords: AsyncSequence, Sendable {
    public typealias Element = KafkaConsumerRecord
    public typealias Failure = KafkaError
    let consumer: KafkaConsumer

    /// The iterator; `next()` waits for the next record.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer
        public mutating func next() async throws(KafkaError) -> KafkaConsumerRecord? {
            try await consumer.next()
        }
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(KafkaError) -> KafkaConsumerRecord? {
            try await consumer.next()
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(consumer: consumer) }
}

// MARK: - State

private struct PartitionState: Sendable {
    var position: Int64 = 0
    var epoch: UInt64 = 0
    var paused = false
    var highWatermark: Int64?
    /// Start offsets of fetched responses still being decoded, oldest first.
    var decoding: [Int64] = []
    /// Fetches in a row that returned data but no complete batch at or after the position.
    var incompleteFetches = 0
    /// The partition's fetch size after a batch larger than `maxPartitionFetchBytes` came back
    /// cut; nil for the configured size.
    var grownFetchBytes: Int?
    /// Whether fetching stopped on a batch the broker never returns whole (or with a malformed
    /// header); a seek, assign or resume clears it.
    var stalled = false

    mutating func clearIncompleteFetches() {
        incompleteFetches = 0
        grownFetchBytes = nil
        stalled = false
    }

    /// After a start by timestamp: records older than this are skipped until the first newer one.
    /// A broker may answer the timestamp lookup at batch granularity (tansu 0.6 answers with an
    /// earlier offset); the client then finds the exact record itself.
    var skipBefore: Int64?
}

private struct ConsumerState: Sendable {
    var partitions: [KafkaTopicPartition: PartitionState] = [:]
    var order: [KafkaTopicPartition] = []
    var buffer: [KafkaConsumerRecord] = []
    var head = 0
    /// Sizes of the records in `buffer`.
    var bufferedBytes = 0
    /// Fetched bytes waiting for the decoding task.
    var decodingBytes = 0
    /// The fetched (compressed) bytes of the responses the decoding task has not finished.
    var undecodedBytes = 0
    /// What counts against `maxBufferedBytes`.
    var heldBytes: Int { bufferedBytes + decodingBytes }
    var failure: KafkaError?
    var closed = false
    var loopStarted = false
    var readerWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    var nextWaiterID = 0
    var fetcherWakeup: CheckedContinuation<Void, Never>?
    var wakeRequested = false
    /// How far the partitions of the next fetch are rotated.
    var fetchRotation = 0
    /// The decoding task, waiting for room for a part of `decoderNeeds` bytes.
    var decoderWakeup: CheckedContinuation<Void, Never>?
    var decoderNeeds = 0

    mutating func takeWaiters() -> [CheckedContinuation<Void, Never>] {
        var all = takeReaderWaiters()
        // Also when the fetch loop is not waiting yet: it may have just decided to wait (on the
        // fetch-ahead limit, say) under an earlier look at the state, and must not sleep on it.
        wakeRequested = true
        if let fetcherWakeup {
            all.append(fetcherWakeup)
            self.fetcherWakeup = nil
        }
        if let decoder = takeDecoderWakeup() { all.append(decoder) }
        return all
    }

    mutating func takeReaderWaiters() -> [CheckedContinuation<Void, Never>] {
        defer { readerWaiters.removeAll() }
        return Array(readerWaiters.values)
    }

    mutating func takeDecoderWakeup() -> CheckedContinuation<Void, Never>? {
        defer { decoderWakeup = nil }
        return decoderWakeup
    }

    /// The decoding task's wake-up once the reader made room for its part.
    mutating func takeDecoderWakeupIfRoom(limit: Int) -> CheckedContinuation<Void, Never>? {
        guard decoderWakeup != nil, bufferedBytes == 0 || bufferedBytes + decoderNeeds <= limit else { return nil }
        return takeDecoderWakeup()
    }

    /// The memory a buffered record takes, as counted against `maxBufferedBytes`: the record
    /// itself plus every heap block it owns (key, value, the headers array, long header keys,
    /// header values) at the allocator's size, so a flood of tiny records is counted at what it
    /// costs, not at its few payload bytes.
    static func size(of record: KafkaConsumerRecord) -> Int {
        var size = MemoryLayout<KafkaConsumerRecord>.stride
        if let key = record.key { size += heapBlock(key.count) }
        if let value = record.value { size += heapBlock(value.count) }
        if !record.headers.isEmpty {
            size += heapBlock(record.headers.count * MemoryLayout<KafkaRecord.Header>.stride)
            for header in record.headers {
                // Strings of up to 15 UTF-8 bytes are stored inline.
                let keyBytes = header.key.utf8.count
                if keyBytes > 15 { size += heapBlock(keyBytes) }
                if let value = header.value { size += heapBlock(value.count) }
            }
        }
        return size
    }

    /// A heap block holding `bytes` of elements: Swift's 32-byte array header, malloc's 8 bytes
    /// of bookkeeping, rounded up to malloc's 16-byte granule.
    static func heapBlock(_ bytes: Int) -> Int { (32 + bytes + 8 + 15) & ~15 }

    mutating func append(_ records: [KafkaConsumerRecord], for key: KafkaTopicPartition) {
        if head > 0 && head >= buffer.count / 2 {
            buffer.removeSubrange(0..<head)
            head = 0
        }
        for record in records { bufferedBytes += Self.size(of: record) }
        if buffer.isEmpty {
            // Adopt the fetched array instead of copying (and retaining) each record.
            buffer = records
        } else {
            buffer.append(contentsOf: records)
        }
    }

    mutating func takeOne() -> KafkaConsumerRecord? {
        guard head < buffer.count else { return nil }
        let record = buffer[head]
        head += 1
        bufferedBytes -= Self.size(of: record)
        if head == buffer.count { dropTakenBuffer() }
        return record
    }

    mutating func take(_ maximum: Int) -> [KafkaConsumerRecord] {
        let end = min(buffer.count, head + max(maximum, 0))
        guard end > head else { return [] }
        if head == 0 && end == buffer.count {
            // Everything buffered: hand the array over instead of copying each record.
            let all = buffer
            buffer = []
            bufferedBytes = 0
            return all
        }
        let slice = Array(buffer[head..<end])
        for record in slice { bufferedBytes -= Self.size(of: record) }
        head = end
        if head == buffer.count { dropTakenBuffer() }
        return slice
    }

    /// Everything buffered was taken: the array goes (the next part is adopted whole by
    /// `append`). Keeping its capacity allocated a new array of that size whenever the decoding
    /// task still shared the adopted part, megabytes each time.
    private mutating func dropTakenBuffer() {
        buffer = []
        head = 0
    }

    func firstBufferedOffset(_ key: KafkaTopicPartition) -> Int64? {
        for index in head..<buffer.count where buffer[index].partition == key.partition && buffer[index].topic == key.topic {
            return buffer[index].offset
        }
        return nil
    }

    mutating func dropBuffered(_ key: KafkaTopicPartition) {
        let kept = buffer[head...].filter { !($0.partition == key.partition && $0.topic == key.topic) }
        buffer = Array(kept)
        head = 0
        bufferedBytes = buffer.reduce(0) { $0 + Self.size(of: $1) }
    }
}
