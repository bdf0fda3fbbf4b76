import BridgeToolSupport
import Testing
import ToolSupport
import TributaryBridge
import TributaryKafka

@Suite("tributary-bridge configuration file")
struct BridgeConfigFileTests {
    static let full = """
    {
      "id": "orders-bridge",
      "status_interval": 5,
      "nats": {"url": "nats://127.0.0.1:4222", "name": "bridge-1"},
      "kafka": {"bootstrap.servers": "127.0.0.1:9092", "linger.ms": 10, "compression.codec": "lz4", "session.timeout.ms": "6000"},
      "routes": [
        {"name": "events", "from": {"nats": "events.>", "queue": "bridge"}, "to": {"kafka": "events"},
         "key": {"subject_token": 2}, "dead_letter": {"nats": "dlq.events"}, "max_in_flight": 500},
        {"name": "orders", "from": {"jetstream": {"stream": "ORDERS", "consumer": "bridge"}}, "to": {"kafka": "orders"}, "key": {"header": "Order-Id"}},
        {"name": "commands", "from": {"kafka": ["commands"], "group": "bridge"}, "to": {"nats": "commands.{key}"},
         "concurrency": 3, "dead_letter": {"kafka": "commands.DLQ"}, "start_from": "earliest", "retry": {"attempts": 5, "backoff_ms": 50}},
        {"name": "payments", "from": {"kafka": ["payments"], "group": "bridge"}, "to": {"jetstream": "payments.{partition}"}}
      ]
    }
    """

    static func parse(_ text: String, environment: [String: String] = [:]) throws(UsageError) -> BridgeConfigFile {
        try BridgeConfigFile(json: text, path: "bridge.json", environment: environment)
    }

    static func message(_ text: String, environment: [String: String] = [:]) -> String? {
        do {
            _ = try parse(text, environment: environment)
            return nil
        } catch {
            return error.message
        }
    }

    @Test("a full file gives the servers, the producer settings and every route")
    func full() throws {
        let file = try Self.parse(Self.full)
        #expect(file.id == "orders-bridge")
        #expect(file.statusInterval == .seconds(5))
        #expect(file.nats.name == "bridge-1")
        #expect(file.kafka.bootstrapServers.map(\.description) == ["127.0.0.1:9092"])
        #expect(file.producer.linger == .milliseconds(10))
        #expect(file.producer.acks == .all, "acks=all unless the file says otherwise")
        #expect(file.routes.map(\.name) == ["events", "orders", "commands", "payments"])
        #expect(file.routes[0].key == .subjectToken(2))
        #expect(file.routes[0].deadLetter == .natsSubject("dlq.events"))
        #expect(file.routes[0].maxInFlight == 500)
        #expect(file.routes[1].key == .header("Order-Id"))
        #expect(file.routes[2].concurrency == 3)
        #expect(file.routes[2].retry.attempts == 5)
        #expect(file.routes[2].retry.backoff == .milliseconds(50))
        var group = KafkaGroupConsumerConfiguration(groupID: "bridge", topics: ["commands"])
        file.routes[2].configureGroup?(&group)
        #expect(group.autoOffsetReset == .earliest)
        #expect(group.sessionTimeout == .seconds(6), "group properties from the kafka object")
        let plan = file.plan
        #expect(plan.count == 5)
        #expect(plan[1].contains("route 'events': NATS subject 'events.>' (queue 'bridge') -> Kafka topic 'events', key: subject token 2, dead letters: NATS subject 'dlq.events'; at most once"))
        #expect(plan[2].contains("at least once: each JetStream message is acked after Kafka acknowledged"))
        #expect(plan[4].contains("Nats-Msg-Id"))
    }

    @Test("the servers default to NATS_URL and KAFKA_BROKERS")
    func environment() throws {
        let text = #"{"routes": [{"name": "r", "from": {"nats": "a.>"}, "to": {"kafka": "t"}}]}"#
        let file = try Self.parse(text, environment: ["NATS_URL": "nats://10.0.0.1:4333", "KAFKA_BROKERS": "10.0.0.2:9093"])
        #expect(file.natsDisplay == "nats://10.0.0.1:4333")
        #expect(file.kafka.bootstrapServers.map(\.description) == ["10.0.0.2:9093"])
        #expect(Self.message(text)?.contains("kafka.bootstrap.servers") == true, "no brokers anywhere is an error naming the field")
    }

    @Test("errors name the file, the route and the field")
    func errors() {
        let base = #""kafka": {"bootstrap.servers": "k:9092"}"#
        let cases: [(String, String)] = [
            (#"{\#(base), "routes": []}"#, "bridge.json: routes: give at least one route"),
            (#"{\#(base), "routes": [{"from": {"nats": "a"}, "to": {"kafka": "t"}}]}"#, "routes[0]: name"),
            (#"{\#(base), "routes": [{"name": "x", "from": {"nats": "a", "kafka": ["t"]}, "to": {"kafka": "t"}}]}"#, "routes[0] ('x'): from: give exactly one"),
            (#"{\#(base), "routes": [{"name": "x", "from": {"kafka": ["t"]}, "to": {"nats": "a"}}]}"#, "routes[0] ('x'): from.group"),
            (#"{\#(base), "routes": [{"name": "x", "from": {"kafka": ["t"], "group": "g"}, "to": {"nats": "a.{bad}"}}]}"#, "routes[0] ('x'): to.subject"),
            (#"{\#(base), "routes": [{"name": "x", "from": {"nats": "a"}, "to": {"nats": "b"}}]}"#, "routes[0] ('x'): to:"),
            (#"{\#(base), "routes": [{"name": "x", "from": {"nats": "a"}, "to": {"kafka": "t"}, "key": {"subject_token": 0}}]}"#, "routes[0] ('x'): key"),
            (#"{\#(base), "routes": [{"name": 5}]}"#, "routes[0].name: expected a string"),
            (#"{"kafka": {"bootstrap.servers": "k:9092", "no.such.property": 1}, "routes": [{"name": "x", "from": {"nats": "a"}, "to": {"kafka": "t"}}]}"#, "kafka.no.such.property"),
            (#"{"nats": {"url": "ftp://x"}, \#(base), "routes": [{"name": "x", "from": {"nats": "a"}, "to": {"kafka": "t"}}]}"#, "nats.url"),
            ("{", "bridge.json: not valid JSON"),
        ]
        for (text, expected) in cases {
            let message = Self.message(text)
            #expect(message?.contains(expected) == true, "\(text): got \(message ?? "no error")")
        }
    }

    @Test("status lines show totals and the rate since the previous line")
    func statusLines() {
        var before = BridgeRouteStatistics(route: "events")
        before.forwarded = 100
        var now = before
        now.received = 350
        now.forwarded = 300
        now.inFlight = 2
        let lines = BridgeServiceCommand.statusLines([now], previous: [before], seconds: 2)
        #expect(lines == ["route events: received 350, forwarded 300 (100/s), failed 0, dead-lettered 0, skipped 0, dropped 0, in flight 2"])
    }
}
