import TributaryCompression
import TributaryWire

/// The Kafka producer's policy as a pure state machine: per-partition batches, linger and batch
/// size, the buffered-bytes bound, in-flight limits per broker and per partition, retries with
/// backoff, the delivery timeout, stale metadata, and the idempotent producer's id, epoch and
/// sequence numbers (KIP-98, KIP-360).
///
/// It does no I/O and reads no clock: a driver feeds it past-tense events with the time as a
/// value (a record was appended, a response arrived, a request failed, metadata was updated, a
/// producer id was granted, time passed) and performs the actions it returns (send this
/// request to broker N, complete these records, refresh this topic, connect to that broker, ask
/// for a producer id). A record's completion is whatever the driver resumes when it is done
/// (any `Sendable` value, handed back untouched); a failed request carries the driver's own
/// error. Tests drive it with plain values and no async code.
///
/// Ordering: the batches of one partition are sent in order. Without idempotence at most one is
/// in flight per partition, so a retry cannot overtake a later batch. With idempotence up to
/// ``Configuration/maxInFlightPerPartition`` are in flight: each carries its sequence number, a
/// retry keeps it, and the broker refuses a batch that arrives out of order, which is then sent
/// again after the earlier one.
public struct KafkaProducerMachine: Sendable {
    // MARK: - Types

    /// The settings the machine applies.
    public struct Configuration: Sendable {
        /// `acks` as sent in the request: 0, 1 or -1 (all).
        public var acks: Int16 = -1
        /// How long a partition batch waits for more records.
        public var linger: Duration = .milliseconds(5)
        /// Uncompressed size at which a batch is sealed.
        public var batchSize = 1_000_000
        /// Bytes of records buffered before appends are refused.
        public var bufferMemory = 32 * 1024 * 1024
        /// Largest produce request.
        public var maxRequestSize = 1024 * 1024 + 64 * 1024
        /// From append to success or failure, retries included.
        public var deliveryTimeout: Duration = .seconds(120)
        /// First retry delay; doubled per attempt up to ``retryBackoffMax``, with ±20 % jitter.
        public var retryBackoff: Duration = .milliseconds(100)
        /// Longest retry delay.
        public var retryBackoffMax: Duration = .seconds(1)
        /// Produce requests in flight per broker.
        public var maxInFlightRequestsPerConnection = 5
        /// Whether batches carry a producer id, epoch and sequence numbers.
        public var idempotent = false
        /// Whether batches belong to transactions (KIP-98): they carry the transactional flag,
        /// the producer id comes from ``producerIDGranted(_:)`` after InitProducerId with the
        /// transactional id (the machine never asks for one), a partition's batches wait until
        /// ``partitionsAddedToTransaction(_:)`` opens it, and errors that would reset the
        /// sequence numbers fail the batch instead (the transaction must then be aborted).
        /// Needs ``idempotent``.
        public var transactional = false
        /// The record batch codec.
        public var compression: KafkaCompressionCodec = .none

        /// Creates the defaults (acks=all, not idempotent).
        public init() {}

        /// Batches of one partition in flight at once: 1 without idempotence (a retry must not
        /// overtake a later batch), up to 5 with it (the broker keeps five batches' sequences).
        public var maxInFlightPerPartition: Int { idempotent ? max(1, min(5, maxInFlightRequestsPerConnection)) : 1 }
    }

    /// A producer id and epoch granted by InitProducerId.
    public struct ProducerIdentity: Hashable, Sendable, CustomStringConvertible {
        /// The producer id.
        public var id: Int64
        /// The epoch.
        public var epoch: Int16

        /// Creates an identity.
        public init(id: Int64, epoch: Int16) {
            self.id = id
            self.epoch = epoch
        }

        /// `id/epoch`.
        public var description: String { "\(id)/\(epoch)" }
    }

    /// Why records failed.
    public enum Failure: Error, Sendable {
        /// Not acknowledged within the delivery timeout.
        case deliveryTimeout(attempts: Int)
        /// The producer stopped before the records were sent.
        case closed
        /// The broker refused the batch with a non-retriable code (or a retriable one past the timeout).
        case broker(KafkaErrorCode, message: String?)
        /// The request got no usable answer and could not be retried.
        case request(any Error & Sendable)
        /// The Produce response did not mention the partition.
        case missingPartitionInResponse
        /// The producer cannot get or keep a producer id; idempotent producing stopped.
        case producerIdentity(KafkaErrorCode?, detail: String)
        /// The transaction failed or was aborted before the batch was sent.
        case transaction(KafkaTransactionMachine.Failure)
    }

    /// Whether an append buffered the record. The rare cases with large payloads are boxed, so
    /// the common `appended` outcome stays a few bytes (it is returned once per record).
    public enum AppendOutcome: Sendable {
        /// Buffered. `wakeSender`: a batch was opened or sealed, so the sender should look now.
        case appended(partition: Int32, wakeSender: Bool)
        /// The topic's metadata is not known yet: fetch it, then append again.
        case needsMetadata
        /// The buffer has no room for the record: wait for deliveries, then append again.
        case noRoom
        /// The requested partition does not exist; the topic has `partitionCount`.
        case unknownPartition(partitionCount: Int)
        /// The producer is closing, or stopped after a fatal error.
        indirect case closed(Failure?)
        /// The record cannot be encoded.
        indirect case invalid(KafkaRecordError)
    }

