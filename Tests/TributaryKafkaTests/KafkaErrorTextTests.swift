import Foundation
import Testing
import TributaryKafka

@Suite("Kafka error texts")
struct KafkaErrorTextTests {
    @Test func aBrokerMessageEndingInAPeriodIsNotFollowedByAnother() {
        let error = KafkaError.broker(.topicAlreadyExists, api: .createTopics, serverMessage: "Topic 'orders' already exists.")
        #expect(error.message.contains("Topic 'orders' already exists. "))
        #expect(!error.description.contains(".."))
        let plain = KafkaError.broker(.topicAlreadyExists, serverMessage: "Topic 'orders' already exists")
        #expect(plain.message.hasPrefix("TOPIC_ALREADY_EXISTS (36): Topic 'orders' already exists. "))
    }

    @Test func adviceNamesTheSwiftProperty() {
        let error = KafkaError.broker(.offsetOutOfRange)
        #expect(error.message.contains("`autoOffsetReset` (`auto.offset.reset`)"), "\(error.message)")
    }

    struct Order: Codable, Equatable {
        var id: String
        var cents: Int
    }

    @Test func payloadsEncodeAsUTF8DataOrJSON() throws {
        #expect("héllo".kafkaBytes() == Array("héllo".utf8))
        #expect(Data([0, 255]).kafkaBytes() == [0, 255])
        let json = try KafkaJSON(Order(id: "o-1", cents: 250)).kafkaBytes()
        #expect(try JSONDecoder().decode(Order.self, from: Data(json)) == Order(id: "o-1", cents: 250))
    }

    func record(_ value: String?) -> KafkaConsumerRecord {
        KafkaConsumerRecord(topic: "orders", partition: 1, offset: 7, timestamp: 0, timestampType: .createTime,
                            key: Array("o-1".utf8), value: value.map { Array($0.utf8) }, headers: [])
    }

    @Test func recordsReadAsTextAndDecodeFromJSON() throws {
        let order = record(#"{"id":"o-1","cents":250}"#)
        #expect(order.keyString == "o-1")
        #expect(order.valueString == #"{"id":"o-1","cents":250}"#)
        #expect(try order.decode(Order.self) == Order(id: "o-1", cents: 250))
    }

    @Test func aValueThatDoesNotDecodeIsNamedWithoutItsPayload() {
        #expect {
            try record(#"{"id":"secret-card-number"}"#).decode(Order.self)
        } throws: { error in
            guard let error = error as? KafkaError else { return false }
            return error.code == .invalidArgument && error.message.contains("missing key 'cents'")
                && error.message.contains("orders [1] @ 7") && !error.message.contains("secret-card-number")
        }
        #expect(throws: KafkaError.self) { try record(nil).decode(Order.self) }
    }
}
