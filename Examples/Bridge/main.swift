// The README's bridge section, built by CI so it cannot rot: a polyglot estate in miniature.
// A NATS request/reply service (inventory) publishes events that the bridge carries into Kafka
// for an analytics consumer group, and commands written to Kafka reach NATS services through
// the bridge. Run: swift run bridge-example   (NATS_URL and KAFKA_BROKERS, or the defaults)
import Synchronization
import TributaryBridge
import TributaryKafka
import TributaryNATS

@main
struct BridgeExample {
    static func main() async throws {
        let nats = try await NATSClient.connect()                       // NATS_URL or nats://127.0.0.1:4222
        let kafka = try await KafkaClient.connect()                     // KAFKA_BROKERS or localhost:9092
        defer { kafka.close() }
        let run = UInt16.random(in: 0...UInt16.max)
        let eventsTopic = "estate-events-\(run)", commandsTopic = "estate-commands-\(run)"
        try await kafka.createTopic(KafkaNewTopic(name: eventsTopic, partitions: 3), ifNotExists: true)
        try await kafka.createTopic(KafkaNewTopic(name: commandsTopic, partitions: 3), ifNotExists: true)

        // A NATS service: answers reservations and announces each one as an event.
        let service = try nats.subscribe(to: "inventory.reserve") { request in
            let order = request.string
            try? nats.respond(to: request, with: "reserved \(order)")
            try? nats.publish("{\"order\":\"\(order)\"}", to: "events.inventory.\(order).reserved")
        }
        let commandsSeen = Mutex<[String]>([])
        let commands = try nats.subscribe(to: "commands.>") { command in
            commandsSeen.withLock { $0.append("\(command.subject): \(command.string)") }
        }

        // README: a bridge with two routes
        var fromKafka = BridgeRoute(name: "commands", from: .kafkaTopics([commandsTopic], group: "bridge-\(run)"),
                                    to: .natsSubject("commands.{key}"))                 // at least once
        fromKafka.configureGroup = { $0.autoOffsetReset = .earliest }
        let bridge = try NATSKafkaBridge(nats: nats, kafka: kafka, routes: [
            BridgeRoute(name: "events", from: .natsSubject("events.>"), to: .kafkaTopic(eventsTopic),
                        key: .subjectToken(3)),                                          // the order id is the Kafka key
            fromKafka,
        ])
        let running = Task { try await bridge.run() }
        for await event in bridge.events {
            if case .routeStarted(let route) = event, route == "events" { break }  // subscribed: nothing is missed
        }

        // Go clients on NATS ask; the service answers and its events flow into Kafka.
        for order in ["o-1", "o-2", "o-3"] {
            let reply = try await nats.request(order, to: "inventory.reserve")
            print("service: \(reply.string)")
        }
        // A Python job on Kafka sends a command back to the NATS side.
        let producer = try kafka.makeProducer()
        try await producer.send(topic: commandsTopic, key: "shipping", value: "ship o-1")
        try await producer.close()

        // Analytics: a consumer group reads the bridged events.
        var analyticsSettings = KafkaGroupConsumerConfiguration(groupID: "analytics-\(run)", topics: [eventsTopic])
        analyticsSettings.autoOffsetReset = .earliest
        let analytics = try kafka.makeGroupConsumer(analyticsSettings)
        var events: [String] = []
        while events.count < 3 {
            for record in try await analytics.poll(timeout: .seconds(5)) {
                events.append("\(record.keyString ?? "-") \(record.valueString ?? "")")
            }
        }
        await analytics.close()
        print("analytics read \(events.count) events: \(events.sorted())")
        while commandsSeen.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(20)) }
        print("NATS got the Kafka command: \(commandsSeen.withLock { $0 })")

        // README: drain and read the counters
        await bridge.drain()                       // in-flight work finishes, offsets are committed
        try await running.value
        for route in bridge.statistics { print(route) }
        service.unsubscribe()
        commands.unsubscribe()
        await nats.close()
    }
}
