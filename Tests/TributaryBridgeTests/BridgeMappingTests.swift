import Testing
@testable import TributaryBridge
import TributaryKafka
import TributaryNATS

@Suite("Bridge mapping between NATS and Kafka")
struct BridgeMappingTests {
    static func record(key: String? = "order-7", headers: [KafkaRecord.Header] = []) -> KafkaConsumerRecord {
        KafkaConsumerRecord(topic: "orders", partition: 3, offset: 42, timestamp: 1_700_000_000_123, key: key.map { Array($0.utf8) },
                            value: Array("v".utf8), headers: headers)
    }

    @Test("subject templates fill topic, partition, key and headers")
    func templates() throws {
        let record = Self.record(headers: [("region", Array("eu".utf8))])
        #expect(try BridgeSubjectTemplate("orders.{key}").render(record) == "orders.order-7")
        #expect(try BridgeSubjectTemplate("{topic}.{partition}.x").render(record) == "orders.3.x")
        #expect(try BridgeSubjectTemplate("by.{header:region}.{key}").render(record) == "by.eu.order-7")
    }

    @Test("bad templates are configuration errors that name the placeholder")
    func badTemplates() {
        #expect(throws: BridgeError.self) { try BridgeSubjectTemplate("") }
        do {
            _ = try BridgeSubjectTemplate("orders.{id}")
            Issue.record("an unknown placeholder was accepted")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("{id}"))
        }
        #expect(throws: BridgeError.self) { try BridgeSubjectTemplate("orders.{key") }
    }

    @Test("a record whose key does not make a subject is unmappable, with the reason")
    func unmappable() {
        for (key, reason) in [("has space", "white space"), ("a*", "wildcard"), ("", "no text key")] {
            do {
                _ = try BridgeSubjectTemplate("orders.{key}").render(Self.record(key: key))
                Issue.record("key '\(key)' was accepted")
            } catch {
                #expect(error.code == .unmappable)
                #expect(error.message.contains(reason), "\(error.message)")
            }
        }
        #expect(throws: BridgeError.self) { try BridgeSubjectTemplate("orders.{key}").render(Self.record(key: nil)) }
        #expect(throws: BridgeError.self) { try BridgeSubjectTemplate("a.{header:missing}").render(Self.record()) }
        #expect(throws: BridgeError.self) { try BridgeSubjectTemplate("a..{key}").render(Self.record()) }
    }

    @Test("Kafka headers reach NATS, binary values in base64, and come back as they were")
    func headersRoundTrip() {
        let binary: [UInt8] = [0, 1, 2, 0xFF, 13, 10]
        let record = Self.record(headers: [("trace", Array("t-1".utf8)), ("trace", Array("t-2".utf8)), ("blob", binary), ("empty", nil)])
        let nats = BridgeMapping.natsHeaders(for: record, bridge: "b1")
        #expect(nats.values(for: "trace") == ["t-1", "t-2"], "repeated names keep their order")
        #expect(nats["Kafka-Topic"] == "orders")
        #expect(nats["Kafka-Partition"] == "3")
        #expect(nats["Kafka-Offset"] == "42")
        #expect(nats["Kafka-Timestamp"] == "1700000000123")
        #expect(nats["Kafka-Key"] == "order-7")
        #expect(nats["Tributary-Base64-Headers"] == "blob")
        #expect(nats["Tributary-Bridge"] == "b1")
        #expect(nats.problem() == nil, "every header is valid on the NATS side")
        let (back, timestamp) = BridgeMapping.kafkaHeaders(subject: "orders.order-7", headers: nats, bridge: Array("b2".utf8))
        #expect(timestamp == 1_700_000_000_123, "the Kafka timestamp is carried back")
        #expect(back.filter { $0.key == "trace" }.map(\.value) == [Array("t-1".utf8), Array("t-2".utf8)])
        #expect(back.first { $0.key == "blob" }?.value == binary, "binary values are decoded back")
        #expect(back.first { $0.key == "NATS-Subject" }?.value == Array("orders.order-7".utf8))
        #expect(back.filter { $0.key == "Tributary-Bridge" }.map(\.value) == [Array("b2".utf8)], "one bridge mark, the forwarding bridge's")
        #expect(!back.contains { $0.key == "Tributary-Base64-Headers" })
    }

    @Test("the loop guard recognises the bridge's own mark only")
    func loopGuard() {
        var headers = NATSHeaders()
        headers.append("b1", for: "Tributary-Bridge")
        #expect(BridgeMapping.isOwn(headers, bridge: "b1"))
        #expect(!BridgeMapping.isOwn(headers, bridge: "b2"))
        #expect(!BridgeMapping.isOwn(nil, bridge: "b1"))
        #expect(BridgeMapping.isOwn([("Tributary-Bridge", Array("b1".utf8))], bridge: "b1"))
        #expect(!BridgeMapping.isOwn([("Tributary-Bridge", Array("b1".utf8))], bridge: "b3"))
    }

    @Test("Kafka keys from the subject, a token or a header")
    func keys() throws {
        var headers = NATSHeaders()
        headers.append("k-9", for: "Order-Id")
        #expect(try BridgeMapping.kafkaKey(.none, subject: "orders.7.created", headers: nil) == nil)
        #expect(try BridgeMapping.kafkaKey(.subject, subject: "orders.7.created", headers: nil) == Array("orders.7.created".utf8))
        #expect(try BridgeMapping.kafkaKey(.subjectToken(2), subject: "orders.7.created", headers: nil) == Array("7".utf8))
        #expect(try BridgeMapping.kafkaKey(.header("Order-Id"), subject: "orders", headers: headers) == Array("k-9".utf8))
        #expect(throws: BridgeError.self) { try BridgeMapping.kafkaKey(.subjectToken(4), subject: "orders.7.created", headers: nil) }
        #expect(throws: BridgeError.self) { try BridgeMapping.kafkaKey(.header("Order-Id"), subject: "orders", headers: nil) }
    }

    @Test("route checks name the route and the field")
    func routeValidation() {
        let cases: [(BridgeRoute, String)] = [
            (BridgeRoute(name: "a", from: .natsSubject("x"), to: .natsSubject("y")), "to"),
            (BridgeRoute(name: "b", from: .kafkaTopics([], group: "g"), to: .natsSubject("y")), "from.topics"),
            (BridgeRoute(name: "c", from: .kafkaTopics(["t"], group: "g"), to: .natsSubject("y.{nope}")), "to.subject"),
            (BridgeRoute(name: "d", from: .natsSubject("x"), to: .kafkaTopic("t"), key: .subjectToken(0)), "key"),
            (BridgeRoute(name: "e", from: .kafkaTopics(["t"], group: "g"), to: .natsSubject("y"), deadLetter: .natsSubject("dlq")), "deadLetter"),
        ]
        for (route, field) in cases {
            do {
                try route.validate()
                Issue.record("route \(route.name) was accepted")
            } catch {
                #expect(error.route == route.name)
                #expect(error.field == field, "\(error)")
                #expect(error.code == .invalidConfiguration)
            }
        }
    }
}
