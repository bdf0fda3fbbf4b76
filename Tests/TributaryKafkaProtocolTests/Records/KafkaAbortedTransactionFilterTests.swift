import Testing
import TributaryCompression
import TributaryKafkaProtocol

/// The read_committed rule over crafted batches and aborted-transaction lists.
@Suite("Kafka aborted-transaction filter")
struct KafkaAbortedTransactionFilterTests {
    enum Kind { case data, transactional, commitMarker, abortMarker }

    /// A batch of `count` records from `base`, by `producer`.
    static func batch(_ base: Int64, count: Int32 = 1, producer: Int64, _ kind: Kind) -> KafkaRecordBatch {
        let control = kind == .commitMarker || kind == .abortMarker
        let attributes = KafkaRecordBatch.Attributes(compression: .none, isTransactional: kind != .data, isControl: control)
        let records = (0..<count).map { KafkaRecord(offset: base + Int64($0), timestamp: 0, key: nil, value: [UInt8(truncatingIfNeeded: base + Int64($0))], headers: []) }
        return KafkaRecordBatch(baseOffset: base, batchLength: 0, partitionLeaderEpoch: 0, magic: 2, crc: 0, attributes: attributes,
                                lastOffsetDelta: count - 1, baseTimestamp: 0, maxTimestamp: 0, producerID: producer, producerEpoch: 0,
                                baseSequence: 0, recordCount: count, records: records,
                                controlMarker: kind == .abortMarker ? .abort : kind == .commitMarker ? .commit : nil)
    }

    /// The base offsets of the batches the filter delivers, walking them in order.
    static func delivered(_ batches: [KafkaRecordBatch], aborted: [(Int64, Int64)]) -> [Int64] {
        var filter = KafkaAbortedTransactionFilter(aborted: aborted.map { .init(producerID: $0.0, firstOffset: $0.1) })
        return batches.filter { filter.shouldDeliver($0) }.map(\.baseOffset)
    }

    @Test func withoutAbortedTransactionsEverythingButMarkersIsDelivered() {
        let batches = [Self.batch(0, count: 2, producer: 7, .transactional), Self.batch(2, producer: 7, .commitMarker),
                       Self.batch(3, producer: -1, .data), Self.batch(4, producer: 7, .transactional), Self.batch(5, producer: 7, .abortMarker)]
        #expect(Self.delivered(batches, aborted: []) == [0, 3, 4])
    }

    @Test func droppingStartsAtTheFirstOffsetAndStopsAtTheProducersAbortMarker() {
        let batches = [
            Self.batch(8, count: 2, producer: 7, .transactional),    // committed earlier
            Self.batch(10, producer: 7, .commitMarker),
            Self.batch(11, count: 2, producer: 7, .transactional),   // aborted transaction starts here
            Self.batch(13, producer: 8, .transactional),             // another producer: delivered
            Self.batch(14, producer: 7, .transactional),             // still the aborted one
            Self.batch(15, producer: 7, .abortMarker),
            Self.batch(16, count: 3, producer: 7, .transactional),   // the producer's next transaction
            Self.batch(19, producer: 7, .commitMarker),
        ]
        #expect(Self.delivered(batches, aborted: [(7, 11)]) == [8, 13, 16])
    }

    @Test func aCommitMarkerDoesNotEndAnAbortedTransaction() {
        // Producer 8 commits while producer 7's aborted transaction is open.
        let batches = [Self.batch(0, producer: 7, .transactional), Self.batch(1, producer: 8, .transactional),
                       Self.batch(2, producer: 8, .commitMarker), Self.batch(3, producer: 7, .transactional),
                       Self.batch(4, producer: 7, .abortMarker)]
        #expect(Self.delivered(batches, aborted: [(7, 0)]) == [1])
    }

    @Test func nonTransactionalBatchesOfTheSameProducerAreDelivered() {
        let batches = [Self.batch(0, producer: 7, .transactional), Self.batch(1, producer: 7, .data), Self.batch(2, producer: 7, .abortMarker)]
        #expect(Self.delivered(batches, aborted: [(7, 0)]) == [1])
    }

    @Test func twoAbortedTransactionsOfOneProducerInAnyOrder() {
        let batches = [
            Self.batch(0, count: 2, producer: 5, .transactional), Self.batch(2, producer: 5, .abortMarker),
            Self.batch(3, producer: 5, .transactional), Self.batch(4, producer: 5, .commitMarker),
            Self.batch(5, count: 2, producer: 5, .transactional), Self.batch(7, producer: 5, .abortMarker),
            Self.batch(8, producer: 5, .transactional),
        ]
        #expect(Self.delivered(batches, aborted: [(5, 5), (5, 0)]) == [3, 8])
    }

    @Test func aTransactionListedBeforeTheFetchedRangeIsOpenFromTheFirstBatch() {
        // The fetch starts in the middle of an aborted transaction that began at offset 40.
        let batches = [Self.batch(50, producer: 3, .transactional), Self.batch(51, producer: 3, .abortMarker), Self.batch(52, producer: 3, .transactional)]
        #expect(Self.delivered(batches, aborted: [(3, 40)]) == [52])
    }

    @Test func batchesBeforeTheFirstOffsetAreDelivered() {
        let batches = [Self.batch(0, producer: 3, .transactional), Self.batch(1, producer: 3, .commitMarker),
                       Self.batch(2, producer: 3, .transactional), Self.batch(3, producer: 3, .abortMarker)]
        #expect(Self.delivered(batches, aborted: [(3, 2)]) == [0])
    }
}
