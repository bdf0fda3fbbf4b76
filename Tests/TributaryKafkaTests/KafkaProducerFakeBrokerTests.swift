import Foundation
import Testing
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// The idempotent producer against a scripted broker (`InMemoryKafkaBroker`): each test decides
/// what InitProducerId and Produce answer, and checks the producer ids, epochs and sequence
/// numbers the batches carried.
@Suite("KafkaProducer against a scripted broker", .serialized)
struct KafkaProducerFakeBrokerTests {
    static let topic = "orders"

    /// One batch as the broker received it.
    struct BatchSeen: Sendable, Hashable, CustomStringConvertible {
        var partition: Int32
        var producerID: Int64
        var epoch: Int16
        var baseSequence: Int32
        var count: Int32
        var description: String { "p\(partition) \(producerID)/\(epoch)#\(baseSequence)x\(count)" }
    }

    /// What the broker answers to one Produce partition entry: an error code and a base offset;
    /// nil closes the connection without answering (the request was read: it may be written).
    typealias ProduceAnswer = (code: KafkaErrorCode, offset: Int64)?

    /// A broker whose InitProducerId and Produce answers come from closures, in order.
    final class ScriptedBroker: Sendable {
        final class Recorder: Sendable {
            let batches = Locked<[BatchSeen]>([])
            let inits = Locked<[(id: Int64, epoch: Int16)]>([])
        }

        let broker: InMemoryKafkaBroker
        private let recorder: Recorder

        init(partitions: Int32 = 1,
             initAnswer: @escaping @Sendable (_ index: Int, _ request: InitProducerIdRequest) -> InitProducerIdResponse,
             produceAnswer: @escaping @Sendable (_ index: Int, _ batch: BatchSeen) -> ProduceAnswer) {
            let recorder = Recorder()
            self.recorder = recorder
            self.broker = InMemoryKafkaBroker { connection, _ in
                connection.serve(topics: [.init(name: KafkaProducerFakeBrokerTests.topic, partitions: partitions)]) { request in
                    switch request.api {
                    case .initProducerID?:
                        guard let body = try? request.decode(InitProducerIdRequest.self) else { return false }
                        let index = recorder.inits.withLock { $0.append((body.producerID, body.producerEpoch)); return $0.count - 1 }
                        return (try? connection.respond(initAnswer(index, body), to: request)) ?? false
                    case .produce?:
                        guard let body = try? request.decode(ProduceRequest.self) else { return false }
                        var response = ProduceResponse()
                        for topic in body.topicData {
                            var entries: [ProduceResponse.TopicProduceResponse.PartitionProduceResponse] = []
                            for data in topic.partitionData {
                                guard let seen = Self.batch(data.records ?? [], partition: data.index) else { return false }
                                let index = recorder.batches.withLock { $0.append(seen); return $0.count - 1 }
                                guard let answer = produceAnswer(index, seen) else { return false }
                                entries.append(.init(index: data.index, errorCode: answer.code.rawValue, baseOffset: answer.offset))
                            }
                            response.responses.append(.init(name: topic.name, partitionResponses: entries))
                        }
                        return (try? connection.respond(response, to: request)) ?? false
                    default:
                        return false
                    }
                }
            }
        }

        var seenBatches: [BatchSeen] { recorder.batches.withLock { $0 } }
        var seenInits: [(id: Int64, epoch: Int16)] { recorder.inits.withLock { $0 } }

        /// The v2 batch header fields (producer id at byte 43, epoch at 51, base sequence at 53,
        /// record count at 57).
        static func batch(_ bytes: [UInt8], partition: Int32) -> BatchSeen? {
            guard bytes.count >= 61 else { return nil }
            func int(_ at: Int, _ size: Int) -> Int64 {
                var value: Int64 = 0
                for index in at..<(at + size) { value = value << 8 | Int64(bytes[index]) }
                return value
            }
            return BatchSeen(partition: partition, producerID: int(43, 8), epoch: Int16(truncatingIfNeeded: int(51, 2)),
                             baseSequence: Int32(truncatingIfNeeded: int(53, 4)), count: Int32(truncatingIfNeeded: int(57, 4)))
        }

