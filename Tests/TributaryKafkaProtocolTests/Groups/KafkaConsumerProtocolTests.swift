import Testing
import TributaryKafkaProtocol
import TributaryWire

/// Golden bytes written by hand from Kafka's ConsumerProtocolSubscription and
/// ConsumerProtocolAssignment definitions (non-flexible: int16 lengths, int32 counts).
@Suite("Consumer protocol payloads")
struct KafkaConsumerProtocolTests {
    @Test func subscriptionV0() throws {
        let subscription = KafkaConsumerSubscription(version: 0, topics: ["orders"])
        let expected = hexBytes("""
            0000                 // version 0
            00000001 0006 6F7264657273   // topics ["orders"]
            FFFFFFFF             // user data: null
            """)
        #expect(try subscription.encode() == expected)
        #expect(try KafkaConsumerSubscription(decoding: expected) == subscription)
    }

    @Test func subscriptionV3WithOwnedPartitions() throws {
        let subscription = KafkaConsumerSubscription(version: 3, topics: ["a"], userData: [9],
                                                     ownedPartitions: [KafkaTopicPartitions(topic: "a", partitions: [0, 2])], generationID: 7, rackID: "r1")
        let expected = hexBytes("""
            0003                         // version 3
            00000001 0001 61             // topics ["a"]
            00000001 09                  // user data [9]
            00000001 0001 61 00000002 00000000 00000002   // owned: a [0, 2]
            00000007                     // generation 7
            0002 7231                    // rack "r1"
            """)
        #expect(try subscription.encode() == expected)
        #expect(try KafkaConsumerSubscription(decoding: expected) == subscription)
    }

    @Test func newerSubscriptionVersionIsReadAsTheLatest() throws {
        var bytes = try KafkaConsumerSubscription(version: 3, topics: ["a"]).encode()
        bytes[1] = 9            // version 9 …
        bytes += [0xAB, 0xCD]   // … with a field this code does not know
        let decoded = try KafkaConsumerSubscription(decoding: bytes)
        #expect(decoded.version == 3)
        #expect(decoded.topics == ["a"])
    }

    @Test func assignmentRoundTripAndEmpty() throws {
        let assignment = KafkaConsumerAssignment(version: 0, assignedPartitions: [KafkaTopicPartitions(topic: "t", partitions: [1])])
        let expected = hexBytes("0000 00000001 0001 74 00000001 00000001 FFFFFFFF")
        #expect(try assignment.encode() == expected)
        #expect(try KafkaConsumerAssignment(decoding: expected) == assignment)
        #expect(try KafkaConsumerAssignment(decoding: []).assignedPartitions.isEmpty)
    }

    @Test func truncatedOrHostileBytesAreTypedErrors() throws {
        let good = try KafkaConsumerSubscription(version: 3, topics: ["orders"], ownedPartitions: [KafkaTopicPartitions(topic: "orders", partitions: [1])]).encode()
        for cut in 0..<good.count {
            #expect(throws: WireDecodingError.self) { _ = try KafkaConsumerSubscription(decoding: Array(good[..<cut])) }
        }
        // A huge topic count with no bytes behind it: rejected before allocating.
        #expect(throws: WireDecodingError.self) { _ = try KafkaConsumerSubscription(decoding: [0, 0, 0x7F, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: WireDecodingError.self) { _ = try KafkaConsumerAssignment(decoding: [0xFF, 0xFF]) }
    }
}
