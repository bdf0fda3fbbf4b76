import Testing
import TributaryKafkaProtocol

@Suite("Partition assignors")
struct KafkaPartitionAssignorTests {
    static func member(_ id: String, _ topics: [String], owned: [String: [Int32]] = [:], generation: Int32 = -1, instance: String? = nil) -> KafkaGroupMember {
        KafkaGroupMember(memberID: id, groupInstanceID: instance, subscription: KafkaConsumerSubscription(
            topics: topics, ownedPartitions: owned.sorted { $0.key < $1.key }.map { KafkaTopicPartitions(topic: $0.key, partitions: $0.value) }, generationID: generation))
    }

    static func flat(_ result: [String: [KafkaTopicPartitions]]) -> [String: [String]] {
        result.mapValues { $0.flatMap { list in list.partitions.map { "\(list.topic)-\($0)" } } }
    }

    @Test func rangeGivesExtraPartitionsToTheFirstMembers() {
        let members = [Self.member("c", ["t"]), Self.member("a", ["t"]), Self.member("b", ["t"])]
        let result = Self.flat(KafkaPartitionAssignor.range.assign(members: members, partitionCounts: ["t": 7]))
        #expect(result["a"] == ["t-0", "t-1", "t-2"])
        #expect(result["b"] == ["t-3", "t-4"])
        #expect(result["c"] == ["t-5", "t-6"])
    }

    @Test func rangeIsPerTopicAndHonoursSubscriptions() {
        let members = [Self.member("a", ["x", "y"]), Self.member("b", ["y"])]
        let result = Self.flat(KafkaPartitionAssignor.range.assign(members: members, partitionCounts: ["x": 2, "y": 3]))
        #expect(result["a"] == ["x-0", "x-1", "y-0", "y-1"])
        #expect(result["b"] == ["y-2"])
    }

    @Test func rangeWithMoreMembersThanPartitionsLeavesSomeEmpty() {
        let members = (0..<4).map { Self.member("m\($0)", ["t"]) }
        let result = Self.flat(KafkaPartitionAssignor.range.assign(members: members, partitionCounts: ["t": 2]))
        #expect(result["m0"] == ["t-0"])
        #expect(result["m1"] == ["t-1"])
        #expect(result["m2"] == [])
        #expect(result["m3"] == [])
    }

    @Test func staticMembersSortFirst() {
        let members = [Self.member("a", ["t"]), Self.member("z", ["t"], instance: "instance-1")]
        let result = Self.flat(KafkaPartitionAssignor.range.assign(members: members, partitionCounts: ["t": 2]))
        #expect(result["z"] == ["t-0"])
        #expect(result["a"] == ["t-1"])
    }

    @Test func roundRobinDealsAcrossTopics() {
        let members = [Self.member("b", ["x", "y"]), Self.member("a", ["x", "y"])]
        let result = Self.flat(KafkaPartitionAssignor.roundRobin.assign(members: members, partitionCounts: ["x": 3, "y": 2]))
        #expect(result["a"] == ["x-0", "x-2", "y-1"])
        #expect(result["b"] == ["x-1", "y-0"])
    }

    @Test func roundRobinSkipsMembersNotSubscribed() {
        let members = [Self.member("a", ["x"]), Self.member("b", ["x", "y"])]
        let result = Self.flat(KafkaPartitionAssignor.roundRobin.assign(members: members, partitionCounts: ["x": 2, "y": 2]))
        #expect(result["a"] == ["x-0"])
        #expect(result["b"] == ["x-1", "y-0", "y-1"])
    }

    @Test func everyPartitionAssignedExactlyOnceForUnevenShapes() {
        for assignor in [KafkaPartitionAssignor.range, .roundRobin] {
            for memberCount in 1...5 {
                for partitions in [1, 5, 6, 13] {
                    let members = (0..<memberCount).map { Self.member("m\($0)", ["t", "u"]) }
                    let result = Self.flat(assignor.assign(members: members, partitionCounts: ["t": partitions, "u": 3]))
                    let all = result.values.flatMap { $0 }
                    #expect(all.count == partitions + 3 && Set(all).count == all.count, "\(assignor) \(memberCount) members, \(partitions) partitions")
                }
            }
        }
    }

    @Test func cooperativeStickyFirstAssignmentIsBalanced() {
        let members = (0..<3).map { Self.member("m\($0)", ["t"]) }
        let result = Self.flat(KafkaPartitionAssignor.cooperativeSticky.assign(members: members, partitionCounts: ["t": 6]))
        #expect(result.values.map(\.count).sorted() == [2, 2, 2])
        #expect(Set(result.values.flatMap { $0 }).count == 6)
    }

    @Test func cooperativeStickyJoinRevokesOnlyWhatMoves() {
        // One member owned all six; a second joins.
        let members = [Self.member("m0", ["t"], owned: ["t": [0, 1, 2, 3, 4, 5]], generation: 1), Self.member("m1", ["t"])]
        let first = Self.flat(KafkaPartitionAssignor.cooperativeSticky.assign(members: members, partitionCounts: ["t": 6]))
        // m0 keeps three, the other three are withheld (m0 revokes them); m1 gets nothing yet.
        #expect(first["m0"]?.count == 3)
        #expect(first["m1"] == [])
        let kept = first["m0"] ?? []
        // Follow-up rebalance: m0 owns what it kept; the rest goes to m1, m0 keeps everything it had.
        let keptPartitions = kept.compactMap { Int32($0.split(separator: "-").last!) }
        let second = Self.flat(KafkaPartitionAssignor.cooperativeSticky.assign(
            members: [Self.member("m0", ["t"], owned: ["t": keptPartitions], generation: 2), Self.member("m1", ["t"], generation: 2)],
            partitionCounts: ["t": 6]))
        #expect(second["m0"] == kept)
        #expect(second["m1"]?.count == 3)
        #expect(Set((second["m0"] ?? []) + (second["m1"] ?? [])).count == 6)
    }

    @Test func cooperativeStickyLeaveHandsOverTheLeaversPartitions() {
        // m2 left; m0 and m1 keep theirs and split m2's.
        let members = [Self.member("m0", ["t"], owned: ["t": [0, 1]], generation: 3), Self.member("m1", ["t"], owned: ["t": [2, 3]], generation: 3)]
        let result = Self.flat(KafkaPartitionAssignor.cooperativeSticky.assign(members: members, partitionCounts: ["t": 6]))
        #expect(result["m0"]?.starts(with: ["t-0", "t-1"]) == true)
        #expect(result["m1"]?.starts(with: ["t-2", "t-3"]) == true)
        #expect(result.values.map(\.count).sorted() == [3, 3])
    }

    @Test func cooperativeStickyConflictingClaimsGoToTheNewerGeneration() {
        let members = [Self.member("a", ["t"], owned: ["t": [0]], generation: 1), Self.member("b", ["t"], owned: ["t": [0]], generation: 2)]
        let result = Self.flat(KafkaPartitionAssignor.cooperativeSticky.assign(members: members, partitionCounts: ["t": 2]))
        #expect(result["b"]?.contains("t-0") == true)
        #expect(result["a"]?.contains("t-0") == false)
    }

    @Test func namesMatchTheJavaClient() {
        #expect(KafkaPartitionAssignor.allCases.map(\.name) == ["range", "roundrobin", "cooperative-sticky"])
        #expect(KafkaPartitionAssignor.cooperativeSticky.rebalanceProtocol == .cooperative)
        #expect(KafkaPartitionAssignor.range.rebalanceProtocol == .eager)
    }
}
