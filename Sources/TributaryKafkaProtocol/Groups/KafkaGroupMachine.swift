import TributaryWire

/// One partition of one topic.
public struct KafkaTopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32

    /// Creates a reference to a partition.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: KafkaTopicPartition, rhs: KafkaTopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    /// `topic [partition]`, as kcat prints it.
    public var description: String { "\(topic) [\(partition)]" }

    /// Groups partitions by topic, both sorted.
    public static func lists(_ partitions: some Sequence<KafkaTopicPartition>) -> [KafkaTopicPartitions] {
        var map: [String: [Int32]] = [:]
        for key in partitions { map[key.topic, default: []].append(key.partition) }
        return map.sorted { $0.key < $1.key }.map { KafkaTopicPartitions(topic: $0.key, partitions: $0.value.sorted()) }
    }
}

/// The consumer-group membership protocol as a state machine, without sockets, clocks or tasks:
/// the driver reports what happened (a response arrived, a request failed, a timer fired) and
/// performs the actions returned, in order.
///
/// Flow: find the coordinator → JoinGroup (again with the assigned member id when the
/// coordinator answers MEMBER_ID_REQUIRED, KIP-394) → the leader computes the assignment →
/// SyncGroup → take the new partitions and give up the others → heartbeats until the
/// coordinator announces a rebalance. Eager assignors give up everything before rejoining;
/// cooperative ones (KIP-429) keep their partitions and give up only the ones that move, then
/// rejoin once more so the moved partitions reach their new owner.
///
/// While stable the machine keeps three schedules, with time handed in as a value: heartbeats
/// every ``Settings/heartbeatInterval``, background commits every
/// ``Settings/autoCommitInterval`` (when set) and, on the leader, a partition-count check every
/// ``Settings/partitionCheckInterval``. The driver waits until ``nextDeadline`` (or until it has
/// something else to report) and then calls ``timerFired(now:)``.
public struct KafkaGroupMachine: Sendable {
    /// Where the member is.
    public enum Phase: Sendable, Hashable {
        /// Looking for the coordinator.
        case findingCoordinator
        /// A JoinGroup is in flight.
        case joining
        /// The leader is computing the assignment.
        case assigning
        /// A SyncGroup is in flight.
        case syncing
        /// Member of a stable generation; heartbeating.
        case stable
        /// Stopped for good.
        case failed
        /// Left the group.
        case left
    }

    /// What the driver must do next.
    public enum Action: Sendable, Hashable {
        /// Look the coordinator up (FindCoordinator) and connect to it; report
        /// ``coordinatorFound()`` or ``requestFailed(code:retriable:)``.
        case findCoordinator
        /// Send JoinGroup with this member id and a subscription listing `owned` (from
        /// `generation`); report ``joinCompleted(_:)``.
        case join(memberID: String, owned: [KafkaTopicPartitions], generation: Int32)
        /// As the leader: run the assignor called `protocolName` over `members`; report
        /// ``assignmentComputed(_:)``.
        case computeAssignment(members: [KafkaGroupMember], protocolName: String)
        /// Send SyncGroup; report ``syncCompleted(errorCode:assignment:)``.
        case sync(generation: Int32, memberID: String, protocolName: String, assignments: [String: KafkaConsumerAssignment])
        /// Give these partitions up cleanly: let running work finish, commit, stop fetching.
        case revoke(Set<KafkaTopicPartition>)
        /// These partitions are gone without a handover (the member was dropped): stop fetching,
        /// commit nothing.
        case lose(Set<KafkaTopicPartition>)
        /// Start reading these partitions from their committed offsets.
        case take(Set<KafkaTopicPartition>)
        /// Wait the retry backoff (attempt counts from 0), then report ``backoffElapsed()``.
        case backoff(attempt: Int)
        /// Stop: the error cannot be fixed by rejoining.
        case fail(code: KafkaErrorCode, api: KafkaAPIKey)
        /// Send LeaveGroup (dynamic members only), then stop.
        case leave(memberID: String)
        /// Send a Heartbeat as this member of `generation`; report
        /// ``heartbeatCompleted(errorCode:)`` or ``requestFailed(api:code:retriable:)``.
        case heartbeat(memberID: String, generation: Int32)
        /// Commit the processed offsets not committed yet; report ``commitFailed(errorCode:)`` when
        /// the coordinator refuses (success needs no input).
        case autoCommit
        /// As the leader: compare the subscribed topics' partition counts with those of the last
        /// assignment; report ``rebalanceNeeded()`` when one changed (nothing otherwise).
        case checkPartitionCounts
    }

