import TributaryWire

/// Partitions of one topic, as the consumer protocol lists them.
public struct KafkaTopicPartitions: Hashable, Sendable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// Partition indexes.
    public var partitions: [Int32]

    /// Creates a list.
    public init(topic: String, partitions: [Int32]) {
        self.topic = topic
        self.partitions = partitions
    }

    /// `topic [0, 1, 2]`.
    public var description: String { "\(topic) [\(partitions.map(String.init).joined(separator: ", "))]" }
}

/// The consumer protocol's subscription: what a member puts in JoinGroup's protocol metadata
/// (`ConsumerProtocolSubscription`, versions 0-3, never flexible).
///
/// Version 1 adds the partitions the member owns (KIP-429, cooperative rebalancing), 2 the
/// generation they were assigned in, 3 the rack. A newer version than 3 is read as 3: fields are
/// only ever appended, so the trailing bytes are ignored, as the Java client does.
public struct KafkaConsumerSubscription: Hashable, Sendable {
    /// The highest version this code writes and reads.
    public static let latestVersion: Int16 = 3

    /// The version written.
    public var version: Int16
    /// The subscribed topics.
    public var topics: [String]
    /// Assignor-specific bytes, null by default.
    public var userData: [UInt8]?
    /// The partitions the member owns now (version 1+).
    public var ownedPartitions: [KafkaTopicPartitions]
    /// The generation of `ownedPartitions`, -1 when unknown (version 2+).
    public var generationID: Int32
    /// The member's rack, if any (version 3+).
    public var rackID: String?

    /// Creates a subscription.
    public init(version: Int16 = KafkaConsumerSubscription.latestVersion, topics: [String], userData: [UInt8]? = nil,
                ownedPartitions: [KafkaTopicPartitions] = [], generationID: Int32 = -1, rackID: String? = nil) {
        self.version = version
        self.topics = topics
        self.userData = userData
        self.ownedPartitions = ownedPartitions
        self.generationID = generationID
        self.rackID = rackID
    }

    /// The bytes for JoinGroup's protocol metadata.
    ///
    /// - Throws: `WireEncodingError` for a version outside 0...3 or a value too long.
    public func encode() throws(WireEncodingError) -> [UInt8] {
        guard (0...Self.latestVersion).contains(version) else {
            throw .unsupportedVersion("ConsumerProtocolSubscription", version: version, supported: 0...Self.latestVersion)
        }
        var writer = ByteWriter()
        writer.writeInt16(version)
        try writer.writeArray(topics, compact: false, "topics") { (writer: inout ByteWriter, topic: String) throws(WireEncodingError) in
            try writer.writeString(topic, compact: false, "topic")
        }
        try writer.writeNullableBytes(userData, compact: false, nullable: true, "userData")
        if version >= 1 {
            try KafkaTopicPartitions.write(ownedPartitions, into: &writer, "ownedPartitions")
        }
        if version >= 2 { writer.writeInt32(generationID) }
        if version >= 3 { try writer.writeNullableString(rackID, compact: false, nullable: true, "rackID") }
        return writer.bytes
    }

    /// Reads JoinGroup protocol metadata.
    ///
    /// - Throws: `WireDecodingError` for truncated or malformed bytes or a negative version.
    public init(decoding bytes: [UInt8]) throws(WireDecodingError) {
        var reader = ByteReader(bytes)
        let version = try reader.readInt16("version")
        guard version >= 0 else {
            throw reader.error(.unsupportedVersion, expected: "ConsumerProtocolSubscription version 0 or later", found: "version \(version)", at: 0)
        }
        let effective = min(version, Self.latestVersion)
        self.version = effective
        topics = try reader.readArray(compact: false, minimumElementSize: 2, "topics") { (reader: inout ByteReader) throws(WireDecodingError) in
            try reader.readString(compact: false, "topic")
        }
        userData = try reader.readNullableBytes(compact: false, nullable: true, "userData")
        ownedPartitions = []
        generationID = -1
        rackID = nil
        if effective >= 1 { ownedPartitions = try KafkaTopicPartitions.read(from: &reader, "ownedPartitions") }
        if effective >= 2 { generationID = try reader.readInt32("generationID") }
        if effective >= 3 { rackID = try reader.readNullableString(compact: false, nullable: true, "rackID") }
    }
}

