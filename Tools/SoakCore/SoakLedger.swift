/// What a traffic kind promises, which decides whether a missing message fails the run.
public enum SoakDelivery: String, Sendable, Equatable {
    /// Acknowledged messages must arrive (JetStream acked publish, Kafka produce with acks):
    /// an acknowledged message never received is lost and fails the run.
    case atLeastOnce = "at-least-once"
    /// Core NATS: messages may be dropped on a disconnect; gaps are reported, never a failure.
    case atMostOnce = "at-most-once"
    /// Not messages but attempts against a misbehaving peer: each attempt must end in a typed
    /// error (counted as acknowledged); an attempt that ended any other way is lost.
    case probe
}

/// The count of one traffic kind within one scenario: every message id sent, acknowledged,
/// received, and what became of it.
///
/// Ids are handed out by ``recordSent()`` from 0 upwards and travel in the message, so the
/// receiving side can say which message arrived. Pure value type: the tool keeps one per
/// traffic kind behind a lock.
public struct SoakLedger: Sendable {
    /// Scenario this traffic belongs to (a report row).
    public let scenario: String
    /// Traffic kind, e.g. `jetstream`, `kafka-group`.
    public let traffic: String
    /// What the traffic promises.
    public let delivery: SoakDelivery

    /// Messages (or attempts) sent; also the next id.
    public private(set) var sent = 0
    /// Sends that ended in a reported error (not acknowledged, so never counted lost).
    public private(set) var failed = 0
    /// Receipts beyond the first of an id (redeliveries, retries stored twice).
    public private(set) var duplicates = 0
    /// Receipts of ids that were never sent (a corrupted or foreign message).
    public private(set) var unknown = 0
    /// Messages the client reported dropping (NATS slow-consumer drops).
    public private(set) var dropsReported = 0
    /// How many broker wipes were recorded.
    public private(set) var wipes = 0

    private var acked = SoakBitSet()
    private var received = SoakBitSet()
    private var wiped = SoakBitSet()

    /// A ledger with nothing recorded.
    public init(scenario: String, traffic: String, delivery: SoakDelivery) {
        self.scenario = scenario
        self.traffic = traffic
        self.delivery = delivery
    }

    /// Counts one message as sent and returns its id.
    public mutating func recordSent() -> Int {
        defer { sent += 1 }
        return sent
    }

    /// The broker (or, for a probe, the typed error) acknowledged message `id`.
    public mutating func recordAcknowledged(_ id: Int) {
        guard id >= 0, id < sent else { return }
        acked.insert(id)
    }

    /// Sending `id` ended in a reported error.
    public mutating func recordFailed(_ id: Int) {
        guard id >= 0, id < sent else { return }
        failed += 1
    }

    /// Message `id` arrived at a consumer.
    public mutating func recordReceived(_ id: Int) {
        guard id >= 0, id < sent else {
            unknown += 1
            return
        }
        if !received.insert(id) { duplicates += 1 }
    }

    /// The client reported `count` dropped messages (in addition to earlier reports).
    public mutating func recordDropsReported(_ count: Int) {
        dropsReported += max(0, count)
    }

    /// The broker lost its storage (a memory-storage broker restarted): every message
    /// acknowledged so far and not received yet is gone by design. Those are counted as wiped,
    /// not lost; one that shows up later anyway counts as received.
    public mutating func recordBrokerWipe() {
        wipes += 1
        for index in 0..<SoakBitSet.span(acked, received, wiped) {
            wiped.setWord(index, wiped.word(index) | (acked.word(index) & ~received.word(index)))
        }
    }

    /// Ids acknowledged and not received (nor wiped): what the run is still waiting for.
    public var outstanding: Int {
        var count = 0
        for index in 0..<SoakBitSet.span(acked, received, wiped) {
            count += (acked.word(index) & ~received.word(index) & ~wiped.word(index)).nonzeroBitCount
        }
        return count
    }

    /// The counts for the report.
    public var summary: SoakRow {
        var wipedCount = 0
        for index in 0..<SoakBitSet.span(received, wiped) {
            wipedCount += (wiped.word(index) & ~received.word(index)).nonzeroBitCount
        }
        let distinctReceived = received.count
        let missing = outstanding
        return SoakRow(
            scenario: scenario, traffic: traffic, delivery: delivery,
            sent: sent, acknowledged: acked.count, failed: failed, received: distinctReceived,
            lost: delivery == .atMostOnce ? 0 : delivery == .probe ? sent - acked.count : missing,
            wiped: wipedCount, duplicates: duplicates, unknown: unknown,
            gaps: delivery == .atMostOnce ? max(0, sent - distinctReceived) : 0,
            dropsReported: dropsReported
        )
    }
}
