import Testing
import TributaryKafkaProtocol
import TributaryWire

/// The group membership machine as protocol transcripts: event in, actions out.
@Suite("Group membership state machine")
struct KafkaGroupMachineTests {
    static let topic = "orders"
    /// The instant the transcripts start at.
    static let t0 = MonotonicInstant(nanoseconds: 1_000_000_000)
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
        #expect(machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0, 1, 2]), now: Self.t0) == [.take([Self.tp(0), Self.tp(1), Self.tp(2)])])
        #expect(machine.phase == .stable)
        #expect(machine.generation == 1)
        #expect(machine.heartbeatCompleted(errorCode: 0) == [])
    }

    static func stableFollower(_ assignors: [KafkaPartitionAssignor], owning partitions: [Int32], protocolName: String) -> KafkaGroupMachine {
        var machine = Self.machine(assignors)
        _ = machine.started()
        _ = machine.coordinatorFound()
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 4, protocolName: protocolName))
        _ = machine.syncCompleted(errorCode: 0, assignment: Self.assignment(partitions), now: Self.t0)
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
        #expect(machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0, 1]), now: Self.t0)
                == [.revoke([Self.tp(2)]), .join(memberID: "m-2", owned: [KafkaTopicPartitions(topic: Self.topic, partitions: [0, 1])], generation: 5)])
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 6, protocolName: "cooperative-sticky"))
        // Nothing moves any more: no revocation, no further join.
        #expect(machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0, 1]), now: Self.t0) == [])
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
        _ = staticMember.syncCompleted(errorCode: 0, assignment: Self.assignment([5]), now: Self.t0)
        #expect(staticMember.closeRequested() == [.revoke([Self.tp(5)])])
    }

    @Test func subscriptionChangeRejoinsAndDropsTheOldTopic() {
        var machine = Self.stableFollower([.range], owning: [0, 1], protocolName: "range")
        #expect(machine.subscriptionChanged(topics: ["payments"]) == [.revoke([Self.tp(0), Self.tp(1)]), .join(memberID: "m-2", owned: [], generation: 4)])
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 5))
        let payments = KafkaConsumerAssignment(assignedPartitions: [KafkaTopicPartitions(topic: "payments", partitions: [2]),
                                                                    KafkaTopicPartitions(topic: Self.topic, partitions: [0])])
        // Only subscribed topics are taken, even if the leader assigned others.
        #expect(machine.syncCompleted(errorCode: 0, assignment: payments, now: Self.t0) == [.take([KafkaTopicPartition(topic: "payments", partition: 2)])])
    }

    @Test func subscriptionChangeDuringARebalanceRejoinsAfterIt() {
        var machine = Self.machine()
        _ = machine.started()
        _ = machine.coordinatorFound()
        #expect(machine.subscriptionChanged(topics: [Self.topic, "refunds"]) == [])
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 1))
        #expect(machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0]), now: Self.t0) == [.take([Self.tp(0)]), .revoke([Self.tp(0)]), .join(memberID: "m-2", owned: [], generation: 1)])
    }

    @Test func outOfOrderEventsAreIgnored() {
        var machine = Self.machine()
        #expect(machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0]), now: Self.t0) == [])
        #expect(machine.joinCompleted(Self.joinResponse(member: "x", leader: "x", generation: 1)) == [])
        #expect(machine.owned.isEmpty)
    }

    // MARK: - Timers

    static func at(_ seconds: Double) -> MonotonicInstant { t0.advanced(by: .seconds(seconds)) }

    static func timed(autoCommit: Duration? = nil, heartbeat: Duration = .seconds(3)) -> KafkaGroupMachine {
        KafkaGroupMachine(settings: .init(topics: [topic], assignors: [.range], heartbeatInterval: heartbeat, autoCommitInterval: autoCommit))
    }

    /// A follower (m-2, generation 4) that became stable at `t0`.
    static func timedFollower(autoCommit: Duration? = nil, heartbeat: Duration = .seconds(3)) -> KafkaGroupMachine {
        var machine = timed(autoCommit: autoCommit, heartbeat: heartbeat)
        _ = machine.started()
        _ = machine.coordinatorFound()
        _ = machine.joinCompleted(joinResponse(member: "m-2", leader: "m-1", generation: 4))
        _ = machine.syncCompleted(errorCode: 0, assignment: assignment([0]), now: t0)
        return machine
    }

    /// The leader (m-1, generation 1) of a one-member group, stable at `t0`.
    static func timedLeader(autoCommit: Duration? = nil) -> KafkaGroupMachine {
        var machine = timed(autoCommit: autoCommit)
        _ = machine.started()
        _ = machine.coordinatorFound()
        _ = machine.joinCompleted(joinResponse(member: "m-1", leader: "m-1", generation: 1, members: [("m-1", KafkaConsumerSubscription(topics: [topic]))]))
        _ = machine.assignmentComputed(["m-1": assignment([0])])
        _ = machine.syncCompleted(errorCode: 0, assignment: assignment([0]), now: t0)
        return machine
    }

    @Test func nothingIsScheduledBeforeTheMemberIsStable() {
        var machine = Self.timed(autoCommit: .seconds(5))
        #expect(machine.nextDeadline == nil)
        _ = machine.started()
        _ = machine.coordinatorFound()
        #expect(machine.nextDeadline == nil)
        #expect(machine.timerFired(now: Self.at(60)) == [])
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 4))
        #expect(machine.nextDeadline == nil)
        _ = machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0]), now: Self.t0)
        #expect(machine.nextDeadline == Self.at(3))
    }

    @Test func aStableFollowerHeartbeatsEveryIntervalAndNothingBefore() {
        var machine = Self.timedFollower()
        #expect(machine.nextDeadline == Self.at(3))
        #expect(machine.timerFired(now: Self.at(2.999)) == [])
        #expect(machine.nextDeadline == Self.at(3))
        #expect(machine.timerFired(now: Self.at(3)) == [.heartbeat(memberID: "m-2", generation: 4)])
        #expect(machine.timerFired(now: Self.at(3)) == [])
        #expect(machine.nextDeadline == Self.at(6))
        #expect(machine.heartbeatCompleted(errorCode: 0) == [])
        // A late timer: the next heartbeat counts from when this one went out.
        #expect(machine.timerFired(now: Self.at(7)) == [.heartbeat(memberID: "m-2", generation: 4)])
        #expect(machine.nextDeadline == Self.at(10))
    }

    @Test func aFollowerNeverChecksPartitionCounts() {
        var machine = Self.timedFollower(heartbeat: .seconds(20))
        #expect(machine.nextDeadline == Self.at(20))
        #expect(machine.timerFired(now: Self.at(5)) == [])
        #expect(machine.timerFired(now: Self.at(15)) == [])
    }

    @Test func theLeaderChecksPartitionCountsEveryFiveSeconds() {
        var machine = Self.timedLeader()
        #expect(machine.isLeader)
        #expect(machine.timerFired(now: Self.at(3)) == [.heartbeat(memberID: "m-1", generation: 1)])
        #expect(machine.nextDeadline == Self.at(5))
        #expect(machine.timerFired(now: Self.at(4.9)) == [])
        #expect(machine.timerFired(now: Self.at(5)) == [.checkPartitionCounts])
        #expect(machine.nextDeadline == Self.at(6))
        #expect(machine.timerFired(now: Self.at(6)) == [.heartbeat(memberID: "m-1", generation: 1)])
        #expect(machine.timerFired(now: Self.at(9)) == [.heartbeat(memberID: "m-1", generation: 1)])
        #expect(machine.nextDeadline == Self.at(10))
        #expect(machine.timerFired(now: Self.at(10)) == [.checkPartitionCounts])
        // The counts changed: rebalance, and nothing is scheduled while it runs.
        #expect(machine.rebalanceNeeded() == [.revoke([Self.tp(0)]), .join(memberID: "m-1", owned: [], generation: 1)])
        #expect(machine.nextDeadline == nil)
        #expect(machine.timerFired(now: Self.at(30)) == [])
    }

    @Test func backgroundCommitsComeFirstAndOneJobPerTimer() {
        var machine = Self.timedFollower(autoCommit: .seconds(3))
        #expect(machine.nextDeadline == Self.at(3))
        #expect(machine.timerFired(now: Self.at(3)) == [.autoCommit])
        // Still due at the same instant: the heartbeat, on the next call.
        #expect(machine.nextDeadline == Self.at(3))
        #expect(machine.timerFired(now: Self.at(3)) == [.heartbeat(memberID: "m-2", generation: 4)])
        #expect(machine.timerFired(now: Self.at(3)) == [])
        #expect(machine.nextDeadline == Self.at(6))
    }

    @Test func backgroundCommitsFollowTheirOwnInterval() {
        var machine = Self.timedFollower(autoCommit: .seconds(5))
        var jobs: [KafkaGroupMachine.Action] = []
        var times: [MonotonicInstant] = []
        while let deadline = machine.nextDeadline, deadline <= Self.at(12) {
            let due = machine.timerFired(now: deadline)
            #expect(due.count == 1, "a timer at the deadline always has one job")
            jobs += due
            times.append(deadline)
        }
        let heartbeat = KafkaGroupMachine.Action.heartbeat(memberID: "m-2", generation: 4)
        #expect(jobs == [heartbeat, .autoCommit, heartbeat, heartbeat, .autoCommit, heartbeat])
        #expect(times == [Self.at(3), Self.at(5), Self.at(6), Self.at(9), Self.at(10), Self.at(12)])
    }

    @Test func withoutAutoCommitOnlyHeartbeatsAreScheduled() {
        var machine = Self.timedFollower(autoCommit: nil)
        for step in 1...10 {
            let deadline = machine.nextDeadline
            #expect(deadline == Self.at(3 * Double(step)))
            #expect(machine.timerFired(now: deadline ?? Self.t0) == [.heartbeat(memberID: "m-2", generation: 4)])
        }
    }

    @Test func aRefusedCommitRejoinsAndDropsTheJobsStillDue() {
        var machine = Self.timedFollower(autoCommit: .seconds(3))
        #expect(machine.timerFired(now: Self.at(3)) == [.autoCommit])
        #expect(machine.commitFailed(errorCode: KafkaErrorCode.rebalanceInProgress.rawValue) == [.revoke([Self.tp(0)]), .join(memberID: "m-2", owned: [], generation: 4)])
        // The heartbeat that was due too is not sent for a generation being replaced.
        #expect(machine.timerFired(now: Self.at(3)) == [])
        #expect(machine.nextDeadline == nil)
    }

    @Test func afterARejoinHeartbeatsCountFromTheSyncAndAMissedCommitHappensFirst() {
        var machine = Self.timedFollower(autoCommit: .seconds(5))
        #expect(machine.timerFired(now: Self.at(3)) == [.heartbeat(memberID: "m-2", generation: 4)])
        #expect(machine.heartbeatCompleted(errorCode: KafkaErrorCode.rebalanceInProgress.rawValue) == [.revoke([Self.tp(0)]), .join(memberID: "m-2", owned: [], generation: 4)])
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-1", generation: 5))
        #expect(machine.nextDeadline == nil)
        #expect(machine.syncCompleted(errorCode: 0, assignment: Self.assignment([1]), now: Self.at(12)) == [.take([Self.tp(1)])])
        // The commit fell due at 5 s, during the rebalance: it comes first.
        #expect(machine.nextDeadline == Self.at(5))
        #expect(machine.timerFired(now: Self.at(12)) == [.autoCommit])
        // The heartbeat schedule started over at the sync, with the new generation.
        #expect(machine.nextDeadline == Self.at(15))
        #expect(machine.timerFired(now: Self.at(14.9)) == [])
        #expect(machine.timerFired(now: Self.at(15)) == [.heartbeat(memberID: "m-2", generation: 5)])
        #expect(machine.nextDeadline == Self.at(17))
        #expect(machine.timerFired(now: Self.at(17)) == [.autoCommit])
    }

    @Test func aNewLeaderStartsItsPartitionChecksAtTheSync() {
        var machine = Self.timedFollower(heartbeat: .seconds(20))
        #expect(machine.timerFired(now: Self.at(20)) == [.heartbeat(memberID: "m-2", generation: 4)])
        _ = machine.heartbeatCompleted(errorCode: KafkaErrorCode.rebalanceInProgress.rawValue)
        // m-2 leads the next generation.
        _ = machine.joinCompleted(Self.joinResponse(member: "m-2", leader: "m-2", generation: 5, members: [("m-2", KafkaConsumerSubscription(topics: [Self.topic]))]))
        _ = machine.assignmentComputed(["m-2": Self.assignment([0])])
        _ = machine.syncCompleted(errorCode: 0, assignment: Self.assignment([0]), now: Self.at(21))
        #expect(machine.nextDeadline == Self.at(26))
        #expect(machine.timerFired(now: Self.at(26)) == [.checkPartitionCounts])
        #expect(machine.nextDeadline == Self.at(31))
    }

    @Test func aZeroIntervalCannotMakeTheDriverSpin() {
        var machine = Self.timedFollower(autoCommit: .zero)
        #expect(machine.nextDeadline == Self.t0.advanced(by: KafkaGroupMachine.minimumInterval))
        #expect(machine.timerFired(now: Self.t0) == [])
        #expect(machine.timerFired(now: Self.t0.advanced(by: KafkaGroupMachine.minimumInterval)) == [.autoCommit])
        #expect(machine.nextDeadline == Self.t0.advanced(by: KafkaGroupMachine.minimumInterval * 2))
    }

    @Test func closingClearsTheSchedule() {
        var machine = Self.timedFollower(autoCommit: .seconds(5))
        _ = machine.closeRequested()
        #expect(machine.nextDeadline == nil)
        #expect(machine.timerFired(now: Self.at(60)) == [])
    }
}
