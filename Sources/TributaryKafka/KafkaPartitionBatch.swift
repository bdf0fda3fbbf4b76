import TributaryWire

/// The records of one partition from one fetch, handed to a batch handler of
/// ``KafkaGroupConsumer/run(concurrency:retry:deadLetter:eachBatch:)`` (like kafkajs's
/// `eachBatch`).
///
/// The handler resolves records as it confirms them (``resolve(through:)``); a handler that
/// returns normally resolves the whole batch. Resolved offsets are committed with the run loop's
/// next commit, or now with ``commit()``. When the handler throws, what it resolved stays
/// resolved, and the rest is offered again (a new batch) under the retry policy; a record the
/// loop gives up on is the first unresolved one.
public final class KafkaPartitionBatch: Sendable, CustomStringConvertible {
    /// The topic.
    public let topic: String
    /// The partition.
    public let partition: Int32
    /// The records in offset order (never empty).
    public let records: [KafkaConsumerRecord]
    /// Which attempt this is for the first record, and what failed before.
    public let context: KafkaHandlerContext
    private let owner: KafkaGroupConsumer
    private let resolved = Locked<Int64?>(nil)

    init(topic: String, partition: Int32, records: [KafkaConsumerRecord], context: KafkaHandlerContext, owner: KafkaGroupConsumer) {
        self.topic = topic
        self.partition = partition
        self.records = records
        self.context = context
        self.owner = owner
    }

    /// The offset of the first record.
    public var firstOffset: Int64 { records.first?.offset ?? 0 }
    /// The offset of the last record.
    public var lastOffset: Int64 { records.last?.offset ?? 0 }

    /// The offset of the last record resolved so far, nil when none.
    public var lastResolvedOffset: Int64? { resolved.withLock { $0 } }

    /// Marks the records up to and including `offset` processed (kafkajs's `resolveOffset`).
    /// Offsets outside the batch are clamped to it; resolving never goes backwards.
    public func resolve(through offset: Int64) {
        let clamped = min(offset, lastOffset)
        guard clamped >= firstOffset else { return }
        let advanced = resolved.withLock { current -> Bool in
            guard clamped > (current ?? Int64.min) else { return false }
            current = clamped
            return true
        }
        if advanced { owner.markProcessed(topic: topic, partition: partition, offset: clamped) }
    }

    /// Marks `record` and everything before it in the batch processed.
    public func resolve(_ record: KafkaConsumerRecord) { resolve(through: record.offset) }

    /// Commits the resolved offsets now instead of at the run loop's next commit.
    ///
    /// - Throws: ``KafkaError`` from OffsetCommit (for example `REBALANCE_IN_PROGRESS` when the
    ///   group moved on).
    public func commit() async throws(KafkaError) { try await owner.commit() }

    /// True when the partition is no longer this member's (revoked or lost), the member is
    /// closing or the run is cancelled: resolve what is done and return.
    public var isStale: Bool { Task.isCancelled || !owner.isOwned(topic: topic, partition: partition) }

    /// `topic [partition] offsets first…last (n records, attempt k)`.
    public var description: String {
        "\(topic) [\(partition)] offsets \(firstOffset)…\(lastOffset) (\(records.count) record\(records.count == 1 ? "" : "s"), attempt \(context.attempt))"
    }
}
