import FuzzSupport
import TributaryKafkaProtocol

// The consumer protocol payloads a group's members exchange through the broker: subscriptions
// (JoinGroup metadata) and assignments (SyncGroup). A payload that decodes must survive
// encode → decode unchanged.
//
// Input: [kind selector][payload bytes...]: even = subscription, odd = assignment.

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked {
        var seeds: [[UInt8]] = []
        let owned = [KafkaTopicPartitions(topic: "orders", partitions: [0, 2]), KafkaTopicPartitions(topic: "payments", partitions: [1])]
        for version: Int16 in 0...KafkaConsumerSubscription.latestVersion {
            let subscription = KafkaConsumerSubscription(version: version, topics: ["orders", "payments"], userData: [1, 2, 3],
                                                         ownedPartitions: owned, generationID: 4, rackID: "rack-a")
            if let bytes = try? subscription.encode() { seeds.append([0] + bytes) }
            let assignment = KafkaConsumerAssignment(version: version, assignedPartitions: owned, userData: version == 0 ? nil : [9])
            if let bytes = try? assignment.encode() { seeds.append([1] + bytes) }
        }
        return seeds
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(fuzzBytes(data, size))
    let kind = input.byte()
    let bytes = input.rest
    if kind & 1 == 0 {
        guard let subscription = try? KafkaConsumerSubscription(decoding: bytes) else { return 0 }
        let encoded: [UInt8]
        do { encoded = try subscription.encode() } catch {
            fuzzCheck(false, "a decoded subscription does not encode again: \(error)")
            return 0
        }
        let again = try? KafkaConsumerSubscription(decoding: encoded)
        fuzzCheck(again == subscription, "subscription \(subscription) changes in encode → decode: \(String(describing: again))")
    } else {
        guard let assignment = try? KafkaConsumerAssignment(decoding: bytes) else { return 0 }
        let encoded: [UInt8]
        do { encoded = try assignment.encode() } catch {
            fuzzCheck(false, "a decoded assignment does not encode again: \(error)")
            return 0
        }
        let again = try? KafkaConsumerAssignment(decoding: encoded)
        fuzzCheck(again == assignment, "assignment \(assignment) changes in encode → decode: \(String(describing: again))")
    }
    return 0
}