    /// One batch of a produce request.
    public struct OutgoingBatch: Sendable {
        /// The partition.
        public var partition: KafkaTopicPartition
        /// The records, with the producer id, epoch and base sequence set.
        public var builder: KafkaRecordBatchBuilder
    }

    /// A produce request to send.
    public struct ProduceRequestPlan: Sendable {
        /// The machine's id for the request; the response or failure names it.
        public var id: Int
        /// The broker to send it to.
        public var broker: Int32
        /// The batches, at most one per partition.
        public var batches: [OutgoingBatch]
    }

    /// A record finished, for the driver to resume.
    public struct Delivery: Sendable {
        /// The record's index in its batch.
        public var index: Int32
        /// The record's timestamp.
        public var timestamp: Int64
        /// What to resume.
        public var completion: any Sendable
    }

    /// What a batch came to.
    public struct BatchOutcome: Sendable {
        /// The partition.
        public var partition: KafkaTopicPartition
        /// The broker's base offset (-1 when unknown: acks=0, or a duplicate the broker recognised
        /// without saying where it is), or why the batch failed.
        public var result: Result<Int64, Failure>
        /// The records that had a completion.
        public var deliveries: [Delivery]
        /// Records in the batch.
        public var recordCount: Int
        /// Records in the batch without a completion.
        public var unreportedCount: Int { recordCount - deliveries.count }
    }

    /// What the driver does.
    public enum Action: Sendable {
        /// Send a produce request (or write it without waiting, with acks=0).
        case send(ProduceRequestPlan)
        /// Complete the records of finished batches.
        case finish([BatchOutcome])
        /// Fetch fresh metadata for a topic, then report it (or the failure).
        case refreshMetadata(topic: String)
        /// Open (or check) the connection to a broker, then report it.
        case connect(broker: Int32)
        /// Ask for a producer id: with `current`, for that id with its epoch bumped (KIP-360);
        /// without, for a new id.
        case initProducerID(current: ProducerIdentity?)
    }

    /// One partition's answer in a Produce response.
    public struct PartitionResponse: Sendable {
        /// The error code (0 for success).
        public var errorCode: KafkaErrorCode
        /// The base offset of the batch.
        public var baseOffset: Int64
        /// The broker's message, if any.
        public var message: String?

        /// Creates an answer.
        public init(errorCode: KafkaErrorCode, baseOffset: Int64, message: String? = nil) {
            self.errorCode = errorCode
            self.baseOffset = baseOffset
            self.message = message
        }
    }

    /// How a failed request's error is to be treated, as the driver classified it.
    public struct RequestFailureKind: Sendable, Hashable {
        /// Trying again can succeed (a lost connection, a timeout).
        public var retriable: Bool
        /// The request may have reached the broker (written, no answer): a resend may duplicate
        /// unless sequence numbers protect it.
        public var ambiguous: Bool
        /// The connection is gone: connect again before the next request to that broker.
        public var connectionLost: Bool

        /// Creates a classification.
        public init(retriable: Bool, ambiguous: Bool, connectionLost: Bool) {
            self.retriable = retriable
            self.ambiguous = ambiguous
            self.connectionLost = connectionLost
        }
    }

    /// Counters.
    public struct Statistics: Sendable, Hashable {
        /// Records acknowledged (or written, with acks=0).
        public var deliveredRecords = 0
        /// Records that failed.
        public var failedRecords = 0
        /// Produce requests sent.
        public var requests = 0
        /// Batches sent again after a retriable error.
        public var retriedBatches = 0
        /// Records sent again when nothing protected them from being stored twice: without
        /// idempotence, after a request whose fate is unknown (the connection broke or timed out
        /// after it was written); with idempotence, only when the producer id or epoch had to
        /// change under a batch that may already have been written. Each may be in the log twice.
        public var possiblyDuplicatedRecords = 0
        /// Batches a retry found already written: the broker recognised their sequence numbers
        /// (DUPLICATE_SEQUENCE_NUMBER) and stored nothing twice.
        public var recognisedDuplicates = 0
        /// Producer ids and epochs granted.
        public var producerIdentities = 0
        /// Times the sequence numbers started again under a new producer epoch or id.
        public var sequenceResets = 0
        /// Epoch bumps (KIP-360) the broker refused, after which a new producer id was used.
        public var refusedEpochBumps = 0
        /// The producer id in use, when idempotent.
        public var producerID: Int64?
        /// The producer epoch in use, when idempotent.
        public var producerEpoch: Int16?

        /// Counters at zero.
        public init() {}
    }

