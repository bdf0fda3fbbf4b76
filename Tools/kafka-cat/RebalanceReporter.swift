import Synchronization
import TributaryKafka
import TributaryKafkaProtocol

/// Prints kcat's rebalance lines for `-G` on stderr (unless `-q`):
/// `% Group G rebalanced (memberid M): assigned: t [0], t [1]` (and `revoked:`, `lost:`), or,
/// with cooperative-sticky, `% Group G rebalanced: incremental assignment of 2 partition(s)
/// (memberid M, COOPERATIVE rebalance protocol): t [0], t [1]`.
final class RebalanceReporter: Sendable {
    private let session: KafkaCatSession
    private let group: String
    /// The member, set right after it is created (the callback is handed over before that).
    private let member = Mutex<KafkaGroupConsumer?>(nil)
    /// The partitions whose assignment was reported and not revoked since, by topic.
    private let reported = Mutex<[String: Set<Int32>]>([:])

    init(session: KafkaCatSession, group: String) {
        self.session = session
        self.group = group
    }

    /// Makes `member`'s id and protocol available to the lines.
    func attach(_ member: KafkaGroupConsumer) {
        self.member.withLock { $0 = member }
    }

    /// Whether the assignment of `partition` was reported (so that lines about it come after).
    func isReported(topic: String, partition: Int32) -> Bool {
        reported.withLock { $0[topic]?.contains(partition) ?? false }
    }

    /// Prints the line for one rebalance event.
    func report(_ event: KafkaRebalanceEvent) {
        let current = member.withLock { $0 }
        let memberID = current?.memberID ?? ""
        let cooperative = current?.protocolName == KafkaPartitionAssignor.cooperativeSticky.name
        let (what, lists, lost): (String, [KafkaTopicPartitions], Bool) = switch event {
        case .assigned(let lists): ("assigned", lists, false)
        case .revoked(let lists): ("revoked", lists, false)
        case .lost(let lists): ("lost", lists, true)
        }
        let partitions = lists.flatMap { list in list.partitions.map { "\(list.topic) [\($0)]" } }
        let line: String
        if cooperative {
            let kind = what == "assigned" ? "assignment" : "revoke"
            line = "Group \(group) rebalanced: incremental \(kind) of \(partitions.count) partition(s) "
                + "(memberid \(memberID)\(lost ? ", assignment lost" : ""), COOPERATIVE rebalance protocol): "
                + partitions.joined(separator: ", ")
        } else {
            line = "Group \(group) rebalanced (memberid \(memberID)): \(what): " + partitions.joined(separator: ", ")
        }
        session.info(line)
        reported.withLock { reported in
            for list in lists {
                if what == "assigned" {
                    reported[list.topic, default: []].formUnion(list.partitions)
                } else {
                    reported[list.topic]?.subtract(list.partitions)
                }
            }
        }
    }
}