    /// The group's settings the machine needs.
    public struct Settings: Sendable, Hashable {
        /// Subscribed topics.
        public var topics: [String]
        /// Assignors offered; the first decides eager or cooperative before the group chose one.
        public var assignors: [KafkaPartitionAssignor]
        /// Static membership id, if any (a static member does not send LeaveGroup).
        public var groupInstanceID: String?
        /// Time between heartbeats while stable.
        public var heartbeatInterval: Duration
        /// Time between background commits while stable; nil: no background commits.
        public var autoCommitInterval: Duration?
        /// How often the leader compares partition counts with the ones it assigned.
        public var partitionCheckInterval: Duration

        /// Creates settings. Intervals below ``KafkaGroupMachine/minimumInterval`` count as that.
        public init(topics: [String], assignors: [KafkaPartitionAssignor], groupInstanceID: String? = nil,
                    heartbeatInterval: Duration = .seconds(3), autoCommitInterval: Duration? = nil,
                    partitionCheckInterval: Duration = .seconds(5)) {
            self.topics = topics
            self.assignors = assignors
            self.groupInstanceID = groupInstanceID
            self.heartbeatInterval = heartbeatInterval
            self.autoCommitInterval = autoCommitInterval
            self.partitionCheckInterval = partitionCheckInterval
        }
    }

    /// The shortest interval a schedule uses, so that a zero interval cannot make the driver spin.
    public static let minimumInterval: Duration = .milliseconds(10)

    /// The settings (topics change with ``subscriptionChanged(topics:)``).
    public private(set) var settings: Settings
    /// Where the member is.
    public private(set) var phase: Phase = .findingCoordinator
    /// The member id ("" until the coordinator gives one).
    public private(set) var memberID = ""
    /// The generation of ``owned`` (-1 before the first).
    public private(set) var generation: Int32 = -1
    /// The assignor the group uses, once joined.
    public private(set) var protocolName: String?
    /// Whether this member is the leader of the current generation.
    public private(set) var isLeader = false
    /// The partitions this member owns.
    public private(set) var owned = Set<KafkaTopicPartition>()
    private var pendingGeneration: Int32 = -1
    private var failures = 0
    private var nextAfterBackoff: Action = .findCoordinator
    private var rejoinAfterSync = false
    private var nextHeartbeat = MonotonicInstant(nanoseconds: 0)
    private var nextPartitionCheck = MonotonicInstant(nanoseconds: 0)
    /// Set on the first stable generation (only with an `autoCommitInterval`) and kept across
    /// rebalances: a commit that fell due during one happens as soon as the member is stable
    /// again.
    private var nextAutoCommit: MonotonicInstant?

    /// A member that has not joined yet.
    public init(settings: Settings) {
        self.settings = settings
    }

    private var rebalanceProtocol: KafkaRebalanceProtocol {
        (protocolName.flatMap(KafkaPartitionAssignor.init(rawValue:)) ?? settings.assignors.first ?? .range).rebalanceProtocol
    }

    private var joinAction: Action {
        .join(memberID: memberID, owned: KafkaTopicPartition.lists(owned), generation: generation)
    }

    // MARK: - Inputs

    /// Start: find the coordinator.
    public mutating func started() -> [Action] {
        phase = .findingCoordinator
        return [.findCoordinator]
    }

    /// The coordinator is known and connected: join (an eager member gives everything up first).
    public mutating func coordinatorFound() -> [Action] {
        guard phase == .findingCoordinator else { return [] }
        failures = 0
        return rejoin()
    }

    private mutating func rejoin() -> [Action] {
        var actions: [Action] = []
        if rebalanceProtocol == .eager && !owned.isEmpty {
            actions.append(.revoke(owned))
            owned.removeAll()
        }
        phase = .joining
        actions.append(joinAction)
        return actions
    }