    private struct Batch: Sendable {
        var builder: KafkaRecordBatchBuilder
        var createdAt: MonotonicInstant
        var deliveries: [Delivery] = []
        var reservedBytes = 0
        var sealed = false
        var attempts = 0
        var retryAt: MonotonicInstant?
        /// The request carrying it, while in flight.
        var inFlight: Int?
        /// The identity and base sequence it was first sent with; kept for retries.
        var sequence: (identity: ProducerIdentity, base: Int32)?
        /// A request carrying it failed without an answer: it may be in the log.
        var maybeWritten = false
    }

    private struct PartitionQueue: Sendable {
        var batches: [Batch] = []
        /// The size the last sealed batch reached, the capacity of the next.
        var lastBatchBytes = 0
    }

    private enum Placement {
        case partition(Int32)
        case unknown(partitionCount: Int)
    }

    private struct TopicState: Sendable {
        var partitionCount: Int
        var leaders: [Int32]
        var sticky = KafkaStickyPartition()

        /// A fixed partition if it exists, the key's, else the sticky one (KIP-480).
        mutating func place(partition: Int32?, keyHash: Int32?, random: inout SeededGenerator) -> Placement {
            guard partitionCount > 0 else { return .unknown(partitionCount: 0) }
            if let partition {
                guard partition >= 0 && Int(partition) < partitionCount else { return .unknown(partitionCount: partitionCount) }
                return .partition(partition)
            }
            if let keyHash { return .partition(Int32(KafkaPartitioner.partition(forHash: keyHash, partitionCount: partitionCount))) }
            return .partition(Int32(sticky.partition(partitionCount: partitionCount, using: &random)))
        }

        mutating func stickyBatchCompleted(random: inout SeededGenerator) {
            sticky.batchCompleted(partitionCount: max(partitionCount, 1), using: &random)
        }
    }

    private enum IdentityState: Sendable {
        /// Not idempotent.
        case unused
        /// No id yet, or a new one is needed; `retryAt` paces a failed attempt.
        case needed(bump: Bool, retryAt: MonotonicInstant?)
        /// A request is out.
        case requesting(bump: Bool)
        /// In use.
        case ready(ProducerIdentity)
        /// Waiting for in-flight requests to come back before asking for a new id or epoch.
        case draining(bump: Bool)
        /// Idempotent producing stopped.
        case failed(Failure)
    }

    private struct Request: Sendable {
        var broker: Int32
        var partitions: [KafkaTopicPartition]
    }

    // MARK: - State

    /// The settings.
    public let configuration: Configuration
    /// Counters.
    public private(set) var statistics = Statistics()
    /// Bytes of buffered records (reserved at append, released when a batch finishes).
    public private(set) var bufferedBytes = 0
    /// Records appended and not yet finished.
    public private(set) var outstandingRecords = 0
    /// Whether every buffered batch is to be sent without waiting for linger (flush, close).
    public var draining = false

    /// Topics and partition queues. The one appended to last is kept apart (`hotTopic`,
    /// `hotQueue`), so a run of records to one partition hashes no topic name: every other
    /// path reaches them through `topics` and `queues`, which put the hot entries back first.
    private var storedTopics: [String: TopicState] = [:]
    private var storedQueues: [KafkaTopicPartition: PartitionQueue] = [:]
    private var hotTopic: (name: String, state: TopicState)?
    private var hotQueue: (key: KafkaTopicPartition, queue: PartitionQueue)?

    private var topics: [String: TopicState] {
        mutating get {
            settleHotTopic()
            return storedTopics
        }
        _modify {
            settleHotTopic()
            yield &storedTopics
        }
    }

    private var queues: [KafkaTopicPartition: PartitionQueue] {
        mutating get {
            settleHotQueue()
            return storedQueues
        }
        _modify {
            settleHotQueue()
            yield &storedQueues
        }
    }

    private mutating func settleHotTopic() {
        guard let hot = hotTopic else { return }
        hotTopic = nil
        storedTopics[hot.name] = hot.state
    }

    private mutating func settleHotQueue() {
        guard let hot = hotQueue else { return }
        hotQueue = nil
        if !hot.queue.batches.isEmpty { storedQueues[hot.key] = hot.queue }
    }
    /// Next sequence number per partition under the current identity (absent: 0).
    private var nextSequences: [KafkaTopicPartition: Int32] = [:]
    private var requests: [Int: Request] = [:]
    private var inFlightByBroker: [Int32: Int] = [:]
    private var connected: Set<Int32> = []
    private var connecting: Set<Int32> = []
    private var refreshing: Set<String> = []
    private var identityState: IdentityState
    /// Set when idempotent producing stopped (``identityFailure`` says why): a flag, so that the
    /// append path need not copy the state.
    private var stoppedByFailure = false
    private var identityFailure: Failure?
    private var nextRequestID = 1
    private var closing = false
    /// Partitions in the open transaction (transactional only): only their batches are sent.
    private var transactionPartitions: Set<KafkaTopicPartition> = []
    private var random: SeededGenerator

    /// Creates a machine. `seed` drives the sticky partitioner and the backoff jitter.
    public init(configuration: Configuration, seed: UInt64) {
        self.configuration = configuration
        self.identityState = configuration.idempotent ? .needed(bump: false, retryAt: nil) : .unused
        self.random = SeededGenerator(seed: seed)
    }

