import Testing
import TributaryKafkaProtocol

/// The group membership machine as protocol transcripts: event in, actions out.
@Suite("Group membership state machine")
struct KafkaGroupMachineTests {
    static let topic = "orders"
    static func tp(_ partition: Int32) -> KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }
    static func assignment(_ partitions: [Int32]) -> KafkaConsumerAssignment {
        KafkaConsumerAssignment(assignedPartitions: partitions.isEmpty ? [] : [KafkaTopicPartitions(topic: topic, partitions: partitions)])
    }

    static func joinResponse(member: String, leader: String, generation: Int32, protocolName: String = "range", members: [(String, KafkaConsumerSubscription)] = [], error: KafkaErrorCode = .noError) -> JoinGroupResponse {
        var response = JoinGroupResponse()
        response.errorCode = error.rawValue
        response.memberID = member
        response.leader = leader
        response.generationID = generation
        response.protocolName = protocolName
        response.members = members.map { .init(memberID: $0.0, metadata: (try? $0.1.encode()) ?? []) }
        return response
    }

    static func machine(_ assignors: [KafkaPartitionAssignor] = [.range], instance: String? = nil) -> KafkaGroupMachine {
        KafkaGroupMachine(settings: .init(topics: [topic], assignors: assignors, groupInstanceID: instance))
    }

    @Test func firstJoinWithMemberIDRequiredThenLeaderAssignsAndSyncs() {
        var machine = Self.machine()
        #expect(machine.started() == [.findCoordinator])
        #expect(machine.coordinatorFound() == [.join(memberID: "", owned: [], generation: -1)])
        // KIP-394: the coordinator hands out the id; join again with it.
        #expect(machine.joinCompleted(Self.joinResponse(member: "m-1", leader: "", generation: -1, error: .memberIDRequired))
                == [.join(memberID: "m-1", owned: [], generation: -1)])
        let subscription = KafkaConsumerSubscription(topics: [Self.topic])
        let actions = machine.joinCompleted(Self.joinResponse(member: "m-1", leader: "m-1", generation: 1, members: [("m-1", subscription)]))
        #expect(actions == [.computeAssignment(members: [KafkaGroupMember(memberID: "m-1", subscription: subscription)], protocolName: "range")])
        #expect(machine.isLeader)
        let plan = ["m-1": Self.assignment([0, 1, 2])]
        #expect(machine.assignmentComputed(plan) == [.sync(generation: 1, memberID: "m-1", protocolName: "range", assignments: plan)])
        #expect(machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0, 1, 2])) == [.take([Self.tp(0), Self.tp(1), Self.tp(2)])])
        #expect(machine.phase == .stable)
        #expect(machine.generation == 1)
        #expect(machine.heartbeatCompleted(errorCode: 0) == [])
    }

    static func stableFollower(_ assignors: [KafkaPartitionAssignor], owning partitions: [Int32], protocolName: String) -> KafkaGroupMachine {
        var machine = Self.machine(assignors)
        _ = machine.started()
        _ = machine.coordinatorFound()
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 4, protocolName: protocolName))
        _ = machine.syncCompleted(errorCode: 0, assignment: Self.assignment(partitions))
        return machine
    }

    @Test func followerSyncsWithoutAssignments() {
        var machine = Self.machine()
        _ = machine.started()
        _ = machine.coordinatorFound()
        #expect(machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 4))
                == [.sync(generation: 4, memberID: "m-2", protocolName: "range", assignments: [:])])
        #expect(!machine.isLeader)
    }

    @Test func eagerRebalanceRevokesEverythingBeforeRejoining() {
        var machine = Self.stableFollower([.range], owning: [0, 1], protocolName: "range")
        let actions = machine.heartbeatCompleted(errorCode: KafkaErrorCode.rebalanceInProgress.rawValue)
        #expect(actions == [.revoke([Self.tp(0), Self.tp(1)]), .join(memberID: "m-2", owned: [], generation: 4)])
    }

    @Test func cooperativeRebalanceKeepsPartitionsAndRevokesOnlyWhatMoves() {
        var machine = Self.stableFollower([.cooperativeSticky], owning: [0, 1, 2], protocolName: "cooperative-sticky")
        // Rejoin keeps everything and tells the leader what it owns.
        #expect(machine.heartbeatCompleted(errorCode: KafkaErrorCode.rebalanceInProgress.rawValue)
                == [.join(memberID: "m-2", owned: [KafkaTopicPartitions(topic: Self.topic, partitions: [0, 1, 2])], generation: 4)])
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 5, protocolName: "cooperative-sticky"))
        // Partition 2 moves away: revoked, then a follow-up join hands it over.
        #expect(machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0, 1]))
                == [.revoke([Self.tp(2)]), .join(memberID: "m-2", owned: [KafkaTopicPartitions(topic: Self.topic, partitions: [0, 1])], generation: 5)])
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 6, protocolName: "cooperative-sticky"))
        // Nothing moves any more: no revocation, no further join.
        #expect(machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0, 1])) == [])
        #expect(machine.phase == .stable)
        #expect(machine.owned == [Self.tp(0), Self.tp(1)])
    }

    @Test func illegalGenerationLosesPartitionsAndRejoinsWithTheSameID() {
        var machine = Self.stableFollower([.range], owning: [3], protocolName: "range")
        #expect(machine.heartbeatCompleted(errorCode: KafkaErrorCode.illegalGeneration.rawValue)
                == [.lose([Self.tp(3)]), .join(memberID: "m-2", owned: [], generation: -1)])
    }

    @Test func unknownMemberIDLosesPartitionsAndRejoinsAsNew() {
        var machine = Self.stableFollower([.range], owning: [3], protocolName: "range")
        #expect(machine.heartbeatCompleted(errorCode: KafkaErrorCode.unknownMemberID.rawValue)
                == [.lose([Self.tp(3)]), .join(memberID: "", owned: [], generation: -1)])
    }

    @Test func coordinatorMovesLeadToBackoffAndRediscovery() {
        var machine = Self.stableFollower([.range], owning: [0], protocolName: "range")
        #expect(machine.heartbeatCompleted(errorCode: KafkaErrorCode.notCoordinator.rawValue) == [.backoff(attempt: 0)])
        #expect(machine.backoffElapsed() == [.findCoordinator])
        #expect(machine.requestFailed(api: .findCoordinator, code: .coordinatorNotAvailable, retriable: true) == [.backoff(attempt: 1)])
        _ = machine.backoffElapsed()
        // Found again: the eager member gives up and rejoins.
        #expect(machine.coordinatorFound() == [.revoke([Self.tp(0)]), .join(memberID: "m-2", owned: [], generation: 4)])
    }

    @Test func lostConnectionRetriesButFatalErrorsStop() {
        var machine = Self.stableFollower([.range], owning: [0], protocolName: "range")
        #expect(machine.requestFailed(api: .heartbeat, code: nil, retriable: true) == [.backoff(attempt: 0)])
        var other = Self.machine()
        _ = other.started()
        _ = other.coordinatorFound()
        #expect(other.joinCompleted(Self.joinResponse(member: "", leader: "", generation: -1, error: .inconsistentGroupProtocol))
                == [.fail(code: .inconsistentGroupProtocol, api: .joinGroup)])
        #expect(other.phase == .failed)
        #expect(other.heartbeatCompleted(errorCode: 0) == [])
    }

    @Test func closeRevokesAndLeavesUnlessStatic() {
        var dynamic = Self.stableFollower([.range], owning: [1], protocolName: "range")
        #expect(dynamic.closeRequested() == [.revoke([Self.tp(1)]), .leave(memberID: "m-2")])
        var staticMember = Self.machine(instance: "inventory-1")
        _ = staticMember.started()
        _ = staticMember.coordinatorFound()
        _ = staticMember.joinCompleted(Self.joinResponse(member: "m-9", leader: "m-1", generation: 2))
        _ = staticMember.syncCompleted(errorCode: 0, assignment: Self.assignment([5]))
        #expect(staticMember.closeRequested() == [.revoke([Self.tp(5)])])
    }

    @Test func subscriptionChangeRejoinsAndDropsTheOldTopic() {
        var machine = Self.stableFollower([.range], owning: [0, 1], protocolName: "range")
        #expect(machine.subscriptionChanged(topics: ["payments"]) == [.revoke([Self.tp(0), Self.tp(1)]), .join(memberID: "m-2", owned: [], generation: 4)])
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 5))
        let payments = KafkaConsumerAssignment(assignedPartitions: [KafkaTopicPartitions(topic: "payments", partitions: [2]),
                                                                    KafkaTopicPartitions(topic: Self.topic, partitions: [0])])
        // Only subscribed topics are taken, even if the leader assigned others.
        #expect(machine.syncCompleted(errorCode: 0, assignment: payments) == [.take([KafkaTopicPartition(topic: "payments", partition: 2)])])
    }

    @Test func subscriptionChangeDuringARebalanceRejoinsAfterIt() {
        var machine = Self.machine()
        _ = machine.started()
        _ = machine.coordinatorFound()
        #expect(machine.subscriptionChanged(topics: [Self.topic, "refunds"]) == [])
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 1))
        #expect(machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0])) == [.take([Self.tp(0)]), .revoke([Self.tp(0)]), .join(memberID: "m-2", owned: [], generation: 1)])
    }

    @Test func outOfOrderEventsAreIgnored() {
        var machine = Self.machine()
        #expect(machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0])) == [])
        #expect(machine.joinCompleted(Self.joinResponse(member: "x", leader: "x", generation: 1)) == [])
        #expect(machine.owned.isEmpty)
    }
}