        func client() async throws -> KafkaClient {
            try await broker.connectClient(requestTimeout: .seconds(5))
        }
    }

    static func granted(_ id: Int64, epoch: Int16 = 0) -> InitProducerIdResponse {
        InitProducerIdResponse(errorCode: 0, producerID: id, producerEpoch: epoch)
    }

    static func producerConfiguration(batchSize: Int = 1_000_000, linger: Duration = .milliseconds(1)) -> KafkaProducerConfiguration {
        var configuration = KafkaProducerConfiguration()
        configuration.batchSize = batchSize
        configuration.linger = linger
        // No test here waits for the delivery timeout; the default (120 s) keeps a stalled test
        // process (one clean-clone run froze every test for about 55 s) from expiring batches
        // before their first attempt.
        configuration.deliveryTimeout = .seconds(120)
        return configuration
    }

    @Test func aBatchRetriedAfterALostConnectionKeepsItsSequenceAndADuplicateAnswerCompletesIt() async throws {
        let scripted = ScriptedBroker(initAnswer: { _, _ in Self.granted(77) }, produceAnswer: { index, _ in
            // The first attempt is read and then the connection drops without an answer.
            index == 0 ? nil : (.duplicateSequenceNumber, -1)
        })
        let client = try await scripted.client()
        defer { client.close() }
        let producer = try client.makeProducer(Self.producerConfiguration())
        let metadata = try await producer.send(topic: Self.topic, key: nil, value: Array("one".utf8), partition: 0)
        #expect(metadata.offset == -1)
        #expect(scripted.seenBatches == [BatchSeen(partition: 0, producerID: 77, epoch: 0, baseSequence: 0, count: 1),
                                         BatchSeen(partition: 0, producerID: 77, epoch: 0, baseSequence: 0, count: 1)])
        let statistics = producer.statistics
        #expect(statistics.recognisedDuplicates == 1)
        #expect(statistics.possiblyDuplicatedRecords == 0)
        #expect(statistics.producerID == 77)
        try await producer.close()
    }

    @Test func anUnknownProducerIDIsAnsweredWithARefusedBumpThenANewIDAndSequenceZero() async throws {
        let scripted = ScriptedBroker(initAnswer: { index, _ in
            switch index {
            case 0: Self.granted(5)
            case 1: InitProducerIdResponse(errorCode: KafkaErrorCode.unknownServerError.rawValue, producerID: -1, producerEpoch: -1)
            default: Self.granted(6)
            }
        }, produceAnswer: { index, batch in
            if index == 0 { return (.unknownProducerID, -1) }
            return batch.producerID == 6 ? (.noError, 10) : (.unknownProducerID, -1)
        })
        let client = try await scripted.client()
        defer { client.close() }
        let producer = try client.makeProducer(Self.producerConfiguration())
        let metadata = try await producer.send(topic: Self.topic, key: nil, value: Array("one".utf8), partition: 0)
        #expect(metadata.offset == 10)
        let inits = scripted.seenInits
        #expect(inits.map(\.id) == [-1, 5, -1] && inits.map(\.epoch) == [-1, 0, -1], "InitProducerId requests: \(inits)")
        #expect(scripted.seenBatches.map(\.description) == ["p0 5/0#0x1", "p0 6/0#0x1"])
        let statistics = producer.statistics
        #expect(statistics.refusedEpochBumps == 1 && statistics.sequenceResets == 1)
        #expect(statistics.producerID == 6)
        try await producer.close()
    }

    /// A broker log that checks sequences as Kafka does: the next sequence is stored, an older
    /// one is a duplicate, a later one is out of order.
    final class SequenceLog: Sendable {
        let state = Locked<(next: Int32, stored: [Int32])>((0, []))

        func answer(_ batch: BatchSeen) -> ProduceAnswer {
            state.withLock { state in
                if batch.baseSequence == state.next {
                    state.stored.append(batch.baseSequence)
                    state.next += batch.count
                    return (.noError, Int64(batch.baseSequence))
                }
                return batch.baseSequence < state.next ? (.duplicateSequenceNumber, -1) : (.outOfOrderSequenceNumber, -1)
            }
        }
    }

    @Test func batchesRefusedOutOfOrderBehindARetriedOneAreSentAgainInOrderWithTheirSequences() async throws {
        // Partition 0 gets several batches in flight; the first is refused with a retriable
        // error, so the broker refuses the ones behind it as out of order, and every retry
        // keeps its sequence.
        let log = SequenceLog()
        let scripted = ScriptedBroker(initAnswer: { _, _ in Self.granted(9) }, produceAnswer: { index, batch in
            guard index == 0 else { return log.answer(batch) }
            // Slow to refuse the first, so the next batches are in flight behind it.
            Thread.sleep(forTimeInterval: 0.2)
            return (.notEnoughReplicas, -1)
        })
        let client = try await scripted.client()
        defer { client.close() }
        let producer = try client.makeProducer(Self.producerConfiguration(batchSize: 200, linger: .milliseconds(20)))
        let results = Locked<[Int: Int64]>([:])
        for index in 0..<6 {
            try await producer.produce(topic: Self.topic, key: nil, value: Array(String(format: "record-%03d-", index).utf8) + Array(repeating: 46, count: 120), partition: 0) { result in
                if case .success(let metadata) = result { results.withLock { $0[index] = metadata.offset } }
            }
        }
        try await producer.flush()
        let offsets = results.withLock { $0 }
        let seen = scripted.seenBatches
        #expect((0..<6).map { offsets[$0] ?? -99 } == (0..<6).map(Int64.init), "offsets by record: \(offsets); batches: \(seen)")
        #expect(log.state.withLock { $0.stored } == Array(0..<6), "batches: \(seen)")
        #expect(seen.allSatisfy { $0.producerID == 9 && $0.epoch == 0 }, "batches: \(seen)")
        #expect(seen.filter { $0.baseSequence > 0 }.count > 5, "no batch was refused out of order: \(seen)")
        #expect(producer.statistics.possiblyDuplicatedRecords == 0)
        #expect(producer.statistics.sequenceResets == 0)
        try await producer.close()
    }

    @Test func aBrokerThatGrantsNoProducerIDStopsTheIdempotentProducerWithATypedError() async throws {
        let scripted = ScriptedBroker(initAnswer: { _, _ in
            InitProducerIdResponse(errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, producerID: -1, producerEpoch: -1)
        }, produceAnswer: { _, _ in (.noError, 0) })
        let client = try await scripted.client()
        defer { client.close() }
        let producer = try client.makeProducer(Self.producerConfiguration())
        do {
            try await producer.send(topic: Self.topic, key: nil, value: Array("x".utf8), partition: 0)
            Issue.record("a record was acknowledged without a producer id")
        } catch {
            #expect(error.brokerErrorCode == .clusterAuthorizationFailed, "\(error)")
            #expect(error.message.contains("producer id"), "\(error)")
        }
        #expect(scripted.seenBatches.isEmpty)
        // Later records are refused at once with the same error.
        await #expect(throws: KafkaError.self) { try await producer.send(topic: Self.topic, key: nil, value: Array("y".utf8), partition: 0) }
    }

    @Test func withoutIdempotenceNoProducerIDIsAskedFor() async throws {
        let scripted = ScriptedBroker(initAnswer: { _, _ in Self.granted(1) }, produceAnswer: { _, _ in (.noError, 3) })
        let client = try await scripted.client()
        defer { client.close() }
        var configuration = Self.producerConfiguration()
        configuration.idempotence = .disabled
        let producer = try client.makeProducer(configuration)
        #expect(!producer.isIdempotent)
        let metadata = try await producer.send(topic: Self.topic, key: nil, value: Array("x".utf8), partition: 0)
        #expect(metadata.offset == 3)
        #expect(scripted.seenInits.isEmpty)
        #expect(scripted.seenBatches.map(\.description) == ["p0 -1/-1#-1x1"])
        try await producer.close()
    }

    @Test func deliveryCallbacksRunOnTheProducersQueueNotOnAnIOThread() async throws {
        let scripted = ScriptedBroker(initAnswer: { _, _ in Self.granted(2) }, produceAnswer: { _, _ in (.noError, 0) })
        let client = try await scripted.client()
        defer { client.close() }
        let producer = try client.makeProducer(Self.producerConfiguration())
        let threads = Locked<[String]>([])
        for _ in 0..<20 {
            try await producer.produce(topic: Self.topic, key: nil, value: Array("x".utf8), partition: 0) { _ in
                let name = Thread.current.name ?? ""
                threads.withLock { $0.append(name) }
            }
        }
        try await producer.flush()
        let names = threads.withLock { $0 }
        #expect(names.count == 20)
        #expect(!names.contains { $0.hasPrefix("tributary-kafka") }, "callbacks ran on \(Set(names))")
        try await producer.close()
    }
    /// A producer with a 4 KiB buffer (about four 1,000-byte records) and 2 KiB batches.
    static func smallBufferProducer(_ scripted: ScriptedBroker, maxBlock: Duration) async throws -> (KafkaClient, KafkaProducer) {
        let client = try await scripted.client()
        var configuration = producerConfiguration(batchSize: 2048)
        configuration.bufferMemory = 4096
        configuration.maxBlock = maxBlock
        return (client, try client.makeProducer(configuration))
    }

    /// Sends beyond `bufferMemory` wait (suspended, resumed by the sender when answers free the
    /// buffer) and all succeed.
    @Test func sendsBeyondTheBufferWaitForRoomAndAllSucceed() async throws {
        let scripted = ScriptedBroker(initAnswer: { _, _ in Self.granted(3) }, produceAnswer: { _, batch in (.noError, Int64(batch.baseSequence)) })
        let (client, producer) = try await Self.smallBufferProducer(scripted, maxBlock: .seconds(30))
        defer { client.close() }
        let value = [UInt8](repeating: 7, count: 1000)
        let offsets = try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<40 {
                group.addTask { try await producer.send(topic: Self.topic, key: nil, value: value, partition: 0).offset }
            }
            var all: [Int64] = []
            for try await offset in group { all.append(offset) }
            return all
        }
        #expect(offsets.count == 40)
        #expect(scripted.seenBatches.reduce(0) { $0 + Int($1.count) } == 40)
        #expect(scripted.seenBatches.count >= 10, "a 4 KiB buffer holds at most four such records: \(scripted.seenBatches.count) batches")
        try await producer.close()
    }

    /// A broker that holds its answers keeps the buffer full: a send that waits for room ends at
    /// `maxBlock` with `.bufferFull`, and what was buffered is delivered once the broker answers.
    @Test func aFullBufferEndsAWaitAtMaxBlockWithBufferFull() async throws {
        let release = DispatchSemaphore(value: 0)
        let scripted = ScriptedBroker(initAnswer: { _, _ in Self.granted(4) }, produceAnswer: { _, batch in
            _ = release.wait(timeout: .now() + 60)
            return (.noError, Int64(batch.baseSequence))
        })
        let (client, producer) = try await Self.smallBufferProducer(scripted, maxBlock: .milliseconds(300))
        defer { client.close() }
        let value = [UInt8](repeating: 7, count: 1000)
        var buffered = 0
        var failure: KafkaError?
        let started = ContinuousClock.now
        while failure == nil, buffered < 100 {
            do {
                try await producer.produce(topic: Self.topic, key: nil, value: value, partition: 0)
                buffered += 1
            } catch {
                failure = error
            }
        }
        let waited = ContinuousClock.now - started
        #expect(failure?.code == .bufferFull, "\(String(describing: failure))")
        #expect(buffered >= 1 && buffered <= 8, "\(buffered) records fit a 4 KiB buffer")
        #expect(waited >= .milliseconds(250) && waited < .seconds(20), "\(waited)")
        for _ in 0..<200 { release.signal() }
        try await producer.flush()
        #expect(scripted.seenBatches.reduce(0) { $0 + Int($1.count) } == buffered)
        try await producer.close()
    }
}