    /// The identity batches are stamped with, when idempotent and granted.
    public var producerIdentity: ProducerIdentity? {
        if case .ready(let identity) = identityState { return identity }
        return nil
    }

    /// The number of partitions of `topic`, if known.
    public func partitionCount(of topic: String) -> Int? {
        if let hot = hotTopic, hot.name == topic { return hot.state.partitionCount }
        return storedTopics[topic]?.partitionCount
    }

    /// Whether a record of `size` bytes fits the buffer now.
    public func hasRoom(for size: Int) -> Bool { bufferedBytes == 0 || bufferedBytes + size <= configuration.bufferMemory }

    /// Whether nothing is buffered or in flight.
    public var isIdle: Bool { outstandingRecords == 0 }

    // MARK: - Events

    /// A record to buffer. `keyHash` is murmur2 of the key (nil for no key); `partition` a fixed
    /// partition (nil for the partitioner's choice); `size` its estimated encoded size. `now` is
    /// read only when the record opens a batch (reading a clock per record costs more than the
    /// append).
    public mutating func append(topic: String, partition: Int32?, keyHash: Int32?, timestamp: Int64, key: [UInt8]?, value: [UInt8]?,
                                headers: [KafkaRecord.Header], size: Int, completion: (any Sendable)?, now: () -> MonotonicInstant) -> AppendOutcome {
        if closing || stoppedByFailure { return .closed(stoppedByFailure ? identityFailure : nil) }
        guard hasRoom(for: size) else { return .noRoom }
        // One lookup of the topic, the sticky choice made in place.
        guard let placement = place(topic: topic, partition: partition, keyHash: keyHash) else { return .needsMetadata }
        let chosen: Int32
        switch placement {
        case .partition(let index): chosen = index
        case .unknown(let count): return .unknownPartition(partitionCount: count)
        }
        let target = KafkaTopicPartition(topic: topic, partition: chosen)
        var sealedForRoom = false
        let signal: Bool
        defer {
            // `place` made this topic the hot one, and nothing since touched the topics.
            if sealedForRoom && partition == nil && keyHash == nil { hotTopic?.state.stickyBatchCompleted(random: &random) }
        }
        do throws(KafkaRecordError) {
            signal = try appendToQueue(target, timestamp: timestamp, key: key, value: value, headers: headers, size: size,
                                       completion: completion, now: now, sealedForRoom: &sealedForRoom)
        } catch {
            return .invalid(error)
        }
        bufferedBytes += size
        outstandingRecords += 1
        return .appended(partition: chosen, wakeSender: signal)
    }

