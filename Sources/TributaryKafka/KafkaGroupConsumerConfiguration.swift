import TributaryKafkaProtocol

/// Settings of a consumer-group member. `init(groupID:topics:)` gives a working setup; names
/// follow the Java client's.
public struct KafkaGroupConsumerConfiguration: Sendable {
    /// Default assignors: range, then cooperative-sticky (the Java client's default list).
    public static let defaultAssignors: [KafkaPartitionAssignor] = [.range, .cooperativeSticky]
    /// Default session timeout: 45 s (`session.timeout.ms`).
    public static let defaultSessionTimeout: Duration = .seconds(45)
    /// Default rebalance timeout: 5 min (`max.poll.interval.ms`).
    public static let defaultRebalanceTimeout: Duration = .seconds(300)
    /// Default heartbeat interval: 3 s (`heartbeat.interval.ms`).
    public static let defaultHeartbeatInterval: Duration = .seconds(3)
    /// Default auto-commit interval: 5 s (`auto.commit.interval.ms`).
    public static let defaultAutoCommitInterval: Duration = .seconds(5)

    /// The group, like `group.id`.
    public var groupID: String
    /// Subscribed topics.
    public var topics: [String]
    /// Assignors offered, in order of preference, like `partition.assignment.strategy`. The group
    /// uses the first one every member offers.
    public var assignors: [KafkaPartitionAssignor] = KafkaGroupConsumerConfiguration.defaultAssignors
    /// How long the coordinator waits for a heartbeat before removing the member. Default 45 s.
    public var sessionTimeout: Duration = KafkaGroupConsumerConfiguration.defaultSessionTimeout
    /// How long the coordinator waits for members to rejoin in a rebalance. Default 5 min.
    public var rebalanceTimeout: Duration = KafkaGroupConsumerConfiguration.defaultRebalanceTimeout
    /// Time between heartbeats. Default 3 s.
    public var heartbeatInterval: Duration = KafkaGroupConsumerConfiguration.defaultHeartbeatInterval
    /// Static membership id, like `group.instance.id`: a restarted member with the same id gets
    /// its partitions back without a rebalance. Default none.
    public var groupInstanceID: String?
    /// Where a partition without a committed offset starts, like `auto.offset.reset`. Default
    /// `.latest`; `.none` makes such a partition an error.
    public var autoOffsetReset: KafkaOffsetResetPolicy = .latest
    /// Whether processed offsets are committed in the background, like `enable.auto.commit`.
    /// Default true.
    public var enableAutoCommit = true
    /// How often background commits happen. Default 5 s.
    public var autoCommitInterval: Duration = KafkaGroupConsumerConfiguration.defaultAutoCommitInterval
    /// Fetch settings of the underlying consumer (`autoOffsetReset` above wins over its own).
    public var fetch = KafkaConsumerConfiguration()

    /// A member of `groupID` reading `topics`.
    public init(groupID: String, topics: [String]) {
        self.groupID = groupID
        self.topics = topics
    }

    func validate() throws(KafkaError) {
        guard !groupID.isEmpty else { throw KafkaError(.invalidConfiguration, "groupID is empty; name the consumer group") }
        guard !topics.isEmpty else { throw KafkaError(.invalidConfiguration, "topics is empty; subscribe to at least one topic") }
        guard !assignors.isEmpty else { throw KafkaError(.invalidConfiguration, "assignors is empty; offer at least one (range, roundrobin, cooperative-sticky)") }
        guard heartbeatInterval > .zero, heartbeatInterval < sessionTimeout else {
            throw KafkaError(.invalidConfiguration, "heartbeatInterval must be positive and below sessionTimeout (typically a third of it)")
        }
        guard rebalanceTimeout >= sessionTimeout else { throw KafkaError(.invalidConfiguration, "rebalanceTimeout must be at least sessionTimeout") }
        if let groupInstanceID, groupInstanceID.isEmpty {
            throw KafkaError(.invalidConfiguration, "groupInstanceID is empty; leave it nil for dynamic membership")
        }
        try fetch.validate()
    }
}

