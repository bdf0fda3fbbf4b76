import Foundation
import Testing
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// The transactional producer against a scripted broker (`InMemoryKafkaBroker`): the broker
/// answers the transaction APIs from a closure and records what it was asked, so each test
/// checks the requests in order and the errors the caller sees.
@Suite("Transactional KafkaProducer against a scripted broker", .serialized)
struct KafkaTransactionalProducerFakeBrokerTests {
    static let topic = "orders"

    /// What the broker saw, one line per request, e.g. `EndTxn commit 4001/0`.
    final class Log: Sendable {
        let lines = Locked<[String]>([])
        func add(_ line: String) -> Int { lines.withLock { $0.append(line); return $0.filter { $0.hasPrefix(line.prefix(while: { $0 != " " })) }.count - 1 } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// A broker that grants producer id 4001 epoch 0 and answers each transaction API with the
    /// error `answer` gives for the n-th request of that API (0 for success).
    static func broker(log: Log, answer: @escaping @Sendable (_ api: String, _ index: Int) -> KafkaErrorCode) -> InMemoryKafkaBroker {
        InMemoryKafkaBroker { connection, _ in
            connection.serve(topics: [.init(name: topic, partitions: 2)]) { request in
                switch request.api {
                case .findCoordinator?:
                    guard let body = try? request.decode(FindCoordinatorRequest.self) else { return false }
                    let index = log.add("FindCoordinator type \(body.keyType) \(body.coordinatorKeys.first ?? body.key)")
                    let code = answer("FindCoordinator", index)
                    let response = FindCoordinatorResponse.naming(0, errorCode: code.rawValue, for: body, version: request.apiVersion)
                    return (try? connection.respond(response, to: request)) ?? false
                case .initProducerID?:
                    guard let body = try? request.decode(InitProducerIdRequest.self) else { return false }
                    let index = log.add("InitProducerId \(body.transactionalID ?? "null") \(body.transactionTimeoutMs)")
                    let code = answer("InitProducerId", index)
                    let response = code.isError ? InitProducerIdResponse(errorCode: code.rawValue, producerID: -1, producerEpoch: -1)
                                                : InitProducerIdResponse(errorCode: 0, producerID: 4001, producerEpoch: 0)
                    return (try? connection.respond(response, to: request)) ?? false
                case .addPartitionsToTxn?:
                    guard let body = try? request.decode(AddPartitionsToTxnRequest.self) else { return false }
                    let partitions = body.topics.flatMap { topic in topic.partitions.map { "\(topic.name)-\($0)" } }
                    let index = log.add("AddPartitionsToTxn \(body.producerID)/\(body.producerEpoch) \(partitions.joined(separator: ","))")
                    let code = answer("AddPartitionsToTxn", index)
                    let response = AddPartitionsToTxnResponse(resultsByTopic: body.topics.map { topic in
                        .init(name: topic.name, resultsByPartition: topic.partitions.map { .init(partitionIndex: $0, partitionErrorCode: code.rawValue) })
                    })
                    return (try? connection.respond(response, to: request)) ?? false
                case .produce?:
                    guard let body = try? request.decode(ProduceRequest.self) else { return false }
                    var response = ProduceResponse()
                    for topic in body.topicData {
                        for data in topic.partitionData {
                            let records = try? KafkaRecordBatchDecoder().decode(data.records ?? [])
                            let batch = records?.batches.first
                            _ = log.add("Produce \(body.transactionalID ?? "null") \(topic.name)-\(data.index) transactional=\(batch?.isTransactional ?? false) \(batch?.producerID ?? -1)/\(batch?.producerEpoch ?? -1)")
                        }
                        response.responses.append(.init(name: topic.name, partitionResponses: topic.partitionData.map { .init(index: $0.index, errorCode: 0, baseOffset: 0) }))
                    }
                    return (try? connection.respond(response, to: request)) ?? false
                case .endTxn?:
                    guard let body = try? request.decode(EndTxnRequest.self) else { return false }
                    let index = log.add("EndTxn \(body.committed ? "commit" : "abort") \(body.producerID)/\(body.producerEpoch)")
                    return (try? connection.respond(EndTxnResponse(errorCode: answer("EndTxn", index).rawValue), to: request)) ?? false
                default:
                    return false
                }
            }
        }
    }

    static func producer(_ broker: InMemoryKafkaBroker, maxBlock: Duration = .seconds(20)) async throws -> (KafkaClient, KafkaProducer) {
        var configuration = try KafkaClientConfiguration(bootstrapServers: broker.bootstrapServers)
        configuration.streamFactory = broker.streamFactory
        configuration.retryBackoff = .milliseconds(10)
        configuration.retryBackoffMax = .milliseconds(50)
        configuration.requestTimeout = .seconds(5)
        let client = try await KafkaClient.connect(configuration)
        var settings = KafkaProducerConfiguration()
        settings.transactionalID = "saga-1"
        settings.transactionTimeout = .seconds(45)
        settings.maxBlock = maxBlock
        return (client, try client.makeProducer(settings))
    }

    @Test func retriesConcurrentTransactionsAndFindsTheCoordinatorAgainOnNotCoordinator() async throws {
        let log = Log()
        let broker = Self.broker(log: log) { api, index in
            switch (api, index) {
            case ("InitProducerId", 0): .concurrentTransactions
            case ("AddPartitionsToTxn", 0): .notCoordinator
            case ("EndTxn", 0): .coordinatorLoadInProgress
            default: .noError
            }
        }
        let (client, producer) = try await Self.producer(broker)
        defer { client.close() }
        try await producer.initTransactions()
        try producer.beginTransaction()
        try await producer.send(topic: Self.topic, key: nil, value: [1], partition: 1)
        try await producer.commitTransaction()
        try await producer.close()
        #expect(log.all == [
            "FindCoordinator type 1 saga-1",
            "InitProducerId saga-1 45000",
            "InitProducerId saga-1 45000",
            "AddPartitionsToTxn 4001/0 orders-1",
            "FindCoordinator type 1 saga-1",
            "AddPartitionsToTxn 4001/0 orders-1",
            "Produce saga-1 orders-1 transactional=true 4001/0",
            "EndTxn commit 4001/0",
            "EndTxn commit 4001/0",
        ])
    }

