/// The `read_committed` rule for aborted transactions (KIP-98), as a pure value: which fetched
/// batches a consumer delivers.
///
/// A Fetch answer at isolation level 1 lists the aborted transactions that overlap the returned
/// range, each as a producer id and the offset of its first record. Walking the partition's
/// batches in offset order, a producer's transactional batches are dropped from the first
/// offset of its aborted transaction up to that producer's abort marker (a control batch); its
/// later transactions are delivered again. Control batches are never delivered, and neither are
/// records of other producers affected: an idempotent (non-transactional) batch of the same
/// producer id is delivered too.
public struct KafkaAbortedTransactionFilter: Sendable {
    /// One aborted transaction from the Fetch answer.
    public struct AbortedTransaction: Sendable, Hashable {
        /// The producer whose transaction was aborted.
        public var producerID: Int64
        /// The offset of the transaction's first record in this partition.
        public var firstOffset: Int64

        /// Creates an entry.
        public init(producerID: Int64, firstOffset: Int64) {
            self.producerID = producerID
            self.firstOffset = firstOffset
        }
    }

    /// The aborted transactions not reached yet, by first offset.
    private let pending: [AbortedTransaction]
    private var nextPending = 0
    /// Producers inside an aborted transaction at the current position.
    private var abortedProducers: Set<Int64> = []

    /// A filter for one fetched range of one partition. `aborted` may come in any order.
    public init(aborted: [AbortedTransaction]) {
        pending = aborted.enumerated().sorted { ($0.element.firstOffset, $0.offset) < ($1.element.firstOffset, $1.offset) }.map(\.element)
    }

    /// Whether to deliver `batch`'s records. Call once per batch, in offset order, control
    /// batches included (they end a producer's aborted transaction).
    public mutating func shouldDeliver(_ batch: KafkaRecordBatch) -> Bool {
        // Every aborted transaction that starts at or before this batch's end is now open.
        while nextPending < pending.count, pending[nextPending].firstOffset <= batch.lastOffset {
            abortedProducers.insert(pending[nextPending].producerID)
            nextPending += 1
        }
        if batch.isControl {
            if batch.controlMarker == .abort { abortedProducers.remove(batch.producerID) }
            return false
        }
        return !(batch.isTransactional && abortedProducers.contains(batch.producerID))
    }
}
