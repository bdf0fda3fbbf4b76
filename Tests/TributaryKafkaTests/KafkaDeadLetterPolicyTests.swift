import Testing
import TributaryKafka

@Suite("Dead-letter destinations are chosen explicitly")
struct KafkaDeadLetterPolicyTests {
    @Test func eachPolicyNamesItsTopic() {
        #expect(KafkaDeadLetterPolicy.none.topic(forRecordsOf: "orders") == nil)
        #expect(KafkaDeadLetterPolicy.topic("failed").topic(forRecordsOf: "orders") == "failed")
        #expect(KafkaDeadLetterPolicy.suffix(".DLQ").topic(forRecordsOf: "orders") == "orders.DLQ")
        #expect(KafkaDeadLetterPolicy.topic(for: { "dlq-" + $0 }).topic(forRecordsOf: "orders") == "dlq-orders")
    }

    @Test func notifyingKeepsTheDestination() {
        let policy = KafkaDeadLetterPolicy.suffix(".DLQ").notifying { _ in }
        #expect(policy.onDeadLetter != nil)
        #expect(policy.topic(forRecordsOf: "a") == "a.DLQ")
        #expect(KafkaDeadLetterPolicy.suffix(".DLQ").onDeadLetter == nil)
    }

    @Test func countsSayHowManyAndWhy() {
        var counts = KafkaDeadLetterCounts()
        #expect(counts.total == 0)
        #expect(counts.description == "0 dead letters")
        counts.byReason[.poison] = 2
        counts.byReason[.transientTimeout] = 1
        #expect(counts.total == 3)
        #expect(counts.description == "3 dead letters (poison 2, transientTimeout 1)")
    }
}
