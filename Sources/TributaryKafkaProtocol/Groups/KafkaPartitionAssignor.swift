/// A member of a consumer group as the elected leader sees it in the JoinGroup response.
public struct KafkaGroupMember: Hashable, Sendable {
    /// The member id the coordinator gave it.
    public var memberID: String
    /// Its static membership id (`group.instance.id`), if any.
    public var groupInstanceID: String?
    /// What it subscribed to and what it owns.
    public var subscription: KafkaConsumerSubscription

    /// Creates a member description.
    public init(memberID: String, groupInstanceID: String? = nil, subscription: KafkaConsumerSubscription) {
        self.memberID = memberID
        self.groupInstanceID = groupInstanceID
        self.subscription = subscription
    }

    /// The order assignors sort members in: by static id when present, then by member id, as
    /// the Java client does, so that mixed groups compute the same result.
    var sortKey: (Int, String, String) {
        (groupInstanceID == nil ? 1 : 0, groupInstanceID ?? "", memberID)
    }
}

/// Whether an assignor's rebalances stop every partition (eager) or only those that move
/// (cooperative, KIP-429).
public enum KafkaRebalanceProtocol: String, Sendable, Hashable {
    /// Every member revokes everything before it joins.
    case eager
    /// Members keep their partitions across a rebalance; moved ones are revoked and handed over
    /// in a follow-up rebalance.
    case cooperative
}

