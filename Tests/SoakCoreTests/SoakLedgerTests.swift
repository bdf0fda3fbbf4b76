import SoakCore
import Testing

@Suite("Soak ledger")
struct SoakLedgerTests {
    func ledger(_ delivery: SoakDelivery = .atLeastOnce) -> SoakLedger {
        SoakLedger(scenario: "s", traffic: "t", delivery: delivery)
    }

    @Test func idsAreSequentialAndEverythingReceivedIsNotLost() {
        var ledger = ledger()
        let ids = (0..<200).map { _ in ledger.recordSent() }
        #expect(ids == Array(0..<200))
        for id in ids {
            ledger.recordAcknowledged(id)
            ledger.recordReceived(id)
        }
        let row = ledger.summary
        #expect(row.sent == 200 && row.acknowledged == 200 && row.received == 200)
        #expect(row.lost == 0 && row.duplicates == 0 && row.wiped == 0)
        #expect(ledger.outstanding == 0)
    }

    @Test func acknowledgedButNeverReceivedIsLost() {
        var ledger = ledger()
        for _ in 0..<130 { ledger.recordAcknowledged(ledger.recordSent()) }
        for id in 0..<130 where id != 64 && id != 129 { ledger.recordReceived(id) }
        #expect(ledger.summary.lost == 2)
        #expect(ledger.outstanding == 2)
        ledger.recordReceived(129)
        #expect(ledger.summary.lost == 1)
    }

    @Test func sentButNotAcknowledgedIsNotLost() {
        var ledger = ledger()
        let id = ledger.recordSent()
        ledger.recordFailed(id)
        _ = ledger.recordSent()   // still in flight, never acknowledged
        let row = ledger.summary
        #expect(row.lost == 0 && row.failed == 1 && row.acknowledged == 0)
    }

    @Test func duplicatesAreCountedByID() {
        var ledger = ledger()
        let id = ledger.recordSent()
        ledger.recordAcknowledged(id)
        ledger.recordReceived(id)
        ledger.recordReceived(id)
        ledger.recordReceived(id)
        let row = ledger.summary
        #expect(row.received == 1 && row.duplicates == 2 && row.lost == 0)
    }

    @Test func receiptsOfIDsNeverSentAreUnknown() {
        var ledger = ledger()
        _ = ledger.recordSent()
        ledger.recordReceived(5)
        ledger.recordReceived(-1)
        #expect(ledger.summary.unknown == 2)
        #expect(ledger.summary.received == 0)
    }

    @Test func aBrokerWipeMovesOutstandingRecordsToWipedNotLost() {
        var ledger = ledger()
        for _ in 0..<10 { ledger.recordAcknowledged(ledger.recordSent()) }
        for id in 0..<4 { ledger.recordReceived(id) }
        ledger.recordBrokerWipe()
        #expect(ledger.summary.wiped == 6 && ledger.summary.lost == 0 && ledger.outstanding == 0)
        // One wiped record shows up anyway: received, no longer wiped.
        ledger.recordReceived(7)
        #expect(ledger.summary.wiped == 5 && ledger.summary.received == 5)
        // After the wipe, an acknowledged record that never arrives is lost again.
        let late = ledger.recordSent()
        ledger.recordAcknowledged(late)
        #expect(ledger.summary.lost == 1 && ledger.summary.wiped == 5)
        #expect(ledger.wipes == 1)
    }

    @Test func atMostOnceReportsGapsNeverLosses() {
        var ledger = ledger(.atMostOnce)
        for _ in 0..<100 { _ = ledger.recordSent() }
        for id in stride(from: 0, to: 100, by: 2) { ledger.recordReceived(id) }
        ledger.recordDropsReported(30)
        let row = ledger.summary
        #expect(row.gaps == 50 && row.lost == 0 && row.dropsReported == 30)
    }

    @Test func aProbeWithoutTypedErrorIsLost() {
        var ledger = ledger(.probe)
        for _ in 0..<5 { _ = ledger.recordSent() }
        for id in 0..<4 { ledger.recordAcknowledged(id) }
        #expect(ledger.summary.lost == 1)
    }

    @Test func bitSetCountsAndIgnoresNegatives() {
        var set = SoakBitSet()
        let first = set.insert(1000), again = set.insert(1000), zero = set.insert(0), negative = set.insert(-3)
        #expect(first && !again && zero && !negative)
        #expect(set.contains(1000) && set.contains(0) && !set.contains(999) && !set.contains(-3))
        #expect(set.count == 2)
    }
}
