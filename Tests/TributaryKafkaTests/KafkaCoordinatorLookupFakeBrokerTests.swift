import Foundation
import Testing
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// A coordinator named by FindCoordinator but missing from the metadata (its broker went down
/// between the two answers) is a retriable connection failure: the client asks FindCoordinator
/// again and goes on with the node it names then. It used to throw a non-retriable
/// `invalidArgument` and stop.
@Suite("Kafka coordinator lookup against a scripted broker", .serialized)
struct KafkaCoordinatorLookupFakeBrokerTests {
    static let topic = "orders"

    /// How many FindCoordinator requests the broker answered.
    final class Counter: Sendable {
        private let count = Locked(0)
        func add() -> Int { count.withLock { $0 += 1; return $0 } }
        var value: Int { count.withLock { $0 } }
    }

    /// A broker (node 0 in its metadata) whose first `missing` FindCoordinator answers name node 7,
    /// which no metadata knows, and later ones node 0. Offset fetches and the transaction calls are
    /// answered with success.
    static func broker(missing: Int, findCoordinatorCount: Counter) -> InMemoryKafkaBroker {
        InMemoryKafkaBroker { connection, _ in
            connection.serve(topics: [.init(name: topic, partitions: 2)]) { request in
                switch request.api {
                case .findCoordinator?:
                    guard let body = try? request.decode(FindCoordinatorRequest.self) else { return false }
                    let asked = findCoordinatorCount.add()
                    let node: Int32 = asked <= missing ? 7 : 0
                    let port: Int32 = asked <= missing ? 9999 : 9092
                    return (try? connection.respond(FindCoordinatorResponse.naming(node, port: port, for: body, version: request.apiVersion), to: request)) ?? false
                case .offsetFetch?:
                    guard let body = try? request.decode(OffsetFetchRequest.self) else { return false }
                    var response = OffsetFetchResponse()
                    response.topics = (body.topics ?? []).map { topic in
                        .init(name: topic.name, partitions: topic.partitionIndexes.map { .init(partitionIndex: $0, committedOffset: 40 + Int64($0)) })
                    }
                    return (try? connection.respond(response, to: request)) ?? false
                case .initProducerID?:
                    return (try? connection.respond(InitProducerIdResponse(errorCode: 0, producerID: 4001, producerEpoch: 0), to: request)) ?? false
                default:
                    return false
                }
            }
        }
    }

    static func client(_ broker: InMemoryKafkaBroker) async throws -> KafkaClient {
        // Safety bounds only: a lookup that is not retried fails at once, and on a loaded machine
        // the parallel unit tests can keep this test's tasks waiting for tens of seconds.
        try await broker.connectClient(requestTimeout: .seconds(30), operationTimeout: .seconds(120))
    }

    @Test func aCoordinatorMissingFromTheMetadataIsLookedUpAgain() async throws {
        let asked = Counter()
        let broker = Self.broker(missing: 2, findCoordinatorCount: asked)
        let client = try await Self.client(broker)
        defer { client.close() }
        let offsets = try await client.committedOffsets(group: "billing", topic: Self.topic, partitions: [0, 1])
        #expect(offsets == [0: 40, 1: 41])
        #expect(asked.value >= 3, "FindCoordinator asked \(asked.value) times (the first two answers named a broker missing from the metadata)")
    }

    @Test func aTransactionCoordinatorMissingFromTheMetadataIsLookedUpAgain() async throws {
        let asked = Counter()
        let broker = Self.broker(missing: 1, findCoordinatorCount: asked)
        let client = try await Self.client(broker)
        defer { client.close() }
        var settings = KafkaProducerConfiguration()
        settings.transactionalID = "saga-1"
        settings.maxBlock = .seconds(20)
        let producer = try client.makeProducer(settings)
        try await producer.initTransactions()
        #expect(producer.transactionState == KafkaTransactionMachine.State.ready)
        #expect(asked.value >= 2, "FindCoordinator asked \(asked.value) times")
    }
}