/// A partition assignment strategy, named as the Java client and librdkafka name it so that
/// mixed groups agree on it.
public enum KafkaPartitionAssignor: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Per topic, consecutive ranges of partitions to members in order (`range`).
    case range
    /// All partitions of all topics dealt to members in turn (`roundrobin`).
    case roundRobin = "roundrobin"
    /// Balanced, keeps what members own, moves only what must move, in two rebalances
    /// (`cooperative-sticky`).
    case cooperativeSticky = "cooperative-sticky"

    /// The protocol name sent in JoinGroup.
    public var name: String { rawValue }
    /// The protocol name (`range`, `roundrobin`, `cooperative-sticky`).
    public var description: String { rawValue }

    /// Eager or cooperative.
    public var rebalanceProtocol: KafkaRebalanceProtocol {
        self == .cooperativeSticky ? .cooperative : .eager
    }

    /// Computes the assignment.
    ///
    /// - Parameters:
    ///   - members: every member with its subscription.
    ///   - partitionCounts: the number of partitions of each subscribed topic (topics missing
    ///     here are not assigned).
    /// - Returns: member id → partitions, every member present (possibly with nothing), topics and
    ///   partitions sorted.
    public func assign(members: [KafkaGroupMember], partitionCounts: [String: Int]) -> [String: [KafkaTopicPartitions]] {
        let sorted = members.sorted { $0.sortKey < $1.sortKey }
        var result: [String: [String: [Int32]]] = [:]
        for member in sorted { result[member.memberID] = [:] }
        switch self {
        case .range:
            let topics = Set(sorted.flatMap(\.subscription.topics)).sorted()
            for topic in topics {
                guard let count = partitionCounts[topic], count > 0 else { continue }
                let subscribers = sorted.filter { $0.subscription.topics.contains(topic) }
                let share = count / subscribers.count
                let extra = count % subscribers.count
                for (index, member) in subscribers.enumerated() {
                    let start = index * share + min(index, extra)
                    let length = share + (index < extra ? 1 : 0)
                    guard length > 0 else { continue }
                    result[member.memberID, default: [:]][topic] = (start..<(start + length)).map { Int32($0) }
                }
            }
        case .roundRobin:
            let all = Self.allPartitions(of: Set(sorted.flatMap(\.subscription.topics)), counts: partitionCounts)
            var next = 0
            for (topic, partition) in all {
                for step in 0..<sorted.count {
                    let member = sorted[(next + step) % sorted.count]
                    if member.subscription.topics.contains(topic) {
                        result[member.memberID, default: [:]][topic, default: []].append(partition)
                        next = (next + step + 1) % sorted.count
                        break
                    }
                }
            }
        case .cooperativeSticky:
            return Self.sticky(sorted, partitionCounts: partitionCounts)
        }
        return result.mapValues(Self.lists)
    }

    static func allPartitions(of topics: Set<String>, counts: [String: Int]) -> [(String, Int32)] {
        topics.sorted().flatMap { topic in (0..<(counts[topic] ?? 0)).map { (topic, Int32($0)) } }
    }

    static func lists(_ map: [String: [Int32]]) -> [KafkaTopicPartitions] {
        map.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { KafkaTopicPartitions(topic: $0.key, partitions: $0.value.sorted()) }
    }

    private struct Slot: Hashable {
        let topic: String
        let partition: Int32
    }

    /// A balanced assignment that keeps owned partitions where it can; partitions that change
    /// owner are left out of this round (cooperative protocol: their owner revokes them first
    /// and a follow-up rebalance hands them over).
    private static func sticky(_ members: [KafkaGroupMember], partitionCounts: [String: Int]) -> [String: [KafkaTopicPartitions]] {
        let ids = members.map(\.memberID)
        var subscribed: [String: Set<String>] = [:]
        for member in members { subscribed[member.memberID] = Set(member.subscription.topics) }
        var valid = Set<Slot>()
        for (topic, partition) in allPartitions(of: Set(members.flatMap(\.subscription.topics)), counts: partitionCounts) {
            valid.insert(Slot(topic: topic, partition: partition))
        }

        // Previous owners: on a conflict, the claim from the highest generation wins.
        var previousOwner: [Slot: (member: String, generation: Int32)] = [:]
        for member in members {
            for list in member.subscription.ownedPartitions {
                for partition in list.partitions {
                    let slot = Slot(topic: list.topic, partition: partition)
                    let generation = member.subscription.generationID
                    if let existing = previousOwner[slot], existing.generation >= generation { continue }
                    previousOwner[slot] = (member.memberID, generation)
                }
            }
        }

        var assignment: [String: [Slot]] = [:]
        for id in ids { assignment[id] = [] }
        var unassigned: [Slot] = []
        for slot in valid.sorted(by: { ($0.topic, $0.partition) < ($1.topic, $1.partition) }) {
            if let owner = previousOwner[slot]?.member, subscribed[owner]?.contains(slot.topic) == true {
                assignment[owner, default: []].append(slot)
            } else {
                unassigned.append(slot)
            }
        }
        // Hand out free partitions to the eligible member with the fewest.
        for slot in unassigned {
            let eligible = ids.filter { subscribed[$0]?.contains(slot.topic) == true }
            guard let target = eligible.min(by: { (assignment[$0]?.count ?? 0, $0) < (assignment[$1]?.count ?? 0, $1) }) else { continue }
            assignment[target, default: []].append(slot)
        }
        // Balance: move from the fullest to the emptiest eligible member until no move helps.
        var moved = true
        while moved {
            moved = false
            for donor in ids.sorted(by: { (assignment[$0]?.count ?? 0) > (assignment[$1]?.count ?? 0) }) {
                let donorCount = assignment[donor]?.count ?? 0
                // Take the donor's last partitions first so that the lowest ones stay put.
                for slot in (assignment[donor] ?? []).reversed() {
                    let candidates = ids.filter { $0 != donor && subscribed[$0]?.contains(slot.topic) == true && (assignment[$0]?.count ?? 0) < donorCount - 1 }
                    guard let receiver = candidates.min(by: { (assignment[$0]?.count ?? 0, $0) < (assignment[$1]?.count ?? 0, $1) }) else { continue }
                    assignment[donor]?.removeAll { $0 == slot }
                    assignment[receiver, default: []].append(slot)
                    moved = true
                    break
                }
                if moved { break }
            }
        }
        // Cooperative: a partition moving away from a member that still exists is not handed to
        // its new owner in this round.
        let present = Set(ids)
        var result: [String: [KafkaTopicPartitions]] = [:]
        for id in ids {
            var map: [String: [Int32]] = [:]
            for slot in assignment[id] ?? [] {
                if let owner = previousOwner[slot]?.member, owner != id, present.contains(owner) { continue }
                map[slot.topic, default: []].append(slot.partition)
            }
            result[id] = lists(map)
        }
        return result
    }
}
