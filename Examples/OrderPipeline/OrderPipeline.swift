// An order pipeline over Kafka consumer groups. Three services, each its own consumer group with
// its own run loop, pass every order along, keyed by order id:
//
//   order-events ─▶ inventory ─▶ inventory-events ─▶ payment ─▶ payment-events ─▶ shipping
//                                                       │
//                                                       └─▶ inventory-events.DLQ  (declined cards)
//
// Every record's key is its order id, so all events of one order land on the same partition
// (the same partition number in every topic, as the topics have the same partition count) and
// each service sees them in the order they were written. The payment service declines every
// 10th order's card; after three attempts `run` moves such a record to the dead-letter topic
// and goes on. At the end the program reads the dead letters back, checks the order of what
// each service saw, prints a report and exits 1 if anything does not add up.
//
// Run: swift run order-pipeline   (uses KAFKA_BROKERS, default localhost:9092)
import Foundation
import Synchronization
import TributaryKafka

/// The event the services pass on: JSON, one per step of an order.
struct OrderEvent: Codable, Sendable {
    var orderId: String          // also the record key
    var number: Int
    var amountCents: Int
    var type: String             // "order-placed", "stock-reserved" or "payment-captured"
}

struct CardDeclined: Error, CustomStringConvertible {
    let orderId: String
    var description: String { "card declined for \(orderId)" }   // becomes the dlq.error header
}

/// What each service saw, in the order it saw it; checked at the end.
final class Journal: Sendable {
    struct Entry: Sendable {
        let service: String
        let event: OrderEvent
        let partition: Int32
    }
    private let entries = Mutex<[Entry]>([])

    func record(_ entry: Entry) { entries.withLock { $0.append(entry) } }
    var all: [Entry] { entries.withLock { $0 } }
    func count(of service: String) -> Int { entries.withLock { $0.filter { $0.service == service }.count } }
}

/// One service: a consumer group on `input` whose handler turns each event into the next one,
/// produced to `output` under the same key. `run` commits an input offset only after the
/// handler returned, i.e. after the output was acknowledged (at-least-once); it handles up to
/// six partitions at once, each in offset order.
///
/// Each service has its own client, as it would as a program of its own. (One client for all
/// three would work too: consumers fetch on their own connections, so producing never waits
/// behind a fetch.)
struct Service {
    let name: String
    let kafka: KafkaClient
    let producer: KafkaProducer
    let consumer: KafkaGroupConsumer
    let loop: Task<Void, any Error>

    static func start(_ name: String, group: String, input: String, output: String?, journal: Journal,
                      handle: @escaping @Sendable (OrderEvent) throws -> OrderEvent?) async throws -> Service {
        let kafka = try await KafkaClient.connect()
        let producer = try kafka.makeProducer()
        var configuration = KafkaGroupConsumerConfiguration(groupID: group, topics: [input])
        configuration.autoOffsetReset = .earliest       // a new group starts at the first event
        configuration.sessionTimeout = .seconds(6)       // short, so that the groups form quickly
        configuration.rebalanceTimeout = .seconds(10)
        configuration.heartbeatInterval = .seconds(1)
        configuration.fetch.fetchMaxWait = .milliseconds(100)
        let consumer = try kafka.makeGroupConsumer(configuration)

        let loop = Task {
            try await consumer.run(concurrency: 6, retry: KafkaRetryPolicy(attempts: 3, backoff: .milliseconds(50)),
                                   deadLetter: .suffix(".DLQ")) { record in
                let event = try JSONDecoder().decode(OrderEvent.self, from: Data(record.value ?? []))
                let next = try handle(event)                 // a throw means: retry, then dead-letter
                journal.record(Journal.Entry(service: name, event: event, partition: record.partition))
                if let next, let output {
                    try await producer.send(topic: output, key: record.key, value: Array(try JSONEncoder().encode(next)))
                }
            }
        }
        return Service(name: name, kafka: kafka, producer: producer, consumer: consumer, loop: loop)
    }

    /// Leaves the group (committing what was processed), waits for the run loop to end and
    /// closes the producer and the client.
    func stop() async throws {
        await consumer.close()
        try await loop.value
        try await producer.close()
        kafka.close()
    }
}

/// Bytes of a key, value or header as text.
func text(_ bytes: [UInt8]?) -> String { String(decoding: bytes ?? [], as: UTF8.self) }

@main
struct OrderPipeline {
    static let orderCount = 50