/// The consumer protocol's assignment: what the leader sends each member through SyncGroup
/// (`ConsumerProtocolAssignment`, versions 0-3, the same fields in every version).
public struct KafkaConsumerAssignment: Hashable, Sendable {
    /// The version written.
    public var version: Int16
    /// The partitions assigned to the member.
    public var assignedPartitions: [KafkaTopicPartitions]
    /// Assignor-specific bytes, null by default.
    public var userData: [UInt8]?

    /// Creates an assignment.
    public init(version: Int16 = KafkaConsumerSubscription.latestVersion, assignedPartitions: [KafkaTopicPartitions], userData: [UInt8]? = nil) {
        self.version = version
        self.assignedPartitions = assignedPartitions
        self.userData = userData
    }

    /// The bytes for SyncGroup's assignment.
    public func encode() throws(WireEncodingError) -> [UInt8] {
        guard (0...KafkaConsumerSubscription.latestVersion).contains(version) else {
            throw .unsupportedVersion("ConsumerProtocolAssignment", version: version, supported: 0...KafkaConsumerSubscription.latestVersion)
        }
        var writer = ByteWriter()
        writer.writeInt16(version)
        try KafkaTopicPartitions.write(assignedPartitions, into: &writer, "assignedPartitions")
        try writer.writeNullableBytes(userData, compact: false, nullable: true, "userData")
        return writer.bytes
    }

    /// Reads a SyncGroup assignment. Empty bytes (a member that got nothing) give an empty
    /// assignment, as the Java client treats them.
    public init(decoding bytes: [UInt8]) throws(WireDecodingError) {
        guard !bytes.isEmpty else {
            self.init(assignedPartitions: [])
            return
        }
        var reader = ByteReader(bytes)
        let version = try reader.readInt16("version")
        guard version >= 0 else {
            throw reader.error(.unsupportedVersion, expected: "ConsumerProtocolAssignment version 0 or later", found: "version \(version)", at: 0)
        }
        let assigned = try KafkaTopicPartitions.read(from: &reader, "assignedPartitions")
        let userData = try reader.readNullableBytes(compact: false, nullable: true, "userData")
        self.init(version: min(version, KafkaConsumerSubscription.latestVersion), assignedPartitions: assigned, userData: userData)
    }
}

extension KafkaTopicPartitions {
    static func write(_ lists: [KafkaTopicPartitions], into writer: inout ByteWriter, _ field: String) throws(WireEncodingError) {
        try writer.writeArray(lists, compact: false, field) { (writer: inout ByteWriter, list: KafkaTopicPartitions) throws(WireEncodingError) in
            try writer.writeString(list.topic, compact: false, "topic")
            try writer.writeArray(list.partitions, compact: false, "partitions") { (writer: inout ByteWriter, partition: Int32) throws(WireEncodingError) in
                writer.writeInt32(partition)
            }
        }
    }

    static func read(from reader: inout ByteReader, _ field: String) throws(WireDecodingError) -> [KafkaTopicPartitions] {
        try reader.readArray(compact: false, minimumElementSize: 6, field) { (reader: inout ByteReader) throws(WireDecodingError) in
            let topic = try reader.readString(compact: false, "topic")
            let partitions = try reader.readArray(compact: false, minimumElementSize: 4, "partitions") { (reader: inout ByteReader) throws(WireDecodingError) in
                try reader.readInt32("partition")
            }
            return KafkaTopicPartitions(topic: topic, partitions: partitions)
        }
    }
}