    private mutating func appendToQueue(_ target: KafkaTopicPartition, timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header],
                                        size: Int, completion: (any Sendable)?, now: () -> MonotonicInstant, sealedForRoom: inout Bool) throws(KafkaRecordError) -> Bool {
        let configuration = self.configuration
        return try modifyQueue(target) { (queue: inout PartitionQueue) throws(KafkaRecordError) -> Bool in
            var signal = false
            let last = queue.batches.count - 1
            if last < 0 || queue.batches[last].sealed || queue.batches[last].builder.uncompressedSize + size > configuration.batchSize {
                if last >= 0 && !queue.batches[last].sealed {
                    queue.batches[last].sealed = true
                    sealedForRoom = true
                    queue.lastBatchBytes = queue.batches[last].builder.uncompressedSize
                }
                var settings = KafkaRecordBatchEncoder(compression: configuration.compression)
                settings.timestampType = .createTime
                settings.isTransactional = configuration.transactional
                let capacity = min(configuration.batchSize + 256, max(16 * 1024, queue.lastBatchBytes + 256))
                queue.batches.append(Batch(builder: KafkaRecordBatchBuilder(settings: settings, capacity: capacity), createdAt: now()))
                signal = true
            }
            let index = queue.batches.count - 1
            try queue.batches[index].builder.append(timestamp: timestamp, key: key, value: value, headers: headers)
            queue.batches[index].reservedBytes += size
            if let completion {
                queue.batches[index].deliveries.append(Delivery(index: Int32(queue.batches[index].builder.count - 1), timestamp: timestamp, completion: completion))
            }
            if queue.batches[index].builder.uncompressedSize >= configuration.batchSize {
                queue.batches[index].sealed = true
                queue.lastBatchBytes = queue.batches[index].builder.uncompressedSize
                signal = true
            }
            return signal
        }
    }

    /// Places a record of `topic` (nil: no metadata yet), its state made the hot one.
    private mutating func place(topic: String, partition: Int32?, keyHash: Int32?) -> Placement? {
        if hotTopic?.name != topic {
            settleHotTopic()
            guard let state = storedTopics.removeValue(forKey: topic) else { return nil }
            hotTopic = (topic, state)
        }
        return hotTopic!.state.place(partition: partition, keyHash: keyHash, random: &random)
    }

    /// Runs `body` on the queue of `key` in place, made the hot one (no hash while the same
    /// partition stays hot, no copy of its batches).
    private mutating func modifyQueue<T>(_ key: KafkaTopicPartition, _ body: (inout PartitionQueue) throws(KafkaRecordError) -> T) throws(KafkaRecordError) -> T {
        if hotQueue?.key != key {
            settleHotQueue()
            hotQueue = (key, storedQueues.removeValue(forKey: key) ?? PartitionQueue())
        }
        return try body(&hotQueue!.queue)
    }

    /// Fresh metadata for `topic`: its partition count and each partition's leader (-1 when none).
    public mutating func metadataUpdated(topic: String, leaders: [Int32]) {
        refreshing.remove(topic)
        var state = topics[topic] ?? TopicState(partitionCount: leaders.count, leaders: leaders)
        state.partitionCount = leaders.count
        state.leaders = leaders
        topics[topic] = state
    }

    /// A metadata refresh for `topic` failed; the sender asks again on its next pass.
    public mutating func metadataFailed(topic: String) {
        refreshing.remove(topic)
    }

    /// The connection to `broker` is open.
    public mutating func connected(broker: Int32) {
        connecting.remove(broker)
        connected.insert(broker)
    }

    /// Connecting to `broker` failed: the leaders of its partitions are looked up again.
    public mutating func connectFailed(broker: Int32) {
        connecting.remove(broker)
        connected.remove(broker)
        forgetLeader(broker)
    }

    /// InitProducerId granted `identity`. Sequence numbers start again at 0.
    public mutating func producerIDGranted(_ identity: ProducerIdentity) -> [Action] {
        if configuration.transactional {
            // The transaction coordinator's answer, asked for by the transaction machine.
            if case .failed = identityState { return [] }
        } else {
            guard case .requesting = identityState else { return [] }
        }
        identityState = .ready(identity)
        statistics.producerID = identity.id
        statistics.producerEpoch = identity.epoch
        statistics.producerIdentities += 1
        if statistics.producerIdentities > 1 { statistics.sequenceResets += 1 }
        nextSequences.removeAll()
        for key in Array(queues.keys) {
            for index in queues[key]!.batches.indices {
                // A batch sent under the old identity and never acknowledged: resent with new
                // sequence numbers, so the broker cannot recognise it if it was written.
                if queues[key]!.batches[index].sequence != nil && queues[key]!.batches[index].maybeWritten {
                    statistics.possiblyDuplicatedRecords += queues[key]!.batches[index].builder.count
                }
                queues[key]!.batches[index].sequence = nil
                queues[key]!.batches[index].maybeWritten = false
            }
        }
        return []
    }

    /// InitProducerId failed. `code` is the broker's error, nil when the request got no answer
    /// (`retriable` then says whether to try again). A refused epoch bump falls back to a new
    /// producer id; a non-retriable failure stops idempotent producing and fails what is buffered.
    public mutating func producerIDFailed(code: KafkaErrorCode?, retriable: Bool, detail: String, now: MonotonicInstant) -> [Action] {
        guard case .requesting(let bump) = identityState else { return [] }
        if bump {
            // KIP-360's bump is refused by brokers that do not implement it (or no longer know
            // the id): ask for a new id instead.
            statistics.refusedEpochBumps += 1
            identityState = .needed(bump: false, retryAt: nil)
            return []
        }
        let canRetry = code.map { $0.isRetriable || $0 == .coordinatorLoadInProgress || $0 == .notCoordinator } ?? retriable
        if canRetry {
            identityState = .needed(bump: false, retryAt: now.advanced(by: configuration.retryBackoff))
            return []
        }
        let failure = Failure.producerIdentity(code, detail: detail)
        identityState = .failed(failure)
        stoppedByFailure = true
        identityFailure = failure
        return [.finish(failEverythingQueued(with: failure))]
    }

    /// The broker answered request `id`.
    public mutating func responseReceived(id: Int, results: [KafkaTopicPartition: PartitionResponse], now: MonotonicInstant) -> [Action] {
        guard let request = requests.removeValue(forKey: id) else { return [] }
        inFlightByBroker[request.broker, default: 1] -= 1
        var outcomes: [BatchOutcome] = []
        for partition in request.partitions {
            guard let answer = results[partition] else {
                finishInFlight(partition, request: id, result: .failure(.missingPartitionInResponse), into: &outcomes)
                continue
            }
            handle(answer, for: partition, request: id, now: now, into: &outcomes)
        }
        return outcomes.isEmpty ? [] : [.finish(outcomes)]
    }

    /// Request `id` got no answer (or none is expected, with acks=0: then `failure` is nil and
    /// the batches are done).
    public mutating func requestFailed(id: Int, failure: any Error & Sendable, kind: RequestFailureKind, now: MonotonicInstant) -> [Action] {
        guard let request = requests.removeValue(forKey: id) else { return [] }
        inFlightByBroker[request.broker, default: 1] -= 1
        if kind.connectionLost {
            connected.remove(request.broker)
            forgetLeader(request.broker)
        }
        var outcomes: [BatchOutcome] = []
        for partition in request.partitions {
            guard let index = queues[partition]?.batches.firstIndex(where: { $0.inFlight == id }) else { continue }
            if kind.ambiguous { queues[partition]!.batches[index].maybeWritten = true }
            if kind.retriable && now.duration(since: queues[partition]!.batches[index].createdAt) < configuration.deliveryTimeout {
                requeue(partition, at: index, now: now, ambiguous: kind.ambiguous)
            } else {
                finishInFlight(partition, request: id, result: .failure(.request(failure)), into: &outcomes)
            }
        }
        return outcomes.isEmpty ? [] : [.finish(outcomes)]
    }

    /// A request with acks=0 was written: its batches are done (offset unknown).
    public mutating func requestWritten(id: Int) -> [Action] {
        guard let request = requests.removeValue(forKey: id) else { return [] }
        inFlightByBroker[request.broker, default: 1] -= 1
        var outcomes: [BatchOutcome] = []
        for partition in request.partitions {
            finishInFlight(partition, request: id, result: .success(-1), into: &outcomes)
        }
        return outcomes.isEmpty ? [] : [.finish(outcomes)]
    }

    /// Stop accepting records; what is buffered is still delivered.
    public mutating func closeRequested() {
        closing = true
        draining = true
    }

    /// The driver stops: fail everything not in flight.
    public mutating func stopped() -> [Action] {
        closing = true
        let outcomes = failEverythingQueued(with: .closed)
        return outcomes.isEmpty ? [] : [.finish(outcomes)]
    }

    // MARK: - Transactions

    /// Partitions holding batches that wait for AddPartitionsToTxn (transactional only), sorted.
    public var partitionsAwaitingTransaction: [KafkaTopicPartition] {
        guard configuration.transactional else { return [] }
        var keys = storedQueues.keys.filter { !transactionPartitions.contains($0) }
        if let hot = hotQueue, !hot.queue.batches.isEmpty, !transactionPartitions.contains(hot.key) { keys.append(hot.key) }
        return keys.sorted()
    }

    /// AddPartitionsToTxn succeeded for `partitions`: their batches may be sent.
    public mutating func partitionsAddedToTransaction(_ partitions: [KafkaTopicPartition]) {
        transactionPartitions.formUnion(partitions)
    }

    /// The transaction ended (committed or aborted): the next records need their partitions
    /// added again.
    public mutating func transactionEnded() {
        transactionPartitions.removeAll()
    }

    /// Fails every batch not in flight with `failure` (an abort, or a transaction that failed).
    public mutating func failBuffered(_ failure: KafkaTransactionMachine.Failure) -> [Action] {
        let outcomes = failEverythingQueued(with: .transaction(failure))
        return outcomes.isEmpty ? [] : [.finish(outcomes)]
    }

    // MARK: - The sender's pass

    /// Time passed (or something changed): expire batches past the delivery timeout, and send
    /// what is ready. Call after every event that may free a slot, and when ``nextDeadline(now:)``
    /// arrives.
    public mutating func poll(now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        var expired: [BatchOutcome] = []
        var plans: [Int32: ProduceRequestPlan] = [:]
        var planSizes: [Int32: Int] = [:]
        var resetSequences = false

        // The producer id: ask when needed and nothing of the old identity is in flight.
        if case .draining(let bump) = identityState, requests.isEmpty {
            identityState = .needed(bump: bump, retryAt: nil)
        }
        if !configuration.transactional, case .needed(let bump, let retryAt) = identityState, retryAt.map({ $0 <= now }) ?? true {
            identityState = .requesting(bump: bump)
            actions.append(.initProducerID(current: bump ? lastIdentity : nil))
        }
        let identity = producerIdentity
        let blockedByIdentity = configuration.idempotent && identity == nil
        let perPartition = configuration.maxInFlightPerPartition

        for key in Array(queues.keys) {
            var queue = queues.removeValue(forKey: key)!
            defer { if !queue.batches.isEmpty { queues[key] = queue } }
            // Expire what waited past the delivery timeout (never a batch in flight).
            while let first = queue.batches.first, first.inFlight == nil,
                  now.duration(since: first.createdAt) >= configuration.deliveryTimeout {
                let batch = queue.batches.removeFirst()
                if batch.sequence != nil { resetSequences = true }
                expired.append(release(batch, of: key, result: .failure(.deliveryTimeout(attempts: batch.attempts))))
            }
            if blockedByIdentity { continue }
            if configuration.transactional && !transactionPartitions.contains(key) { continue }
            guard let index = queue.batches.firstIndex(where: { $0.inFlight == nil }) else { continue }
            // In order: nothing after a batch waiting to be sent again may be in flight.
            if queue.batches[(index + 1)...].contains(where: { $0.inFlight != nil }) { continue }
            if index >= perPartition { continue }
            let batch = queue.batches[index]
            // A batch that failed goes alone until it succeeds, so it cannot be overtaken again.
            if index > 0 && queue.batches[0].attempts > 0 { continue }
            if let retryAt = batch.retryAt, retryAt > now { continue }
            let ready = batch.sealed || draining || queue.batches.count > index + 1
                || now.duration(since: batch.createdAt) >= configuration.linger
            guard ready else { continue }
            guard let info = topics[key.topic], Int(key.partition) < info.leaders.count, info.leaders[Int(key.partition)] >= 0 else {
                if !refreshing.contains(key.topic) {
                    refreshing.insert(key.topic)
                    actions.append(.refreshMetadata(topic: key.topic))
                }
                continue
            }
            let leader = info.leaders[Int(key.partition)]
            guard connected.contains(leader) else {
                if !connecting.contains(leader) {
                    connecting.insert(leader)
                    actions.append(.connect(broker: leader))
                }
                continue
            }
            if plans[leader] == nil {
                guard inFlightByBroker[leader, default: 0] < configuration.maxInFlightRequestsPerConnection else { continue }
                plans[leader] = ProduceRequestPlan(id: nextRequestID, broker: leader, batches: [])
                nextRequestID += 1
                inFlightByBroker[leader, default: 0] += 1
            }
            let size = batch.builder.uncompressedSize
            guard plans[leader]!.batches.isEmpty || planSizes[leader, default: 0] + size <= configuration.maxRequestSize else { continue }
            var builder = batch.builder
            if let identity {
                let sequence: (identity: ProducerIdentity, base: Int32)
                if let kept = batch.sequence, kept.identity == identity {
                    sequence = kept
                } else {
                    let next = nextSequences[key, default: 0]
                    sequence = (identity, next)
                    nextSequences[key] = Self.sequence(next, plus: builder.count)
                    queue.batches[index].sequence = sequence
                }
                builder.settings.producerID = identity.id
                builder.settings.producerEpoch = identity.epoch
                builder.settings.baseSequence = sequence.base
            }
            queue.batches[index].sealed = true
            queue.batches[index].inFlight = plans[leader]!.id
            planSizes[leader, default: 0] += size
            plans[leader]!.batches.append(OutgoingBatch(partition: key, builder: builder))
        }
        if !expired.isEmpty { actions.append(.finish(expired)) }
        if resetSequences { beginIdentityReset(bump: true) }
        for (_, plan) in plans.sorted(by: { $0.key < $1.key }) {
            requests[plan.id] = Request(broker: plan.broker, partitions: plan.batches.map(\.partition))
            statistics.requests += 1
            actions.append(.send(plan))
        }
        return actions
    }

    /// When the driver must call ``poll(now:)`` at the latest, with nothing else happening.
    ///
    /// Only instants after `now` count: a batch whose linger or retry time has passed and that
    /// ``poll(now:)`` still did not send waits for an event (metadata, a connection, the producer
    /// id, a partition joining the transaction, a free in-flight slot), not for the clock; a
    /// deadline in the past would make the driver poll in a busy loop until that event.
    public func nextDeadline(now: MonotonicInstant) -> MonotonicInstant? {
        var next: MonotonicInstant?
        func consider(_ instant: MonotonicInstant) {
            guard instant > now else { return }
            next = next.map { min($0, instant) } ?? instant
        }
        if case .needed(_, let retryAt?) = identityState { consider(retryAt) }
        func consider(_ queue: PartitionQueue) {
            for batch in queue.batches where batch.inFlight == nil {
                consider(batch.createdAt.advanced(by: configuration.deliveryTimeout))
                if let retryAt = batch.retryAt { consider(retryAt) }
                if !batch.sealed { consider(batch.createdAt.advanced(by: configuration.linger)) }
            }
        }
        for queue in storedQueues.values { consider(queue) }
        if let hot = hotQueue { consider(hot.queue) }
        return next
    }

    // MARK: - Internals

    private var lastIdentity: ProducerIdentity?

    private mutating func handle(_ answer: PartitionResponse, for partition: KafkaTopicPartition, request: Int, now: MonotonicInstant, into outcomes: inout [BatchOutcome]) {
        guard let index = queues[partition]?.batches.firstIndex(where: { $0.inFlight == request }) else { return }
        let code = answer.errorCode
        if !code.isError {
            finishInFlight(partition, request: request, result: .success(answer.baseOffset), into: &outcomes)
            return
        }
        if code == .duplicateSequenceNumber {
            // Already written by an earlier attempt: a success whose offset the broker may not say.
            statistics.recognisedDuplicates += 1
            finishInFlight(partition, request: request, result: .success(answer.baseOffset), into: &outcomes)
            return
        }
        let batch = queues[partition]!.batches[index]
        let withinTimeout = now.duration(since: batch.createdAt) < configuration.deliveryTimeout
        if configuration.transactional && (code == .outOfOrderSequenceNumber || code == .unknownProducerID || code == .invalidProducerEpoch
                                           || code == .producerFenced || code == .transactionalIDAuthorizationFailed) {
            if index > 0 && withinTimeout && (code == .outOfOrderSequenceNumber || code == .unknownProducerID) {
                requeue(partition, at: index, now: now, ambiguous: false, counted: false)
                return
            }
            // Inside a transaction these end the transaction (or the producer), not the batch's
            // identity: the driver's transaction machine decides.
            finishInFlight(partition, request: request, result: .failure(.broker(code, message: answer.message)), into: &outcomes)
            return
        }
        if configuration.idempotent && (code == .outOfOrderSequenceNumber || code == .unknownProducerID) {
            if index > 0 && withinTimeout {
                // An earlier batch has not landed yet: this one follows it when it is sent again.
                requeue(partition, at: index, now: now, ambiguous: false, counted: false)
                return
            }
            // The broker lost this producer's state (or a sequence): a new epoch or id, and the
            // unacknowledged batches again under it (KIP-360).
            if withinTimeout {
                requeue(partition, at: index, now: now, ambiguous: false)
                beginIdentityReset(bump: true)
                return
            }
        }
        if configuration.idempotent && (code == .invalidProducerEpoch || code == .producerFenced) && withinTimeout {
            requeue(partition, at: index, now: now, ambiguous: false)
            beginIdentityReset(bump: false)
            return
        }
        if code.isRetriable && withinTimeout {
            requeue(partition, at: index, now: now, ambiguous: false)
            if Self.invalidatesMetadata(code) { forgetLeader(ofTopic: partition.topic) }
            return
        }
        finishInFlight(partition, request: request, result: .failure(.broker(code, message: answer.message)), into: &outcomes)
    }

    private static func invalidatesMetadata(_ code: KafkaErrorCode) -> Bool {
        code == .notLeaderOrFollower || code == .unknownTopicOrPartition || code == .leaderNotAvailable
            || code == .fencedLeaderEpoch || code == .unknownLeaderEpoch
    }

    /// Puts an in-flight batch back to be sent again after a backoff.
    private mutating func requeue(_ partition: KafkaTopicPartition, at index: Int, now: MonotonicInstant, ambiguous: Bool, counted: Bool = true) {
        var batch = queues[partition]!.batches[index]
        batch.inFlight = nil
        if counted {
            batch.attempts += 1
            batch.retryAt = now.advanced(by: backoff(attempt: batch.attempts - 1))
            statistics.retriedBatches += 1
            // Without sequence numbers nothing stops the broker from storing it twice.
            if ambiguous && !configuration.idempotent { statistics.possiblyDuplicatedRecords += batch.builder.count }
        }
        queues[partition]!.batches[index] = batch
    }

    private mutating func backoff(attempt: Int) -> Duration {
        KafkaBackoff.delay(attempt: attempt, base: configuration.retryBackoff, max: configuration.retryBackoffMax,
                           unit: Double(random.next() >> 11) / Double(1 << 53))
    }

    /// Stops sending until every request of the current identity came back, then asks for a new
    /// epoch (`bump`) or a new id.
    private mutating func beginIdentityReset(bump: Bool) {
        // A transactional producer's epoch changes only through the transaction machine.
        guard configuration.idempotent, !configuration.transactional else { return }
        switch identityState {
        case .ready(let identity):
            lastIdentity = identity
            identityState = .draining(bump: bump)
        case .draining(let wasBump):
            identityState = .draining(bump: wasBump && bump)
        default:
            break
        }
    }

    private mutating func forgetLeader(ofTopic topic: String) {
        topics[topic]?.leaders = []
    }

    private mutating func forgetLeader(_ broker: Int32) {
        for (name, info) in topics where info.leaders.contains(broker) {
            topics[name]?.leaders = []
        }
    }

    /// Removes the batch `request` carries for `partition` and reports its result.
    private mutating func finishInFlight(_ partition: KafkaTopicPartition, request: Int, result: Result<Int64, Failure>, into outcomes: inout [BatchOutcome]) {
        guard var queue = queues[partition], let index = queue.batches.firstIndex(where: { $0.inFlight == request }) else { return }
        let batch = queue.batches.remove(at: index)
        queues[partition] = queue.batches.isEmpty ? nil : queue
        if case .failure = result, batch.sequence != nil {
            // A sequence number was used and the batch given up: later batches would be out of order.
            beginIdentityReset(bump: true)
        }
        outcomes.append(release(batch, of: partition, result: result))
    }

    private mutating func release(_ batch: Batch, of partition: KafkaTopicPartition, result: Result<Int64, Failure>) -> BatchOutcome {
        bufferedBytes -= batch.reservedBytes
        outstandingRecords -= batch.builder.count
        switch result {
        case .success: statistics.deliveredRecords += batch.builder.count
        case .failure: statistics.failedRecords += batch.builder.count
        }
        return BatchOutcome(partition: partition, result: result, deliveries: batch.deliveries, recordCount: batch.builder.count)
    }

    private mutating func failEverythingQueued(with failure: Failure) -> [BatchOutcome] {
        var outcomes: [BatchOutcome] = []
        for key in Array(queues.keys).sorted() {
            var queue = queues[key]!
            var kept: [Batch] = []
            for batch in queue.batches {
                if batch.inFlight != nil { kept.append(batch) } else { outcomes.append(release(batch, of: key, result: .failure(failure))) }
            }
            queue.batches = kept
            queues[key] = queue.batches.isEmpty ? nil : queue
        }
        return outcomes
    }

    /// Sequence numbers wrap from Int32.max to 0.
    public static func sequence(_ base: Int32, plus count: Int) -> Int32 {
        Int32(truncatingIfNeeded: (Int64(base) + Int64(count)) % (Int64(Int32.max) + 1))
    }
}
