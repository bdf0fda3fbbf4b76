import TributaryKafkaProtocol

/// A broker as metadata describes it.
public struct KafkaBroker: Hashable, Sendable, CustomStringConvertible {
    /// The broker's node id.
    public var nodeID: Int32
    /// Host name the broker advertises.
    public var host: String
    /// Port the broker advertises.
    public var port: Int
    /// The broker's rack, if configured.
    public var rack: String?

    /// Creates a broker description.
    public init(nodeID: Int32, host: String, port: Int, rack: String? = nil) {
        self.nodeID = nodeID
        self.host = host
        self.port = port
        self.rack = rack
    }

    /// The broker's address.
    public var address: KafkaBrokerAddress { KafkaBrokerAddress(host: host, port: port) }

    /// `host:port/nodeID`, as kcat prints it.
    public var description: String { "\(address)/\(nodeID)" }
}

/// One partition of a topic: its leader and replicas.
public struct KafkaPartitionMetadata: Hashable, Sendable {
    /// The partition index.
    public var partition: Int32
    /// The leader's node id, -1 when there is none.
    public var leader: Int32
    /// The leader epoch, -1 when unknown.
    public var leaderEpoch: Int32
    /// Node ids of all replicas.
    public var replicas: [Int32]
    /// Node ids of the in-sync replicas.
    public var isr: [Int32]
    /// Node ids of offline replicas.
    public var offlineReplicas: [Int32]
    /// The partition-level error, nil when none.
    public var error: KafkaErrorCode?
}

/// A topic: its partitions, or the error the broker reported for it.
public struct KafkaTopicMetadata: Hashable, Sendable {
    /// The topic name.
    public var name: String
    /// Whether it is an internal topic (such as `__consumer_offsets`).
    public var isInternal: Bool
    /// Partitions in index order.
    public var partitions: [KafkaPartitionMetadata]
    /// The topic-level error, nil when none (for example `UNKNOWN_TOPIC_OR_PARTITION`).
    public var error: KafkaErrorCode?

    /// The number of partitions.
    public var partitionCount: Int { partitions.count }
}

/// A metadata snapshot of the cluster.
public struct KafkaClusterMetadata: Hashable, Sendable {
    /// The brokers, by node id order.
    public var brokers: [KafkaBroker]
    /// The controller's node id, -1 when unknown.
    public var controllerID: Int32
    /// The cluster id, if the broker reports one.
    public var clusterID: String?
    /// The topics asked for (or all of them), by name order.
    public var topics: [KafkaTopicMetadata]
    /// The broker that answered.
    public var origin: KafkaBroker

    /// The topic named `name`, if present.
    public func topic(_ name: String) -> KafkaTopicMetadata? { topics.first { $0.name == name } }

    init(_ response: MetadataResponse, origin: KafkaBroker) {
        brokers = response.brokers.map { KafkaBroker(nodeID: $0.nodeID, host: $0.host, port: Int($0.port), rack: $0.rack) }.sorted { $0.nodeID < $1.nodeID }
        controllerID = response.controllerID
        clusterID = response.clusterID
        topics = response.topics.map { topic in
            let code = KafkaErrorCode(rawValue: topic.errorCode)
            return KafkaTopicMetadata(
                name: topic.name ?? "",
                isInternal: topic.isInternal,
                partitions: topic.partitions.map { partition in
                    let code = KafkaErrorCode(rawValue: partition.errorCode)
                    return KafkaPartitionMetadata(partition: partition.partitionIndex, leader: partition.leaderID, leaderEpoch: partition.leaderEpoch,
                                                  replicas: partition.replicaNodes, isr: partition.isrNodes, offlineReplicas: partition.offlineReplicas,
                                                  error: code.isError ? code : nil)
                }.sorted { $0.partition < $1.partition },
                error: code.isError ? code : nil
            )
        }.sorted { $0.name < $1.name }
        self.origin = brokers.first { $0.nodeID == origin.nodeID } ?? origin
    }
}
