import Testing
import TributaryKafkaProtocol

/// Transcript tests of the transaction machine: user calls and broker answers in, actions out.
@Suite("Kafka transaction machine")
struct KafkaTransactionMachineTests {
    typealias Machine = KafkaTransactionMachine

    static func tp(_ partition: Int32, _ topic: String = "orders") -> KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }
    static let identity = Machine.Identity(id: 4001, epoch: 0)
    static let group = Machine.GroupMetadata(groupID: "payments", generationID: 7, memberID: "m-1")

    /// A machine after initTransactions: coordinator found, producer id 4001/0.
    static func ready() -> Machine {
        var machine = Machine()
        #expect(machine.initRequested() == [.send(.findCoordinator, delay: .zero)])
        #expect(machine.responseReceived(.findCoordinator, code: .noError) == [.send(.initProducerID(current: nil), delay: .zero)])
        #expect(machine.producerIDGranted(identity) == [.identityGranted(identity), .complete(nil)])
        #expect(machine.state == .ready)
        return machine
    }

    /// A machine with an open transaction holding partition 0 of orders.
    static func inTransaction() -> Machine {
        var machine = ready()
        #expect(machine.beginRequested() == nil)
        #expect(machine.partitionsNeeded([tp(0)]) == [.send(.addPartitions([tp(0)]), delay: .zero)])
        #expect(machine.responseReceived(.addPartitions([tp(0)]), code: .noError) == [.partitionsAdded([tp(0)])])
        return machine
    }

    @Test func initFindsTheCoordinatorThenAsksForTheIDAndRetriesWhileTheCoordinatorLoads() {
        var machine = Machine()
        #expect(machine.appendRefusal != nil)
        #expect(machine.initRequested() == [.send(.findCoordinator, delay: .zero)])
        #expect(machine.state == .initializing)
        #expect(machine.responseReceived(.findCoordinator, code: .coordinatorNotAvailable) == [.send(.findCoordinator, delay: .milliseconds(100))])
        #expect(machine.responseReceived(.findCoordinator, code: .noError) == [.send(.initProducerID(current: nil), delay: .zero)])
        // COORDINATOR_LOAD_IN_PROGRESS and CONCURRENT_TRANSACTIONS: the same request again, backing off.
        #expect(machine.responseReceived(.initProducerID(current: nil), code: .coordinatorLoadInProgress)
                == [.send(.initProducerID(current: nil), delay: .milliseconds(100))])
        #expect(machine.responseReceived(.initProducerID(current: nil), code: .concurrentTransactions)
                == [.send(.initProducerID(current: nil), delay: .milliseconds(200))])
        #expect(machine.producerIDGranted(Self.identity) == [.identityGranted(Self.identity), .complete(nil)])
        #expect(machine.state == .ready)
        #expect(machine.initRequested() == [.complete(.invalidState("initTransactions() was already called on this producer"))])
    }

    @Test func notCoordinatorFindsTheCoordinatorAgainBeforeResending() {
        var machine = Self.inTransaction()
        #expect(machine.partitionsNeeded([Self.tp(0), Self.tp(1)]) == [.send(.addPartitions([Self.tp(1)]), delay: .zero)])
        #expect(machine.responseReceived(.addPartitions([Self.tp(1)]), code: .notCoordinator) == [.send(.findCoordinator, delay: .zero)])
        #expect(!machine.coordinatorKnown)
        #expect(machine.responseReceived(.findCoordinator, code: .noError) == [.send(.addPartitions([Self.tp(1)]), delay: .zero)])
        #expect(machine.responseReceived(.addPartitions([Self.tp(1)]), code: .noError) == [.partitionsAdded([Self.tp(1)])])
        #expect(machine.partitions == [Self.tp(0), Self.tp(1)])
    }

    @Test func aLostConnectionToTheCoordinatorFindsItAgain() {
        var machine = Self.inTransaction()
        #expect(machine.commitRequested() == [.flush])
        #expect(machine.flushed() == [.send(.endTransaction(commit: true), delay: .zero)])
        #expect(machine.requestFailed(.endTransaction(commit: true), retriable: true, detail: "connection reset") == [.send(.findCoordinator, delay: .milliseconds(100))])
        #expect(machine.responseReceived(.findCoordinator, code: .noError) == [.send(.endTransaction(commit: true), delay: .zero)])
        #expect(machine.responseReceived(.endTransaction(commit: true), code: .noError) == [.transactionEnded, .complete(nil)])
    }

    @Test func recordsOnlyInsideATransaction() {
        var machine = Self.ready()
        #expect(machine.appendRefusal == .invalidState("a transactional producer sends records only inside a transaction; call beginTransaction() first"))
        #expect(machine.beginRequested() == nil)
        #expect(machine.appendRefusal == nil)
        #expect(machine.beginRequested() == .invalidState("a transaction is already open; commit or abort it first"))
    }

    @Test func commitFlushesThenEndsTheTransaction() {
        var machine = Self.inTransaction()
        // Partitions already added are not added again; a partition add waits for the one out.
        #expect(machine.partitionsNeeded([Self.tp(0)]) == [])
        #expect(machine.commitRequested() == [.flush])
        #expect(machine.state == .committing)
        #expect(machine.appendRefusal != nil)
        #expect(machine.commitRequested() == [.complete(.invalidState("another transaction operation is still running; wait for it to finish"))])
        #expect(machine.flushed() == [.send(.endTransaction(commit: true), delay: .zero)])
        #expect(machine.responseReceived(.endTransaction(commit: true), code: .concurrentTransactions)
                == [.send(.endTransaction(commit: true), delay: .milliseconds(100))])
        #expect(machine.responseReceived(.endTransaction(commit: true), code: .noError) == [.transactionEnded, .complete(nil)])
        #expect(machine.state == .ready)
        #expect(machine.partitions.isEmpty)
    }

    @Test func anEmptyTransactionCommitsWithoutARequest() {
        var machine = Self.ready()
        #expect(machine.beginRequested() == nil)
        #expect(machine.commitRequested() == [.flush])
        #expect(machine.flushed() == [.transactionEnded, .complete(nil)])
        #expect(machine.state == .ready)
    }

    @Test func abortDropsBufferedRecordsThenEndsWithAbort() {
        var machine = Self.inTransaction()
        #expect(machine.abortRequested() == [.failBuffered(.aborted), .flush])
        #expect(machine.state == .aborting)
        // Partitions are not added while aborting.
        #expect(machine.partitionsNeeded([Self.tp(3)]) == [])
        #expect(machine.flushed() == [.send(.endTransaction(commit: false), delay: .zero)])
        #expect(machine.responseReceived(.endTransaction(commit: false), code: .noError) == [.transactionEnded, .complete(nil)])
        #expect(machine.state == .ready)
        #expect(machine.abortRequested() == [.complete(.invalidState("no transaction is open; nothing to abort"))])
    }

    @Test func anAbortWhileAPartitionIsBeingAddedWaitsForTheAnswerAndEndsTheTransaction() {
        // The first record of a transaction asked for its partition; the abort's flush finishes
        // before the coordinator answers. Ending without EndTxn would leave the transaction open
        // on the coordinator, and the next one would run without AddPartitionsToTxn.
        var machine = Self.ready()
        #expect(machine.beginRequested() == nil)
        #expect(machine.partitionsNeeded([Self.tp(0)]) == [.send(.addPartitions([Self.tp(0)]), delay: .zero)])
        #expect(machine.abortRequested() == [.failBuffered(.aborted), .flush])
        #expect(machine.flushed() == [])
        #expect(machine.state == .aborting)
        #expect(machine.responseReceived(.addPartitions([Self.tp(0)]), code: .noError)
                == [.partitionsAdded([Self.tp(0)]), .send(.endTransaction(commit: false), delay: .zero)])
        #expect(machine.responseReceived(.endTransaction(commit: false), code: .noError) == [.transactionEnded, .complete(nil)])
        #expect(machine.partitionsInFlight.isEmpty && machine.partitions.isEmpty)
        // The next transaction adds its partition again.
        #expect(machine.beginRequested() == nil)
        #expect(machine.partitionsNeeded([Self.tp(0)]) == [.send(.addPartitions([Self.tp(0)]), delay: .zero)])
    }

    @Test func anAbortWhoseLastPartitionAddIsRefusedEndsWithoutEndTxnAndStaysUsable() {
        var machine = Self.ready()
        #expect(machine.beginRequested() == nil)
        #expect(machine.partitionsNeeded([Self.tp(0)]) == [.send(.addPartitions([Self.tp(0)]), delay: .zero)])
        #expect(machine.abortRequested() == [.failBuffered(.aborted), .flush])
        #expect(machine.flushed() == [])
        // Nothing joined the transaction on the coordinator: there is nothing to end.
        #expect(machine.responseReceived(.addPartitions([Self.tp(0)]), code: .topicAuthorizationFailed) == [.transactionEnded, .complete(nil)])
        #expect(machine.state == .ready)
    }

    @Test func aCommitWhoseRecordsFailedWhileAPartitionWasBeingAddedWaitsForTheAnswer() {
        var machine = Self.inTransaction()
        #expect(machine.partitionsNeeded([Self.tp(1)]) == [.send(.addPartitions([Self.tp(1)]), delay: .zero)])
        #expect(machine.commitRequested() == [.flush])
        #expect(machine.flushed() == [])
        #expect(machine.responseReceived(.addPartitions([Self.tp(1)]), code: .noError)
                == [.partitionsAdded([Self.tp(1)]), .send(.endTransaction(commit: true), delay: .zero)])
    }

    @Test func aFailedRecordMakesTheTransactionAbortableAndTheAbortBumpsTheEpoch() {
        var machine = Self.inTransaction()
        #expect(machine.recordFailed(code: .messageTooLarge, detail: "too large") == [.failBuffered(.abortable(.messageTooLarge, "too large"))])
        #expect(machine.state == .abortableError("too large"))
        #expect(machine.recordFailed(code: .messageTooLarge, detail: "again") == [])
        #expect(machine.commitRequested() == [.complete(.abortable(nil, "the transaction cannot commit and must be aborted (abortTransaction): too large"))])
        #expect(machine.beginRequested() == .invalidState("a transaction is already open; commit or abort it first"))
        #expect(machine.abortRequested() == [.failBuffered(.aborted), .flush])
        #expect(machine.flushed() == [.send(.endTransaction(commit: false), delay: .zero)])
        // The failed batch may have used sequence numbers: a bumped epoch restarts them (KIP-360).
        #expect(machine.responseReceived(.endTransaction(commit: false), code: .noError) == [.send(.initProducerID(current: Self.identity), delay: .zero)])
        let bumped = Machine.Identity(id: 4001, epoch: 1)
        #expect(machine.producerIDGranted(bumped) == [.identityGranted(bumped), .transactionEnded, .complete(nil)])
        #expect(machine.state == .ready)
        #expect(machine.beginRequested() == nil)
    }

    @Test func aRecordFailingDuringTheCommitFailsTheCommit() {
        var machine = Self.inTransaction()
        #expect(machine.commitRequested() == [.flush])
        #expect(machine.recordFailed(code: nil, detail: "delivery timeout") == [.failBuffered(.abortable(nil, "delivery timeout"))])
        #expect(machine.flushed() == [.complete(.abortable(nil, "the transaction cannot commit because records failed; abort it: delivery timeout"))])
        #expect(machine.state == .abortableError("delivery timeout"))
        #expect(machine.abortRequested() == [.failBuffered(.aborted), .flush])
    }

    @Test func fencingIsFatal() {
        for code in [KafkaErrorCode.producerFenced, .invalidProducerEpoch, .transactionalIDAuthorizationFailed] {
            var machine = Self.inTransaction()
            #expect(machine.commitRequested() == [.flush])
            #expect(machine.flushed() == [.send(.endTransaction(commit: true), delay: .zero)])
            #expect(machine.responseReceived(.endTransaction(commit: true), code: code) == [.failBuffered(.fenced(code)), .complete(.fenced(code))])
            #expect(machine.state == .fenced(code))
            #expect(machine.appendRefusal == .fenced(code))
            #expect(machine.beginRequested() == .fenced(code))
            #expect(machine.abortRequested() == [.complete(.fenced(code))])
        }
    }

    @Test func aFencedRecordDuringTheCommitEndsTheCommit() {
        var machine = Self.inTransaction()
        #expect(machine.commitRequested() == [.flush])
        #expect(machine.recordFailed(code: .producerFenced, detail: "fenced") == [.failBuffered(.fenced(.producerFenced))])
        #expect(machine.flushed() == [.complete(.fenced(.producerFenced))])
    }

    @Test func aPartitionRefusedDuringTheCommitFailsItsRecordsAndTheCommit() {
        var machine = Self.inTransaction()
        #expect(machine.partitionsNeeded([Self.tp(1)]) == [.send(.addPartitions([Self.tp(1)]), delay: .zero)])
        #expect(machine.commitRequested() == [.flush])
        let failure = Machine.Failure.abortable(.topicAuthorizationFailed, "AddPartitionsToTxn failed: TOPIC_AUTHORIZATION_FAILED (29)")
        #expect(machine.responseReceived(.addPartitions([Self.tp(1)]), code: .topicAuthorizationFailed) == [.failBuffered(failure)])
        #expect(machine.state == .committing)
        #expect(machine.flushed() == [.complete(.abortable(nil, "the transaction cannot commit because records failed; abort it: AddPartitionsToTxn failed: TOPIC_AUTHORIZATION_FAILED (29)"))])
    }

    @Test func sendOffsetsAddsTheGroupThenCommitsTheOffsetsToTheGroupCoordinator() {
        var machine = Self.inTransaction()
        let offsets = [Self.tp(0, "in"): Int64(42)]
        #expect(machine.sendOffsetsRequested(offsets, group: Self.group) == [.send(.addOffsets(groupID: "payments"), delay: .zero)])
        #expect(machine.responseReceived(.addOffsets(groupID: "payments"), code: .noError) == [.send(.commitOffsets(Self.group, offsets: offsets), delay: .zero)])
        // The group coordinator moved: TxnOffsetCommit goes again (the driver looks the group's
        // coordinator up for every attempt), without touching the transaction coordinator.
        #expect(machine.responseReceived(.commitOffsets(Self.group, offsets: offsets), code: .notCoordinator)
                == [.send(.commitOffsets(Self.group, offsets: offsets), delay: .milliseconds(100))])
        #expect(machine.coordinatorKnown)
        #expect(machine.responseReceived(.commitOffsets(Self.group, offsets: offsets), code: .noError) == [.complete(nil)])
        #expect(machine.groups == ["payments"])
        // The group is in the transaction already: the next offsets go straight to the group.
        #expect(machine.sendOffsetsRequested(offsets, group: Self.group) == [.send(.commitOffsets(Self.group, offsets: offsets), delay: .zero)])
        #expect(machine.responseReceived(.commitOffsets(Self.group, offsets: offsets), code: .noError) == [.complete(nil)])
        // Offsets alone make the transaction worth ending.
        #expect(machine.commitRequested() == [.flush])
        #expect(machine.flushed() == [.send(.endTransaction(commit: true), delay: .zero)])
    }

    @Test func aZombieMembersOffsetsMakeTheTransactionAbortable() {
        var machine = Self.inTransaction()
        let offsets = [Self.tp(0, "in"): Int64(42)]
        _ = machine.sendOffsetsRequested(offsets, group: Self.group)
        _ = machine.responseReceived(.addOffsets(groupID: "payments"), code: .noError)
        let failure = Machine.Failure.abortable(.illegalGeneration, "TxnOffsetCommit failed: ILLEGAL_GENERATION (22)")
        #expect(machine.responseReceived(.commitOffsets(Self.group, offsets: offsets), code: .illegalGeneration) == [.failBuffered(failure), .complete(failure)])
        #expect(machine.state == .abortableError("TxnOffsetCommit failed: ILLEGAL_GENERATION (22)"))
    }

    @Test func sendOffsetsOutsideATransactionIsRefused() {
        var machine = Self.ready()
        #expect(machine.sendOffsetsRequested([:], group: Self.group)
                == [.complete(.invalidState("a transactional producer sends records only inside a transaction; call beginTransaction() first"))])
    }

    @Test func aRefusedInitIsFatal() {
        var machine = Machine()
        _ = machine.initRequested()
        _ = machine.responseReceived(.findCoordinator, code: .noError)
        let failure = Machine.Failure.fatal(.invalidTransactionTimeout, "InitProducerId failed: INVALID_TRANSACTION_TIMEOUT (50)")
        #expect(machine.responseReceived(.initProducerID(current: nil), code: .invalidTransactionTimeout) == [.failBuffered(failure), .complete(failure)])
        #expect(machine.state == .fatal("InitProducerId failed: INVALID_TRANSACTION_TIMEOUT (50)"))
        #expect(machine.beginRequested() == failure.withoutCode)
    }
}

extension KafkaTransactionMachine.Failure {
    /// A fatal failure as later calls report it (the state keeps only the text).
    var withoutCode: Self {
        if case .fatal(_, let detail) = self { return .fatal(nil, detail) }
        return self
    }
}