    /// The JoinGroup response arrived.
    public mutating func joinCompleted(_ response: JoinGroupResponse) -> [Action] {
        guard phase == .joining else { return [] }
        let code = KafkaErrorCode(rawValue: response.errorCode)
        if code == .memberIDRequired {
            // KIP-394: join again with the id the coordinator assigned.
            memberID = response.memberID
            return [joinAction]
        }
        if code.isError { return groupError(code, api: .joinGroup) }
        memberID = response.memberID
        pendingGeneration = response.generationID
        protocolName = response.protocolName ?? settings.assignors.first?.name
        isLeader = response.leader == response.memberID
        let name = protocolName ?? KafkaPartitionAssignor.range.name
        if isLeader && !response.skipAssignment {
            phase = .assigning
            let members = response.members.map { member in
                KafkaGroupMember(memberID: member.memberID, groupInstanceID: member.groupInstanceID,
                                 subscription: (try? KafkaConsumerSubscription(decoding: member.metadata)) ?? KafkaConsumerSubscription(topics: []))
            }
            return [.computeAssignment(members: members, protocolName: name)]
        }
        phase = .syncing
        return [.sync(generation: pendingGeneration, memberID: memberID, protocolName: name, assignments: [:])]
    }

    /// The leader computed the assignment (member id → assignment).
    public mutating func assignmentComputed(_ assignments: [String: KafkaConsumerAssignment]) -> [Action] {
        guard phase == .assigning else { return [] }
        phase = .syncing
        return [.sync(generation: pendingGeneration, memberID: memberID, protocolName: protocolName ?? KafkaPartitionAssignor.range.name, assignments: assignments)]
    }

    /// The SyncGroup response arrived at `now`: `assignment` is this member's, decoded (nil when
    /// the bytes did not decode). The heartbeat and partition-check schedules start over from
    /// `now`; the background-commit one starts with the first stable generation.
    public mutating func syncCompleted(errorCode: Int16, assignment: KafkaConsumerAssignment?, now: MonotonicInstant) -> [Action] {
        guard phase == .syncing else { return [] }
        let code = KafkaErrorCode(rawValue: errorCode)
        if code.isError { return groupError(code, api: .syncGroup) }
        guard let assignment else {
            phase = .failed
            return [.fail(code: .inconsistentGroupProtocol, api: .syncGroup)]
        }
        var next = Set<KafkaTopicPartition>()
        for list in assignment.assignedPartitions where settings.topics.contains(list.topic) {
            for partition in list.partitions { next.insert(KafkaTopicPartition(topic: list.topic, partition: partition)) }
        }
        let revoked = owned.subtracting(next)
        let added = next.subtracting(owned)
        generation = pendingGeneration
        owned = next
        phase = .stable
        failures = 0
        nextHeartbeat = now.advanced(by: Self.interval(settings.heartbeatInterval))
        nextPartitionCheck = now.advanced(by: Self.interval(settings.partitionCheckInterval))
        if nextAutoCommit == nil, let interval = settings.autoCommitInterval { nextAutoCommit = now.advanced(by: Self.interval(interval)) }
        var actions: [Action] = []
        if !revoked.isEmpty { actions.append(.revoke(revoked)) }
        if !added.isEmpty { actions.append(.take(added)) }
        if rejoinAfterSync {
            // The subscription changed while this generation formed: join again with it.
            rejoinAfterSync = false
            return actions + rejoin()
        }
        if !revoked.isEmpty && rebalanceProtocol == .cooperative {
            // KIP-429: what was given up reaches its new owner in a follow-up rebalance.
            phase = .joining
            actions.append(joinAction)
        }
        return actions
    }

    /// The heartbeat answer arrived (0 when fine).
    public mutating func heartbeatCompleted(errorCode: Int16) -> [Action] {
        guard phase == .stable else { return [] }
        let code = KafkaErrorCode(rawValue: errorCode)
        guard code.isError else {
            failures = 0
            return []
        }
        return groupError(code, api: .heartbeat)
    }

    /// The earliest instant at which ``timerFired(now:)`` has something to do; nil when nothing
    /// is scheduled (the member is not stable).
    public var nextDeadline: MonotonicInstant? {
        guard phase == .stable else { return nil }
        var earliest = nextHeartbeat
        if let commit = nextAutoCommit { earliest = min(earliest, commit) }
        if isLeader { earliest = min(earliest, nextPartitionCheck) }
        return earliest
    }

