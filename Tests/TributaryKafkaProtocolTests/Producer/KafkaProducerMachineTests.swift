import Testing
import TributaryKafkaProtocol
import TributaryWire

/// Transcript tests of the producer machine: events in, actions out, with time as a value.
@Suite("Kafka producer machine")
struct KafkaProducerMachineTests {
    struct TestFailure: Error, Sendable, Equatable { var text: String }
    typealias Machine = KafkaProducerMachine

    static let topic = "orders"
    static func tp(_ partition: Int32) -> KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }
    static func at(_ ms: Int) -> MonotonicInstant { MonotonicInstant(nanoseconds: UInt64(ms) * 1_000_000) }

    static func configuration(idempotent: Bool = true, linger: Duration = .milliseconds(5), batchSize: Int = 1_000_000,
                              deliveryTimeout: Duration = .seconds(120)) -> Machine.Configuration {
        var configuration = Machine.Configuration()
        configuration.idempotent = idempotent
        configuration.linger = linger
        configuration.batchSize = batchSize
        configuration.deliveryTimeout = deliveryTimeout
        configuration.retryBackoff = .milliseconds(100)
        configuration.retryBackoffMax = .seconds(1)
        return configuration
    }

    /// A machine that knows `orders` (partitions led by `leaders`), is connected to every leader
    /// and, when idempotent, holds producer id 7 epoch 0.
    static func ready(_ configuration: Machine.Configuration, leaders: [Int32] = [1, 2]) -> Machine {
        var machine = Machine(configuration: configuration, seed: 42)
        machine.metadataUpdated(topic: topic, leaders: leaders)
        for leader in Set(leaders) { machine.connected(broker: leader) }
        if configuration.idempotent {
            let actions = machine.poll(now: at(0))
            #expect(initRequests(actions) == [nil])
            _ = machine.producerIDGranted(.init(id: 7, epoch: 0))
        }
        return machine
    }

    @discardableResult
    static func append(_ machine: inout Machine, partition: Int32, value: String = "v", completion: Int? = nil, now: Int = 0) -> Machine.AppendOutcome {
        let bytes = Array(value.utf8)
        return machine.append(topic: topic, partition: partition, keyHash: nil, timestamp: 1_700_000_000_000, key: nil, value: bytes, headers: [],
                              size: KafkaRecordBatchBuilder.estimatedSize(keyCount: nil, valueCount: bytes.count, headers: []),
                              completion: completion, now: { at(now) })
    }

    static func sends(_ actions: [Machine.Action]) -> [Machine.ProduceRequestPlan] {
        actions.compactMap { if case .send(let plan) = $0 { plan } else { nil } }
    }

    static func outcomes(_ actions: [Machine.Action]) -> [Machine.BatchOutcome] {
        actions.flatMap { (action: Machine.Action) -> [Machine.BatchOutcome] in
            if case .finish(let outcomes) = action { return outcomes }
            return []
        }
    }

    static func initRequests(_ actions: [Machine.Action]) -> [Machine.ProducerIdentity?] {
        actions.compactMap { if case .initProducerID(let current) = $0 { .some(current) } else { nil } }
    }

    /// (partition, producer id, epoch, base sequence, record count) of each batch of a plan.
    static func stamps(_ plan: Machine.ProduceRequestPlan) -> [String] {
        plan.batches.map { "\($0.partition.partition):\($0.builder.settings.producerID)/\($0.builder.settings.producerEpoch)#\($0.builder.settings.baseSequence)x\($0.builder.count)" }
    }

    static func ok(_ offset: Int64) -> Machine.PartitionResponse { .init(errorCode: .noError, baseOffset: offset) }
    static func error(_ code: KafkaErrorCode) -> Machine.PartitionResponse { .init(errorCode: code, baseOffset: -1) }

    // MARK: - Batching

    @Test func aBatchWaitsForLingerThenGoesToItsLeader() {
        var machine = Self.ready(Self.configuration())
        guard case .appended(let partition, _) = Self.append(&machine, partition: 0, completion: 1) else { Issue.record("not appended"); return }
        #expect(partition == 0)
        #expect(Self.sends(machine.poll(now: Self.at(2))).isEmpty)
        #expect(machine.nextDeadline(now: Self.at(2)) == Self.at(5))
        let plans = Self.sends(machine.poll(now: Self.at(5)))
        #expect(plans.map(\.broker) == [1])
        #expect(plans.map(Self.stamps) == [["0:7/0#0x1"]])
        let done = Self.outcomes(machine.responseReceived(id: plans[0].id, results: [Self.tp(0): Self.ok(40)], now: Self.at(6)))
        #expect(done.count == 1)
        #expect(done[0].deliveries.map { $0.completion as? Int } == [1])
        #expect((try? done[0].result.get()) == 40)
        #expect(machine.isIdle && machine.bufferedBytes == 0)
    }

    @Test func aLingeredBatchWaitingForAnEventDoesNotAskForAnImmediatePoll() {
        // Past its linger but its leader unknown: poll asks for metadata and the batch waits for
        // the answer. The next deadline is its delivery timeout, not the linger already passed
        // (which would make the driver poll in a busy loop).
        var machine = Self.ready(Self.configuration(idempotent: false, deliveryTimeout: .milliseconds(500)), leaders: [-1, 2])
        Self.append(&machine, partition: 0, completion: 1)
        #expect(machine.poll(now: Self.at(10)).contains { if case .refreshMetadata(Self.topic) = $0 { true } else { false } })
        #expect(machine.nextDeadline(now: Self.at(10)) == Self.at(500))
        // Waiting for the producer id: the same.
        var idempotent = Machine(configuration: Self.configuration(), seed: 1)
        idempotent.metadataUpdated(topic: Self.topic, leaders: [1])
        idempotent.connected(broker: 1)
        Self.append(&idempotent, partition: 0, completion: 2)
        #expect(Self.initRequests(idempotent.poll(now: Self.at(10))) == [nil])
        #expect(Self.sends(idempotent.poll(now: Self.at(11))).isEmpty)
        #expect(idempotent.nextDeadline(now: Self.at(11)) == Self.at(120_000))
    }

    @Test func aFullBatchIsSealedAndSentBeforeLinger() {
        var machine = Self.ready(Self.configuration(linger: .seconds(10), batchSize: 200))
        var outcome = Self.append(&machine, partition: 1, value: String(repeating: "x", count: 100))
        guard case .appended(_, let wakeFirst) = outcome else { Issue.record("not appended"); return }
        #expect(wakeFirst)
        outcome = Self.append(&machine, partition: 1, value: String(repeating: "y", count: 100))
        let plans = Self.sends(machine.poll(now: Self.at(1)))
        #expect(plans.count == 1)
        #expect(plans.first?.broker == 2)
        #expect(plans.first?.batches.first?.builder.count == 1)
    }

    @Test func theBufferBoundRefusesAppendsUntilDeliveriesFreeRoom() {
        var configuration = Self.configuration(idempotent: false)
        configuration.bufferMemory = 1024
        var machine = Self.ready(configuration)
        var appended = 0
        while case .appended = Self.append(&machine, partition: 0, value: String(repeating: "z", count: 100)) { appended += 1 }
        #expect(appended == 1024 / KafkaRecordBatchBuilder.estimatedSize(keyCount: nil, valueCount: 100, headers: []))
        guard case .noRoom = Self.append(&machine, partition: 0, value: String(repeating: "z", count: 100)) else { Issue.record("room"); return }
        let plan = Self.sends(machine.poll(now: Self.at(10)))[0]
        _ = machine.responseReceived(id: plan.id, results: [Self.tp(0): Self.ok(0)], now: Self.at(11))
        #expect(machine.bufferedBytes == 0)
        guard case .appended = Self.append(&machine, partition: 0) else { Issue.record("no room after delivery"); return }
    }

    @Test func unknownTopicsAndPartitionsAreReported() {
        var machine = Self.ready(Self.configuration(idempotent: false))
        guard case .needsMetadata = machine.append(topic: "other", partition: nil, keyHash: nil, timestamp: 0, key: nil, value: nil, headers: [], size: 30,
                                                   completion: nil, now: { Self.at(0) }) else { Issue.record("expected needsMetadata"); return }
        guard case .unknownPartition(let count) = Self.append(&machine, partition: 9) else { Issue.record("expected unknownPartition"); return }
        #expect(count == 2)
    }

    @Test func keyedRecordsGoWhereMurmur2PlacesThem() {
        var machine = Self.ready(Self.configuration(idempotent: false), leaders: [1, 1, 1])
        for key in ["order-1", "order-2", "order-3", "order-44"] {
            let bytes = Array(key.utf8)
            let outcome = machine.append(topic: Self.topic, partition: nil, keyHash: KafkaPartitioner.murmur2(bytes), timestamp: 0, key: bytes, value: nil,
                                         headers: [], size: 40, completion: nil, now: { Self.at(0) })
            guard case .appended(let partition, _) = outcome else { Issue.record("not appended"); return }
            #expect(Int(partition) == KafkaPartitioner.partition(forKey: bytes, partitionCount: 3))
        }
    }

    @Test func appendsThatMoveBetweenTopicsAndPartitionsKeepEveryRecordInItsBatch() {
        // The partition appended to last is kept apart from the others; moving between
        // partitions and topics, and polls between appends, must lose or misplace nothing.
        var machine = Self.ready(Self.configuration(idempotent: false), leaders: [1, 2])
        machine.metadataUpdated(topic: "audit", leaders: [2])
        func appendAudit(_ value: String) {
            let bytes = Array(value.utf8)
            guard case .appended(let partition, _) = machine.append(topic: "audit", partition: 0, keyHash: nil, timestamp: 0, key: nil, value: bytes, headers: [],
                                                                    size: KafkaRecordBatchBuilder.estimatedSize(keyCount: nil, valueCount: bytes.count, headers: []),
                                                                    completion: nil, now: { Self.at(0) }) else { Issue.record("audit not appended"); return }
            #expect(partition == 0)
        }
        Self.append(&machine, partition: 0, value: "a")
        Self.append(&machine, partition: 0, value: "b")
        Self.append(&machine, partition: 1, value: "c")
        appendAudit("d")
        Self.append(&machine, partition: 0, value: "e")
        #expect(machine.partitionCount(of: Self.topic) == 2)
        #expect(machine.partitionCount(of: "audit") == 1)
        #expect(Self.sends(machine.poll(now: Self.at(1))).isEmpty)
        Self.append(&machine, partition: 1, value: "f")
        appendAudit("g")
        #expect(machine.nextDeadline(now: Self.at(1)) == Self.at(5))
        let plans = Self.sends(machine.poll(now: Self.at(5)))
        var counts: [String: Int] = [:]
        for plan in plans {
            for batch in plan.batches { counts["\(batch.partition.topic)/\(batch.partition.partition)@\(plan.broker)", default: 0] += batch.builder.count }
        }
        #expect(counts == ["orders/0@1": 3, "orders/1@2": 2, "audit/0@2": 2])
        #expect(machine.bufferedBytes > 0)
    }

    // MARK: - Metadata and connections

    @Test func aPartitionWithoutALeaderRefreshesMetadataThenFollowsTheMove() {
        var machine = Self.ready(Self.configuration(idempotent: false))
        Self.append(&machine, partition: 0, completion: 1)
        let first = Self.sends(machine.poll(now: Self.at(5)))[0]
        #expect(first.broker == 1)
        // The old leader says it no longer leads: retried after a backoff, leaders forgotten.
        #expect(Self.outcomes(machine.responseReceived(id: first.id, results: [Self.tp(0): Self.error(.notLeaderOrFollower)], now: Self.at(6))).isEmpty)
        let afterBackoff = machine.poll(now: Self.at(1_000))
        #expect(afterBackoff.contains { if case .refreshMetadata(Self.topic) = $0 { true } else { false } })
        #expect(Self.sends(afterBackoff).isEmpty)
        // Asked once while the refresh is out.
        #expect(!machine.poll(now: Self.at(1_001)).contains { if case .refreshMetadata = $0 { true } else { false } })
        machine.metadataUpdated(topic: Self.topic, leaders: [3, 2])
        let connect = machine.poll(now: Self.at(1_002))
        #expect(connect.contains { if case .connect(broker: 3) = $0 { true } else { false } })
        machine.connected(broker: 3)
        let second = Self.sends(machine.poll(now: Self.at(1_003)))
        #expect(second.map(\.broker) == [3])
        let done = Self.outcomes(machine.responseReceived(id: second[0].id, results: [Self.tp(0): Self.ok(5)], now: Self.at(1_004)))
        #expect((try? done.first?.result.get()) == 5)
        #expect(machine.statistics.retriedBatches == 1)
    }

    @Test func aLostConnectionRetriesAndCountsPossibleDuplicatesWithoutIdempotence() {
        var machine = Self.ready(Self.configuration(idempotent: false))
        Self.append(&machine, partition: 0)
        Self.append(&machine, partition: 0)
        let plan = Self.sends(machine.poll(now: Self.at(5)))[0]
        let kind = Machine.RequestFailureKind(retriable: true, ambiguous: true, connectionLost: true)
        #expect(Self.outcomes(machine.requestFailed(id: plan.id, failure: TestFailure(text: "reset"), kind: kind, now: Self.at(6))).isEmpty)
        #expect(machine.statistics.possiblyDuplicatedRecords == 2)
        let actions = machine.poll(now: Self.at(2_000))
        #expect(actions.contains { if case .refreshMetadata = $0 { true } else { false } })
    }

    // MARK: - Ordering and in-flight limits

    @Test func withoutIdempotenceOneBatchPerPartitionIsInFlight() {
        var machine = Self.ready(Self.configuration(idempotent: false, batchSize: 100))
        for _ in 0..<3 { Self.append(&machine, partition: 0, value: String(repeating: "a", count: 80)) }
        let first = Self.sends(machine.poll(now: Self.at(1)))
        #expect(first.count == 1)
        #expect(Self.sends(machine.poll(now: Self.at(2))).isEmpty)
        _ = machine.responseReceived(id: first[0].id, results: [Self.tp(0): Self.ok(0)], now: Self.at(3))
        #expect(Self.sends(machine.poll(now: Self.at(4))).count == 1)
    }

    @Test func withIdempotenceUpToFiveBatchesPerPartitionAreInFlightWithTheirSequences() {
        var machine = Self.ready(Self.configuration(batchSize: 100))
        for _ in 0..<7 { Self.append(&machine, partition: 0, value: String(repeating: "a", count: 80)) }
        var stamps: [String] = []
        for step in 1...7 { stamps += Self.sends(machine.poll(now: Self.at(step))).flatMap(Self.stamps) }
        #expect(stamps == ["0:7/0#0x1", "0:7/0#1x1", "0:7/0#2x1", "0:7/0#3x1", "0:7/0#4x1"])
    }

    @Test func outOfOrderResponsesAfterARetriableFailureAreResentInOrderWithTheSameSequences() {
        var machine = Self.ready(Self.configuration(batchSize: 100))
        for _ in 0..<3 { Self.append(&machine, partition: 0, value: String(repeating: "a", count: 80), completion: 0) }
        var plans: [Machine.ProduceRequestPlan] = []
        for step in 1...3 { plans += Self.sends(machine.poll(now: Self.at(step))) }
        #expect(plans.flatMap(Self.stamps) == ["0:7/0#0x1", "0:7/0#1x1", "0:7/0#2x1"])
        // The first times out on the broker; the next two arrive out of order.
        _ = machine.responseReceived(id: plans[0].id, results: [Self.tp(0): Self.error(.requestTimedOut)], now: Self.at(10))
        _ = machine.responseReceived(id: plans[2].id, results: [Self.tp(0): Self.error(.outOfOrderSequenceNumber)], now: Self.at(11))
        _ = machine.responseReceived(id: plans[1].id, results: [Self.tp(0): Self.error(.outOfOrderSequenceNumber)], now: Self.at(12))
        #expect(machine.producerIdentity == .init(id: 7, epoch: 0))
        // The failed head goes alone, with its sequence, after its backoff.
        #expect(Self.sends(machine.poll(now: Self.at(50))).isEmpty)
        let retry = Self.sends(machine.poll(now: Self.at(1_000)))
        #expect(retry.flatMap(Self.stamps) == ["0:7/0#0x1"])
        #expect(Self.sends(machine.poll(now: Self.at(1_001))).isEmpty)
        let first = Self.outcomes(machine.responseReceived(id: retry[0].id, results: [Self.tp(0): Self.ok(100)], now: Self.at(1_002)))
        #expect((try? first.first?.result.get()) == 100)
        var rest: [Machine.ProduceRequestPlan] = []
        for step in 0..<2 { rest += Self.sends(machine.poll(now: Self.at(1_003 + step))) }
        #expect(rest.flatMap(Self.stamps) == ["0:7/0#1x1", "0:7/0#2x1"])
        var offsets: [Int64] = []
        for (index, plan) in rest.enumerated() {
            offsets += Self.outcomes(machine.responseReceived(id: plan.id, results: [Self.tp(0): Self.ok(101 + Int64(index))], now: Self.at(1_010)))
                .compactMap { try? $0.result.get() }
        }
        #expect(offsets == [101, 102])
        #expect(machine.statistics.possiblyDuplicatedRecords == 0)
        #expect(machine.isIdle)
    }

    @Test func aDuplicateSequenceAnswerIsASuccessWithAnUnknownOffset() {
        var machine = Self.ready(Self.configuration())
        Self.append(&machine, partition: 0, completion: 9)
        let plan = Self.sends(machine.poll(now: Self.at(5)))[0]
        let kind = Machine.RequestFailureKind(retriable: true, ambiguous: true, connectionLost: false)
        _ = machine.requestFailed(id: plan.id, failure: TestFailure(text: "timeout"), kind: kind, now: Self.at(6))
        let again = Self.sends(machine.poll(now: Self.at(1_000)))
        #expect(again.flatMap(Self.stamps) == ["0:7/0#0x1"])
        let done = Self.outcomes(machine.responseReceived(id: again[0].id, results: [Self.tp(0): Self.error(.duplicateSequenceNumber)], now: Self.at(1_001)))
        #expect((try? done.first?.result.get()) == -1)
        #expect(machine.statistics.recognisedDuplicates == 1)
        #expect(machine.statistics.possiblyDuplicatedRecords == 0)
    }

    // MARK: - Producer id and epoch

    @Test func nothingIsSentBeforeAProducerIDAndARetriableRefusalIsRetriedAfterABackoff() {
        var machine = Machine(configuration: Self.configuration(), seed: 1)
        machine.metadataUpdated(topic: Self.topic, leaders: [1])
        machine.connected(broker: 1)
        Self.append(&machine, partition: 0)
        let first = machine.poll(now: Self.at(10))
        #expect(Self.initRequests(first) == [nil])
        #expect(Self.sends(first).isEmpty)
        _ = machine.producerIDFailed(code: .coordinatorNotAvailable, retriable: true, detail: "loading", now: Self.at(11))
        #expect(Self.initRequests(machine.poll(now: Self.at(50))).isEmpty)
        #expect(Self.initRequests(machine.poll(now: Self.at(111))) == [nil])
        _ = machine.producerIDGranted(.init(id: 3, epoch: 2))
        #expect(Self.sends(machine.poll(now: Self.at(112))).flatMap(Self.stamps) == ["0:3/2#0x1"])
    }

    @Test func anUnknownProducerAtTheHeadBumpsTheEpochOrFallsBackToANewID() {
        var machine = Self.ready(Self.configuration())
        Self.append(&machine, partition: 0, completion: 1)
        let plan = Self.sends(machine.poll(now: Self.at(5)))[0]
        // The fate of the first attempt is unknown: it may be in the log.
        _ = machine.requestFailed(id: plan.id, failure: TestFailure(text: "timeout"),
                                  kind: .init(retriable: true, ambiguous: true, connectionLost: false), now: Self.at(6))
        let retry = Self.sends(machine.poll(now: Self.at(1_000)))[0]
        _ = machine.responseReceived(id: retry.id, results: [Self.tp(0): Self.error(.unknownProducerID)], now: Self.at(1_001))
        // Nothing in flight: the epoch bump is asked for, sending stops until it is answered.
        let bump = machine.poll(now: Self.at(1_002))
        #expect(Self.initRequests(bump) == [.init(id: 7, epoch: 0)])
        #expect(Self.sends(machine.poll(now: Self.at(5_000))).isEmpty)
        // A broker without KIP-360 refuses: a new id instead.
        _ = machine.producerIDFailed(code: .unknownServerError, retriable: false, detail: "bump refused", now: Self.at(5_001))
        #expect(Self.initRequests(machine.poll(now: Self.at(5_002))) == [nil])
        _ = machine.producerIDGranted(.init(id: 8, epoch: 0))
        let resent = Self.sends(machine.poll(now: Self.at(5_003)))
        #expect(resent.flatMap(Self.stamps) == ["0:8/0#0x1"])
        #expect(machine.statistics.refusedEpochBumps == 1)
        #expect(machine.statistics.sequenceResets == 1)
        #expect(machine.statistics.possiblyDuplicatedRecords == 1)
        let done = Self.outcomes(machine.responseReceived(id: resent[0].id, results: [Self.tp(0): Self.ok(3)], now: Self.at(5_004)))
        #expect(done.first?.deliveries.map { $0.completion as? Int } == [1])
    }

    @Test func theEpochBumpWaitsForEveryRequestOfTheOldEpoch() {
        var machine = Self.ready(Self.configuration(batchSize: 100))
        Self.append(&machine, partition: 0, value: String(repeating: "a", count: 80))
        Self.append(&machine, partition: 1, value: String(repeating: "b", count: 80))
        let plans = Self.sends(machine.poll(now: Self.at(1)))
        #expect(plans.count == 2)
        let onFirst = plans.first { $0.broker == 1 }!, onSecond = plans.first { $0.broker == 2 }!
        _ = machine.responseReceived(id: onFirst.id, results: [Self.tp(0): Self.error(.outOfOrderSequenceNumber)], now: Self.at(2))
        #expect(Self.initRequests(machine.poll(now: Self.at(3))).isEmpty)
        let done = Self.outcomes(machine.responseReceived(id: onSecond.id, results: [Self.tp(1): Self.ok(9)], now: Self.at(4)))
        #expect(done.count == 1)
        #expect(Self.initRequests(machine.poll(now: Self.at(5))) == [.init(id: 7, epoch: 0)])
        _ = machine.producerIDGranted(.init(id: 7, epoch: 1))
        // Partition 1's next batch starts again at sequence 0 under the new epoch.
        Self.append(&machine, partition: 1, value: String(repeating: "c", count: 80))
        var stamps: [String] = []
        for step in 0..<3 { stamps += Self.sends(machine.poll(now: Self.at(2_000 + step))).flatMap(Self.stamps) }
        #expect(Set(stamps) == ["0:7/1#0x1", "1:7/1#0x1"])
    }

    @Test func aFencedProducerGetsANewIDAndAFatalRefusalFailsWhatIsBuffered() {
        var machine = Self.ready(Self.configuration())
        Self.append(&machine, partition: 0, completion: 1)
        let plan = Self.sends(machine.poll(now: Self.at(5)))[0]
        _ = machine.responseReceived(id: plan.id, results: [Self.tp(0): Self.error(.producerFenced)], now: Self.at(6))
        #expect(Self.initRequests(machine.poll(now: Self.at(7))) == [nil])
        let fatal = Self.outcomes(machine.producerIDFailed(code: .clusterAuthorizationFailed, retriable: false, detail: "not allowed", now: Self.at(8)))
        #expect(fatal.count == 1)
        guard case .failure(.producerIdentity(let code, _)) = fatal.first?.result else { Issue.record("expected a producer identity failure"); return }
        #expect(code == .clusterAuthorizationFailed)
        guard case .closed(.some) = Self.append(&machine, partition: 0) else { Issue.record("appends must be refused"); return }
        #expect(machine.isIdle)
    }

    // MARK: - Timeouts

    @Test func aBatchInFlightIsNotExpiredButFailsWhenItsRetryWouldPassTheDeliveryTimeout() {
        var machine = Self.ready(Self.configuration(idempotent: false, deliveryTimeout: .milliseconds(500)))
        Self.append(&machine, partition: 0, completion: 4)
        let plan = Self.sends(machine.poll(now: Self.at(5)))[0]
        // Past the timeout while in flight: not expired.
        #expect(Self.outcomes(machine.poll(now: Self.at(900))).isEmpty)
        let done = Self.outcomes(machine.responseReceived(id: plan.id, results: [Self.tp(0): Self.error(.notLeaderOrFollower)], now: Self.at(901)))
        guard case .failure(.broker(let code, _)) = done.first?.result else { Issue.record("expected the broker's error"); return }
        #expect(code == .notLeaderOrFollower)
    }

    @Test func aQueuedBatchExpiresAtTheDeliveryTimeout() {
        var machine = Self.ready(Self.configuration(idempotent: false, deliveryTimeout: .milliseconds(500)), leaders: [-1, 2])
        Self.append(&machine, partition: 0, completion: 4)
        #expect(machine.nextDeadline(now: Self.at(0)) == Self.at(5))
        _ = machine.poll(now: Self.at(5))
        let done = Self.outcomes(machine.poll(now: Self.at(500)))
        guard case .failure(.deliveryTimeout) = done.first?.result else { Issue.record("expected a delivery timeout"); return }
        #expect(machine.statistics.failedRecords == 1)
    }

    @Test func acksZeroCompletesOnWrite() {
        var configuration = Self.configuration(idempotent: false)
        configuration.acks = 0
        var machine = Self.ready(configuration)
        Self.append(&machine, partition: 0, completion: 1)
        let plan = Self.sends(machine.poll(now: Self.at(5)))[0]
        let done = Self.outcomes(machine.requestWritten(id: plan.id))
        #expect((try? done.first?.result.get()) == -1)
    }

    @Test func stoppingFailsWhatWasNeverSent() {
        var machine = Self.ready(Self.configuration(idempotent: false), leaders: [-1, -1])
        Self.append(&machine, partition: 0, completion: 1)
        machine.closeRequested()
        guard case .closed(nil) = Self.append(&machine, partition: 0) else { Issue.record("closed producer accepted a record"); return }
        let done = Self.outcomes(machine.stopped())
        guard case .failure(.closed) = done.first?.result else { Issue.record("expected closed"); return }
        #expect(machine.isIdle)
    }

    // MARK: - Transactions

    /// A transactional machine that knows `orders` and is connected; no identity yet.
    static func transactional() -> Machine {
        var configuration = Self.configuration()
        configuration.transactional = true
        var machine = Machine(configuration: configuration, seed: 42)
        machine.metadataUpdated(topic: topic, leaders: [1, 2])
        machine.connected(broker: 1)
        machine.connected(broker: 2)
        return machine
    }

    @Test func transactionalBatchesWaitForTheirPartitionToJoinTheTransaction() {
        var machine = Self.transactional()
        // The identity comes from the transaction coordinator: the machine never asks for one.
        #expect(Self.initRequests(machine.poll(now: Self.at(0))).isEmpty)
        _ = machine.producerIDGranted(.init(id: 9, epoch: 2))
        Self.append(&machine, partition: 0, completion: 1)
        Self.append(&machine, partition: 1, completion: 2)
        #expect(machine.partitionsAwaitingTransaction == [Self.tp(0), Self.tp(1)])
        #expect(Self.sends(machine.poll(now: Self.at(10))).isEmpty)

        machine.partitionsAddedToTransaction([Self.tp(0)])
        #expect(machine.partitionsAwaitingTransaction == [Self.tp(1)])
        let plans = Self.sends(machine.poll(now: Self.at(10)))
        #expect(plans.map(\.broker) == [1])
        #expect(Self.stamps(plans[0]) == ["0:9/2#0x1"])
        #expect(plans[0].batches[0].builder.settings.isTransactional)

        // The transaction ends: the next records need their partitions added again.
        _ = machine.responseReceived(id: plans[0].id, results: [Self.tp(0): Self.ok(0)], now: Self.at(11))
        machine.transactionEnded()
        Self.append(&machine, partition: 0, completion: 3, now: 20)
        #expect(machine.partitionsAwaitingTransaction == [Self.tp(0), Self.tp(1)])
    }

    @Test func fencedBatchesFailWithoutAnEpochBumpAndAbortDropsWhatWaits() {
        var machine = Self.transactional()
        _ = machine.producerIDGranted(.init(id: 9, epoch: 2))
        Self.append(&machine, partition: 0, completion: 1)
        Self.append(&machine, partition: 1, completion: 2)
        machine.partitionsAddedToTransaction([Self.tp(0)])
        let plan = Self.sends(machine.poll(now: Self.at(10)))[0]
        let done = Self.outcomes(machine.responseReceived(id: plan.id, results: [Self.tp(0): Self.error(.producerFenced)], now: Self.at(11)))
        guard case .failure(.broker(.producerFenced, _)) = done.first?.result else { Issue.record("expected PRODUCER_FENCED, got \(String(describing: done.first?.result))"); return }
        // No new id or epoch is asked for: the transaction machine decides.
        #expect(Self.initRequests(machine.poll(now: Self.at(12))).isEmpty)
        #expect(machine.producerIdentity == .init(id: 9, epoch: 2))

        let dropped = Self.outcomes(machine.failBuffered(.aborted))
        #expect(dropped.map(\.partition) == [Self.tp(1)])
        guard case .failure(.transaction(.aborted)) = dropped.first?.result else { Issue.record("expected the abort"); return }
        #expect(machine.isIdle)
    }

    @Test func sequenceNumbersWrapAtInt32Max() {
        #expect(Machine.sequence(Int32.max, plus: 1) == 0)
        #expect(Machine.sequence(Int32.max - 1, plus: 3) == 1)
        #expect(Machine.sequence(5, plus: 10) == 15)
    }
}
