import Testing
@testable import TributaryJetStream

/// Transcripts: event → action.
@Suite("Ordered consumer reset logic")
struct OrderedConsumerMachineTests {
    @Test("in-order messages are delivered; a gap recreates from the last delivered stream sequence + 1")
    func gap() {
        var machine = OrderedConsumerMachine(namePrefix: "oc")
        #expect(machine.consumerName == "oc_1")
        #expect(machine.messageReceived(consumer: "oc_1", streamSequence: 10, consumerSequence: 1) == .deliver)
        #expect(machine.messageReceived(consumer: "oc_1", streamSequence: 12, consumerSequence: 2) == .deliver)
        #expect(machine.messageReceived(consumer: "oc_1", streamSequence: 15, consumerSequence: 4) == .recreate(name: "oc_2", startSequence: 13))
        #expect(machine.lastStreamSequence == 12)
        // Late messages of the retired consumer are dropped.
        #expect(machine.messageReceived(consumer: "oc_1", streamSequence: 13, consumerSequence: 3) == .ignore)
        #expect(machine.messageReceived(consumer: "oc_2", streamSequence: 13, consumerSequence: 1) == .deliver)
        #expect(machine.expectedConsumerSequence == 2)
    }

    @Test("a redelivered consumer sequence also resets (never delivered twice)")
    func repeatSequence() {
        var machine = OrderedConsumerMachine(namePrefix: "oc")
        #expect(machine.messageReceived(consumer: "oc_1", streamSequence: 1, consumerSequence: 1) == .deliver)
        #expect(machine.messageReceived(consumer: "oc_1", streamSequence: 1, consumerSequence: 1) == .recreate(name: "oc_2", startSequence: 2))
    }

    @Test("a stream sequence that does not grow resets even when consumer sequences are contiguous")
    func replayedStreamSequence() {
        var machine = OrderedConsumerMachine(namePrefix: "oc")
        #expect(machine.messageReceived(consumer: "oc_1", streamSequence: 5, consumerSequence: 1) == .deliver)
        #expect(machine.messageReceived(consumer: "oc_1", streamSequence: 5, consumerSequence: 2) == .recreate(name: "oc_2", startSequence: 6))
    }

    @Test("missed heartbeats, a deleted consumer, a reconnect and a failed creation each move to a new name")
    func resets() {
        var machine = OrderedConsumerMachine(namePrefix: "p")
        #expect(machine.heartbeatsMissed() == .recreate(name: "p_2", startSequence: nil), "nothing delivered: the original policy applies")
        #expect(machine.messageReceived(consumer: "p_2", streamSequence: 7, consumerSequence: 1) == .deliver)
        #expect(machine.consumerDeleted() == .recreate(name: "p_3", startSequence: 8))
        #expect(machine.reconnected() == .recreate(name: "p_4", startSequence: 8))
        #expect(machine.creationFailed() == .recreate(name: "p_5", startSequence: 8))
        #expect(machine.generation == 5)
        #expect(machine.messageReceived(consumer: "p_4", streamSequence: 8, consumerSequence: 1) == .ignore)
    }
}