    /// The driver's timer fired at `now`: returns the one job due first (background commit, then
    /// heartbeat, then the leader's partition check) and moves its schedule on from `now`. Call
    /// again, after performing the actions, while ``nextDeadline`` is not after the current
    /// time: a job that changes the phase (a refused commit rejoins) thereby cancels the others.
    public mutating func timerFired(now: MonotonicInstant) -> [Action] {
        guard phase == .stable else { return [] }
        if let interval = settings.autoCommitInterval, let due = nextAutoCommit, due <= now {
            nextAutoCommit = now.advanced(by: Self.interval(interval))
            return [.autoCommit]
        }
        if nextHeartbeat <= now {
            nextHeartbeat = now.advanced(by: Self.interval(settings.heartbeatInterval))
            return [.heartbeat(memberID: memberID, generation: generation)]
        }
        if isLeader && nextPartitionCheck <= now {
            nextPartitionCheck = now.advanced(by: Self.interval(settings.partitionCheckInterval))
            return [.checkPartitionCounts]
        }
        return []
    }

    private static func interval(_ duration: Duration) -> Duration { max(duration, minimumInterval) }

    /// A commit was refused with `errorCode` (success needs no input).
    public mutating func commitFailed(errorCode: Int16) -> [Action] {
        guard phase == .stable else { return [] }
        return groupError(KafkaErrorCode(rawValue: errorCode), api: .offsetCommit)
    }

    /// The leader saw a subscribed topic's partition count change, or the subscription changed:
    /// rebalance.
    public mutating func rebalanceNeeded() -> [Action] {
        guard phase == .stable else { return [] }
        return rejoin()
    }

    /// The member now subscribes to `topics`: rejoin with the new subscription (at once when
    /// stable, else after the rebalance in progress).
    public mutating func subscriptionChanged(topics: [String]) -> [Action] {
        guard phase != .failed && phase != .left, topics != settings.topics else { return [] }
        settings.topics = topics
        if phase == .stable { return rejoin() }
        rejoinAfterSync = true
        return []
    }

    /// A request of `api` failed: with a Kafka error `code` the broker sent outside the group
    /// fields (FindCoordinator), or without one (connection lost, timeout: `retriable`).
    public mutating func requestFailed(api: KafkaAPIKey, code: KafkaErrorCode?, retriable: Bool) -> [Action] {
        guard phase != .failed && phase != .left else { return [] }
        if let code, code.isError { return groupError(code, api: api) }
        guard retriable else {
            phase = .failed
            return [.fail(code: .unknownServerError, api: api)]
        }
        return backOffThenFindCoordinator()
    }

    /// The backoff asked for ended.
    public mutating func backoffElapsed() -> [Action] {
        guard phase != .failed && phase != .left else { return [] }
        phase = .findingCoordinator
        return [nextAfterBackoff]
    }

    /// The member is closing: give up the partitions (committing them) and leave.
    public mutating func closeRequested() -> [Action] {
        guard phase != .failed && phase != .left else { return [] }
        var actions: [Action] = []
        if !owned.isEmpty { actions.append(.revoke(owned)) }
        owned.removeAll()
        phase = .left
        if settings.groupInstanceID == nil && !memberID.isEmpty { actions.append(.leave(memberID: memberID)) }
        return actions
    }

    // MARK: - Error handling

    private func isCoordinatorError(_ code: KafkaErrorCode) -> Bool {
        code == .notCoordinator || code == .coordinatorNotAvailable || code == .coordinatorLoadInProgress
    }

    private mutating func backOffThenFindCoordinator() -> [Action] {
        phase = .findingCoordinator
        nextAfterBackoff = .findCoordinator
        defer { failures += 1 }
        return [.backoff(attempt: failures)]
    }

    private mutating func groupError(_ code: KafkaErrorCode, api: KafkaAPIKey) -> [Action] {
        if isCoordinatorError(code) {
            return backOffThenFindCoordinator()
        }
        switch code {
        case .rebalanceInProgress:
            return rejoin()
        case .illegalGeneration:
            return loseAllAndRejoin()
        case .unknownMemberID, .fencedInstanceID:
            memberID = ""
            return loseAllAndRejoin()
        default:
            if code.isRetriable { return backOffThenFindCoordinator() }
            phase = .failed
            return [.fail(code: code, api: api)]
        }
    }

    private mutating func loseAllAndRejoin() -> [Action] {
        var actions: [Action] = []
        if !owned.isEmpty { actions.append(.lose(owned)) }
        owned.removeAll()
        generation = -1
        phase = .joining
        actions.append(joinAction)
        return actions
    }
}