    static func main() async throws {
        let started = ContinuousClock.now
        let kafka = try await KafkaClient.connect()          // bootstrap from KAFKA_BROKERS
        defer { kafka.close() }

        // Fresh topics and groups per run, so runs never see each other's records. In production
        // the names are fixed ("order-events", "inventory-service-group", …).
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let orders = "order-events-\(run)"
        let inventory = "inventory-events-\(run)"
        let payments = "payment-events-\(run)"
        let deadLetters = inventory + ".DLQ"   // the payment service's input + its dead-letter suffix
        let topics = [orders, inventory, payments, deadLetters]
        // `run` creates the dead-letter topic on the first dead letter; creating it up front lets
        // this program watch it from the start.
        try await kafka.createTopics(topics.map { KafkaNewTopic(name: $0, partitions: 6) }, ifNotExists: true)
        print("topics: \(topics.joined(separator: ", ")) (6 partitions each)")

        let journal = Journal()

        // MARK: The three services

        let services = [
            try await Service.start("inventory", group: "inventory-service-group-\(run)", input: orders, output: inventory,
                                    journal: journal) { order in
                var reserved = order
                reserved.type = "stock-reserved"
                return reserved
            },
            try await Service.start("payment", group: "payment-service-group-\(run)", input: inventory, output: payments,
                                    journal: journal) { reservation in
                if reservation.number % 10 == 0 { throw CardDeclined(orderId: reservation.orderId) }
                var paid = reservation
                paid.type = "payment-captured"
                return paid
            },
            try await Service.start("shipping", group: "shipping-service-group-\(run)", input: payments, output: nil,
                                    journal: journal) { _ in
                nil                                          // shipped: the end of the line
            },
        ]

        // MARK: Place the orders

        let producer = try kafka.makeProducer()
        for number in 1...orderCount {
            let order = OrderEvent(orderId: String(format: "order-%04d", number), number: number,
                                   amountCents: 1_000 + (number * 377) % 9_000, type: "order-placed")
            try await producer.produce(topic: orders, key: Array(order.orderId.utf8), value: Array(try JSONEncoder().encode(order)))
        }
        try await producer.close()                           // every order acknowledged
        print("placed \(orderCount) orders on \(orders)")

        // MARK: Wait until every order is shipped or dead-lettered

        let dlqReader = try kafka.makeConsumer()
        for partition in Int32(0)..<6 {
            try await dlqReader.assign(topic: deadLetters, partition: partition, from: .earliest)
        }
        var dead: [KafkaConsumerRecord] = []
        let deadline = ContinuousClock.now + .seconds(45)
        while journal.count(of: "shipping") + dead.count < orderCount && ContinuousClock.now < deadline {
            dead += try await dlqReader.poll(timeout: .milliseconds(200))
        }
        dlqReader.close()
        for service in services { try await service.stop() }

        // MARK: Report

        let seen = journal.all
        let shipped = Set(seen.filter { $0.service == "shipping" }.map(\.event.orderId))
        print("""

            orders placed   \(orderCount)
            shipped         \(shipped.count)
            dead-lettered   \(dead.count)   (\(deadLetters))
            """)
        var problems: [String] = []
        var deadIDs = Set<String>()
        for record in dead.sorted(by: { text($0.key) < text($1.key) }) {
            let orderId = text(record.key)
            let header = { (name: String) in text(record.headers.first { $0.key == name }?.value) }
            print("  \(orderId)  \(header(KafkaDeadLetterPolicy.errorHeader))   "
                  + "(was \(header(KafkaDeadLetterPolicy.topicHeader)) [\(header(KafkaDeadLetterPolicy.partitionHeader))] "
                  + "@ \(header(KafkaDeadLetterPolicy.offsetHeader)))")
            deadIDs.insert(orderId)
        }

        // Every order ends exactly once: shipped or dead-lettered, and only the declined ones die.
        let declined = Set((1...orderCount).filter { $0 % 10 == 0 }.map { String(format: "order-%04d", $0) })
        if shipped.count + dead.count != orderCount {
            problems.append("\(shipped.count) shipped + \(dead.count) dead-lettered ≠ \(orderCount) placed")
        }
        if deadIDs != declined { problems.append("dead-lettered \(deadIDs.sorted()), expected \(declined.sorted())") }
        if !shipped.isDisjoint(with: deadIDs) { problems.append("shipped and dead-lettered: \(shipped.intersection(deadIDs).sorted())") }

        // Each shipped order went inventory → payment → shipping, once each, on one partition.
        let expected = [("inventory", "order-placed"), ("payment", "stock-reserved"), ("shipping", "payment-captured")]
        for orderId in shipped.sorted() {
            let steps = seen.filter { $0.event.orderId == orderId }
            if !steps.map({ ($0.service, $0.event.type) }).elementsEqual(expected, by: ==) {
                problems.append("\(orderId) was seen as \(steps.map { "\($0.service):\($0.event.type)" })")
            }
            if Set(steps.map(\.partition)).count != 1 { problems.append("\(orderId) moved between partitions \(steps.map(\.partition))") }
        }
        // Each service saw every partition's orders in the order they were placed.
        for service in ["inventory", "payment", "shipping"] {
            let byPartition = Dictionary(grouping: seen.filter { $0.service == service }, by: \.partition)
            for (partition, entries) in byPartition where entries.map(\.event.number) != entries.map(\.event.number).sorted() {
                problems.append("\(service) saw partition \(partition) out of order: \(entries.map(\.event.number))")
            }
        }
        if problems.isEmpty {
            print("ordering: every shipped order went inventory → payment → shipping once, on one partition, in placement order")
        }

        try await kafka.deleteTopics(topics)
        let elapsed = (ContinuousClock.now - started).components
        print(String(format: "deleted the topics; took %.1f s", Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18))
        if !problems.isEmpty {
            for problem in problems { print("FAILED: \(problem)") }
            exit(1)
        }
    }
}