    @Test func fencingAtTheCommitIsATypedFatalError() async throws {
        let log = Log()
        let broker = Self.broker(log: log) { api, _ in api == "EndTxn" ? .producerFenced : .noError }
        let (client, producer) = try await Self.producer(broker)
        defer { client.close() }
        try await producer.initTransactions()
        try producer.beginTransaction()
        try await producer.send(topic: Self.topic, key: nil, value: [1], partition: 0)
        let error = await #expect(throws: KafkaError.self) { try await producer.commitTransaction() }
        #expect(error?.code == .producerFenced)
        #expect(error?.brokerErrorCode == .producerFenced)
        #expect(error?.message.contains("saga-1") == true)
        let next = #expect(throws: KafkaError.self) { try producer.beginTransaction() }
        #expect(next?.code == .producerFenced)
        let send = await #expect(throws: KafkaError.self) { try await producer.send(topic: Self.topic, key: nil, value: [2], partition: 0) }
        #expect(send?.code == .producerFenced)
        #expect(log.all.filter { $0.hasPrefix("EndTxn") }.count == 1)
        try? await producer.close()
    }

    @Test func aRefusedPartitionMakesTheCommitFailUntilTheTransactionIsAborted() async throws {
        let log = Log()
        let broker = Self.broker(log: log) { api, index in api == "AddPartitionsToTxn" && index == 0 ? .topicAuthorizationFailed : .noError }
        let (client, producer) = try await Self.producer(broker)
        defer { client.close() }
        try await producer.initTransactions()
        try producer.beginTransaction()
        let failed = await #expect(throws: KafkaError.self) { try await producer.send(topic: Self.topic, key: nil, value: [1], partition: 0) }
        #expect(failed?.code == .transactionAborted)
        #expect(failed?.brokerErrorCode == .topicAuthorizationFailed)
        let commit = await #expect(throws: KafkaError.self) { try await producer.commitTransaction() }
        #expect(commit?.code == .transactionAborted)
        try await producer.abortTransaction()
        // The partition never joined: nothing to end, no record was sent.
        #expect(!log.all.contains { $0.hasPrefix("EndTxn") || $0.hasPrefix("Produce") })
        try producer.beginTransaction()
        try await producer.send(topic: Self.topic, key: nil, value: [2], partition: 0)
        try await producer.commitTransaction()
        #expect(log.all.suffix(3) == ["AddPartitionsToTxn 4001/0 orders-0", "Produce saga-1 orders-0 transactional=true 4001/0", "EndTxn commit 4001/0"])
        try await producer.close()
    }

    @Test func anUnansweredCoordinatorFailsTheOperationAfterMaxBlock() async throws {
        let log = Log()
        let broker = Self.broker(log: log) { api, _ in api == "FindCoordinator" ? .coordinatorNotAvailable : .noError }
        let (client, producer) = try await Self.producer(broker, maxBlock: .milliseconds(300))
        defer { client.close() }
        let error = await #expect(throws: KafkaError.self) { try await producer.initTransactions() }
        #expect(error?.message.contains("maxBlock") == true)
        #expect(log.all.count >= 2)
        try? await producer.close()
    }
}
