import TributaryKafkaProtocol
import TributaryWire

/// Who leads what in a ``KafkaClusterView``: the brokers it shows (node id → listening port),
/// which of them are down, partitions moved away from their default leader, and the group
/// coordinator. Plain data; the view keeps one behind its lock and the router reads it.
public struct KafkaClusterViewMap: Hashable, Sendable {
    /// A topic and partition.
    public struct Partition: Hashable, Sendable, CustomStringConvertible {
        public var topic: String
        public var partition: Int32
        public init(topic: String, partition: Int32) {
            self.topic = topic
            self.partition = partition
        }
        public var description: String { "\(topic)[\(partition)]" }
    }

    /// Node id → port.
    public var ports: [Int32: Int]
    /// The host every broker is advertised at.
    public var host: String
    /// Brokers taken down: absent from metadata, their listeners refuse work.
    public var down: Set<Int32> = []
    /// Partitions moved by ``move(_:to:)``; the others lead on `nodes[partition % nodes.count]`.
    public var moved: [Partition: Int32] = [:]
    /// How many times each partition's leader changed (moves, and failovers seen in metadata);
    /// added to the broker's leader epoch in metadata.
    public var moves: [Partition: Int32] = [:]
    /// The node FindCoordinator names when it is up (else the next live node).
    public var coordinator: Int32
    /// Whether JoinGroup, SyncGroup, Heartbeat, LeaveGroup and OffsetCommit reaching a node other
    /// than the live coordinator are answered NOT_COORDINATOR (16). Transaction and OffsetFetch
    /// requests are never refused.
    public var enforcesCoordinator = true
    /// Topic ids seen in metadata, to name the topics of Fetch requests at version 13 and later.
    public var topicNames: [WireUUID: String] = [:]
    /// Partitions seen in metadata (their epochs change when a broker goes down or comes back).
    public var known: Set<Partition> = []

    /// A map of brokers `nodes` → ports, every one up, the coordinator the first node.
    public init(ports: [Int32: Int], host: String = "127.0.0.1") {
        self.ports = ports
        self.host = host
        coordinator = ports.keys.min() ?? 0
    }

    /// Node ids, ascending.
    public var nodes: [Int32] { ports.keys.sorted() }
    /// Live node ids, ascending.
    public var liveNodes: [Int32] { nodes.filter { !down.contains($0) } }

    /// The node `partition` would lead on with every broker up.
    public func preferredLeader(of partition: Partition) -> Int32 {
        if let moved = moved[partition] { return moved }
        let nodes = self.nodes
        guard !nodes.isEmpty else { return -1 }
        return nodes[Int(partition.partition) % nodes.count]
    }

    /// The node leading `partition` now: the preferred leader, or when it is down the next live
    /// node after it (a failover); -1 when every broker is down.
    public func leader(of partition: Partition) -> Int32 {
        Self.firstLive(from: preferredLeader(of: partition), nodes: nodes, down: down)
    }

    /// The live coordinator node, -1 when every broker is down.
    public var liveCoordinator: Int32 { Self.firstLive(from: coordinator, nodes: nodes, down: down) }

    private static func firstLive(from start: Int32, nodes: [Int32], down: Set<Int32>) -> Int32 {
        guard let index = nodes.firstIndex(of: start) else { return nodes.first { !down.contains($0) } ?? -1 }
        for step in 0..<nodes.count {
            let node = nodes[(index + step) % nodes.count]
            if !down.contains(node) { return node }
        }
        return -1
    }

    /// Moves `partition`'s leadership to `node` (the leader epoch goes up by one).
    public mutating func move(_ partition: Partition, to node: Int32) {
        let before = leader(of: partition)
        moved[partition] = node
        if leader(of: partition) != before { moves[partition, default: 0] += 1 }
    }

    /// Takes `node` down (`true`) or brings it back; every known partition whose leader changes
    /// gets a new epoch.
    public mutating func setDown(_ node: Int32, _ isDown: Bool) {
        let partitions = Array(known)
        let before = partitions.map { leader(of: $0) }
        if isDown { down.insert(node) } else { down.remove(node) }
        for (partition, old) in zip(partitions, before) where leader(of: partition) != old {
            moves[partition, default: 0] += 1
        }
    }
}

/// The pure half of ``KafkaClusterView``: given one request frame that arrived at broker `node`
/// and the current ``KafkaClusterViewMap``, it decides whether to forward it to the one real
/// broker unchanged, forward a reduced copy, or answer it at once; given the broker's response,
/// it rewrites it so the client sees three brokers.
///
/// What it changes:
/// - ApiVersions: DescribeCluster is withdrawn (the view cannot rewrite it), and Produce, Fetch,
///   ListOffsets, Metadata and FindCoordinator are capped at the versions the generated types
///   read, so that every request the view must inspect can be decoded.
/// - Metadata: the broker list becomes the live nodes of the map, each partition's leader,
///   replicas and ISR follow the map, and the leader epoch grows with each leadership change.
/// - FindCoordinator: names the map's live coordinator.
/// - Produce, Fetch, ListOffsets: partitions this node does not lead are answered with
///   NOT_LEADER_OR_FOLLOWER (6) built here; the rest go to the broker and both halves are merged
///   into one response.
/// - JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit at a node that is not the
///   coordinator: answered NOT_COORDINATOR (16) built here.
public enum KafkaClusterViewRouter {
    /// What the driver does with a request frame.
    public enum Decision: Sendable, Equatable {
        /// Send `frame` (without its size prefix) to the broker; treat its answer per `pending`.
        case forward(frame: [UInt8], pending: Pending)
        /// Send nothing to the broker; answer the client with `frame` (without its size prefix).
        case answer(frame: [UInt8])
        /// Send `frame` to the broker and expect no answer (acks=0 Produce).
        case forwardWithoutResponse(frame: [UInt8])
    }

    /// What to do with the broker's response to a forwarded request.
    public struct Pending: Sendable, Equatable {
        /// The request's API key, version and correlation id.
        public var apiKey: Int16
        public var apiVersion: Int16
        public var correlationID: Int32
        /// Partitions answered here with NOT_LEADER_OR_FOLLOWER, to add to the broker's answer.
        public var notLeader: [KafkaClusterViewMap.Partition]

        public init(apiKey: Int16, apiVersion: Int16, correlationID: Int32, notLeader: [KafkaClusterViewMap.Partition]) {
            self.apiKey = apiKey
            self.apiVersion = apiVersion
            self.correlationID = correlationID
            self.notLeader = notLeader
        }
    }

    /// A request or response the router could not read.
    public struct RouterError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// APIs whose requests or responses the router decodes, with the highest version it reads.
    static let inspected: [KafkaAPIKey: ClosedRange<Int16>] = [
        .produce: ProduceRequest.supportedVersions, .fetch: FetchRequest.supportedVersions,
        .listOffsets: ListOffsetsRequest.supportedVersions, .metadata: MetadataResponse.supportedVersions,
        .findCoordinator: FindCoordinatorResponse.supportedVersions,
    ]
    /// DescribeCluster (API key 60): not generated here, so the view does not offer it.
    static let describeClusterKey: Int16 = 60
    static let notLeader = KafkaErrorCode.notLeaderOrFollower.rawValue

    // MARK: - Requests

    /// The partitions of `topic` that `node` leads; the others are appended to `wrong`.
    static func keepLed<P>(_ partitions: [P], topic: String, node: Int32, map: KafkaClusterViewMap,
                           wrong: inout [KafkaClusterViewMap.Partition], index: (P) -> Int32) -> [P] {
        partitions.filter { data in
            let key = KafkaClusterViewMap.Partition(topic: topic, partition: index(data))
            if map.leader(of: key) == node { return true }
            wrong.append(key)
            return false
        }
    }

    /// Routes one request frame (header and body, no size prefix) that arrived at `node`.
    public static func route(request frame: [UInt8], at node: Int32, map: KafkaClusterViewMap) throws(RouterError) -> Decision {
        var reader = ByteReader(frame)
        let header: KafkaRequestHeader
        do { header = try KafkaRequestHeader(from: &reader) } catch { throw RouterError(description: "unreadable request header: \(error)") }
        let pending = Pending(apiKey: header.apiKey, apiVersion: header.apiVersion, correlationID: header.correlationID, notLeader: [])
        guard let api = header.api else { return .forward(frame: frame, pending: pending) }
        do {
            switch api {
            case .produce:
                var body = try KafkaFraming.decodeRequestBody(ProduceRequest.self, header: header, from: &reader)
                var wrong: [KafkaClusterViewMap.Partition] = []
                body.topicData = body.topicData.compactMap { topic in
                    var topic = topic
                    topic.partitionData = keepLed(topic.partitionData, topic: topic.name, node: node, map: map, wrong: &wrong) { $0.index }
                    return topic.partitionData.isEmpty ? nil : topic
                }
                if body.acks == 0 {
                    // No response is expected; records sent to a non-leader are dropped, as a
                    // Kafka broker drops them (it would close the connection).
                    return wrong.isEmpty ? .forwardWithoutResponse(frame: frame) : .forwardWithoutResponse(frame: try reencode(header, body))
                }
                return try decide(header: header, frame: frame, wrong: wrong, keep: body.topicData.isEmpty ? nil : try reencode(header, body),
                                  answer: { try produceErrors(wrong, version: header.apiVersion, correlationID: header.correlationID) })
            case .fetch:
                var body = try KafkaFraming.decodeRequestBody(FetchRequest.self, header: header, from: &reader)
                var wrong: [KafkaClusterViewMap.Partition] = []
                body.topics = body.topics.compactMap { topic in
                    var topic = topic
                    let name = header.apiVersion >= 13 ? map.topicNames[topic.topicID] : topic.topic
                    guard let name else { return topic }
                    topic.partitions = keepLed(topic.partitions, topic: name, node: node, map: map, wrong: &wrong) { $0.partition }
                    return topic.partitions.isEmpty ? nil : topic
                }
                // An incremental fetch session would remember partitions the reduced request
                // leaves out; the view keeps every fetch sessionless instead.
                if !wrong.isEmpty { body.sessionID = 0; body.sessionEpoch = -1 }
                return try decide(header: header, frame: frame, wrong: wrong, keep: body.topics.isEmpty ? nil : try reencode(header, body),
                                  answer: { try fetchErrors(wrong, map: map, version: header.apiVersion, correlationID: header.correlationID) })
            case .listOffsets:
                var body = try KafkaFraming.decodeRequestBody(ListOffsetsRequest.self, header: header, from: &reader)
                var wrong: [KafkaClusterViewMap.Partition] = []
                body.topics = body.topics.compactMap { topic in
                    var topic = topic
                    topic.partitions = keepLed(topic.partitions, topic: topic.name, node: node, map: map, wrong: &wrong) { $0.partitionIndex }
                    return topic.partitions.isEmpty ? nil : topic
                }
                return try decide(header: header, frame: frame, wrong: wrong, keep: body.topics.isEmpty ? nil : try reencode(header, body),
                                  answer: { try listOffsetsErrors(wrong, version: header.apiVersion, correlationID: header.correlationID) })
            case .joinGroup, .syncGroup, .heartbeat, .leaveGroup, .offsetCommit:
                guard map.enforcesCoordinator, node != map.liveCoordinator else { return .forward(frame: frame, pending: pending) }
                return .answer(frame: try notCoordinator(api, header: header, reader: &reader))
            default:
                return .forward(frame: frame, pending: pending)
            }
        } catch {
            throw RouterError(description: "cannot read \(api.name) v\(header.apiVersion) request: \(error)")
        }
    }

    private static func decide(header: KafkaRequestHeader, frame: [UInt8], wrong: [KafkaClusterViewMap.Partition], keep: @autoclosure () throws -> [UInt8]?,
                               answer: () throws -> [UInt8]) throws -> Decision {
        let pending = Pending(apiKey: header.apiKey, apiVersion: header.apiVersion, correlationID: header.correlationID, notLeader: wrong)
        if wrong.isEmpty { return .forward(frame: frame, pending: pending) }
        guard let reduced = try keep() else {
            return .answer(frame: try answer())
        }
        return .forward(frame: reduced, pending: pending)
    }

    private static func reencode<Request: KafkaRequestMessage>(_ header: KafkaRequestHeader, _ body: Request) throws -> [UInt8] {
        var writer = ByteWriter()
        try header.encode(into: &writer, headerVersion: Request.apiKey.requestHeaderVersion(for: header.apiVersion))
        try body.encode(into: &writer, version: header.apiVersion)
        return writer.bytes
    }

    // MARK: - Error answers

    /// NOT_COORDINATOR (16) for a group request that reached a node other than the coordinator.
    static func notCoordinator(_ api: KafkaAPIKey, header: KafkaRequestHeader, reader: inout ByteReader) throws -> [UInt8] {
        let code = KafkaErrorCode.notCoordinator.rawValue
        let version = header.apiVersion
        switch api {
        case .joinGroup:
            _ = try KafkaFraming.decodeRequestBody(JoinGroupRequest.self, header: header, from: &reader)
            var response = JoinGroupResponse()
            response.errorCode = code
            if version >= 7 { response.protocolName = nil }
            return try frame(response, version: version, correlationID: header.correlationID)
        case .syncGroup:
            _ = try KafkaFraming.decodeRequestBody(SyncGroupRequest.self, header: header, from: &reader)
            var response = SyncGroupResponse()
            response.errorCode = code
            return try frame(response, version: version, correlationID: header.correlationID)
        case .heartbeat:
            _ = try KafkaFraming.decodeRequestBody(HeartbeatRequest.self, header: header, from: &reader)
            var response = HeartbeatResponse()
            response.errorCode = code
            return try frame(response, version: version, correlationID: header.correlationID)
        case .leaveGroup:
            _ = try KafkaFraming.decodeRequestBody(LeaveGroupRequest.self, header: header, from: &reader)
            var response = LeaveGroupResponse()
            response.errorCode = code
            return try frame(response, version: version, correlationID: header.correlationID)
        default:
            let request = try KafkaFraming.decodeRequestBody(OffsetCommitRequest.self, header: header, from: &reader)
            var response = OffsetCommitResponse()
            response.topics = request.topics.map { topic in
                var entry = OffsetCommitResponse.OffsetCommitResponseTopic()
                entry.name = topic.name
                entry.partitions = topic.partitions.map { partition in
                    var answer = OffsetCommitResponse.OffsetCommitResponseTopic.OffsetCommitResponsePartition()
                    answer.partitionIndex = partition.partitionIndex
                    answer.errorCode = code
                    return answer
                }
                return entry
            }
            return try frame(response, version: version, correlationID: header.correlationID)
        }
    }

    static func grouped(_ partitions: [KafkaClusterViewMap.Partition]) -> [(String, [Int32])] {
        var order: [String] = []
        var byTopic: [String: [Int32]] = [:]
        for key in partitions {
            if byTopic[key.topic] == nil { order.append(key.topic) }
            byTopic[key.topic, default: []].append(key.partition)
        }
        return order.map { ($0, byTopic[$0] ?? []) }
    }

    static func produceErrorTopics(_ partitions: [KafkaClusterViewMap.Partition]) -> [ProduceResponse.TopicProduceResponse] {
        grouped(partitions).map { topic, indexes in
            var entry = ProduceResponse.TopicProduceResponse()
            entry.name = topic
            entry.partitionResponses = indexes.map { index in
                var partition = ProduceResponse.TopicProduceResponse.PartitionProduceResponse()
                partition.index = index
                partition.errorCode = notLeader
                partition.baseOffset = -1
                partition.errorMessage = "this broker is not the leader of \(topic)[\(index)]"
                return partition
            }
            return entry
        }
    }

    static func fetchErrorTopics(_ partitions: [KafkaClusterViewMap.Partition], map: KafkaClusterViewMap) -> [FetchResponse.FetchableTopicResponse] {
        let ids = Dictionary(map.topicNames.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
        return grouped(partitions).map { topic, indexes in
            var entry = FetchResponse.FetchableTopicResponse()
            entry.topic = topic
            entry.topicID = ids[topic] ?? .zero
            entry.partitions = indexes.map { index in
                var partition = FetchResponse.FetchableTopicResponse.PartitionData()
                partition.partitionIndex = index
                partition.errorCode = notLeader
                partition.highWatermark = -1
                partition.records = nil
                return partition
            }
            return entry
        }
    }

    static func listOffsetsErrorTopics(_ partitions: [KafkaClusterViewMap.Partition]) -> [ListOffsetsResponse.ListOffsetsTopicResponse] {
        grouped(partitions).map { topic, indexes in
            var entry = ListOffsetsResponse.ListOffsetsTopicResponse()
            entry.name = topic
            entry.partitions = indexes.map { index in
                var partition = ListOffsetsResponse.ListOffsetsTopicResponse.ListOffsetsPartitionResponse()
                partition.partitionIndex = index
                partition.errorCode = notLeader
                return partition
            }
            return entry
        }
    }

    static func produceErrors(_ partitions: [KafkaClusterViewMap.Partition], version: Int16, correlationID: Int32) throws(WireEncodingError) -> [UInt8] {
        var response = ProduceResponse()
        response.responses = produceErrorTopics(partitions)
        return try frame(response, version: version, correlationID: correlationID)
    }

    static func fetchErrors(_ partitions: [KafkaClusterViewMap.Partition], map: KafkaClusterViewMap, version: Int16, correlationID: Int32) throws(WireEncodingError) -> [UInt8] {
        var response = FetchResponse()
        response.responses = fetchErrorTopics(partitions, map: map)
        return try frame(response, version: version, correlationID: correlationID)
    }

    static func listOffsetsErrors(_ partitions: [KafkaClusterViewMap.Partition], version: Int16, correlationID: Int32) throws(WireEncodingError) -> [UInt8] {
        var response = ListOffsetsResponse()
        response.topics = listOffsetsErrorTopics(partitions)
        return try frame(response, version: version, correlationID: correlationID)
    }

    static func frame<Response: KafkaResponseMessage>(_ response: Response, version: Int16, correlationID: Int32) throws(WireEncodingError) -> [UInt8] {
        var writer = ByteWriter()
        try KafkaFraming.appendResponse(response, version: version, correlationID: correlationID, to: &writer)
        return Array(writer.bytes.dropFirst(KafkaFraming.sizePrefixLength))
    }

    // MARK: - Responses

    /// Rewrites the broker's response frame (header and body, no size prefix) to a request
    /// forwarded with `pending`, as seen by a client of broker `node`. Metadata responses teach
    /// `map` the topics' ids.
    public static func rewrite(response frame: [UInt8], for pending: Pending, at node: Int32, map: inout KafkaClusterViewMap) throws(RouterError) -> [UInt8] {
        guard let api = KafkaAPIKey(rawValue: pending.apiKey) else { return frame }
        let version = pending.apiVersion
        do {
            switch api {
            case .apiVersions:
                var reader = ByteReader(frame)
                // An ApiVersions error answer (unsupported request version) is version 0; pass it on.
                guard let (header, body) = try? KafkaFraming.decodeResponse(ApiVersionsResponse.self, version: version, from: &reader), body.errorCode == 0 else { return frame }
                var rewritten = body
                rewritten.apiKeys = body.apiKeys.compactMap { entry in
                    if entry.apiKey == describeClusterKey { return nil }
                    var entry = entry
                    if let key = KafkaAPIKey(rawValue: entry.apiKey), let readable = inspected[key] {
                        entry.maxVersion = min(entry.maxVersion, readable.upperBound)
                        if entry.maxVersion < max(entry.minVersion, readable.lowerBound) { return nil }
                    }
                    return entry
                }
                return try encode(rewritten, version: version, correlationID: header.correlationID)
            case .metadata:
                var reader = ByteReader(frame)
                var (header, body) = try KafkaFraming.decodeResponse(MetadataResponse.self, version: version, from: &reader)
                rewriteMetadata(&body, map: &map)
                return try encode(body, version: version, correlationID: header.correlationID, headerFields: header.unknownTaggedFields)
            case .findCoordinator:
                var reader = ByteReader(frame)
                var (header, body) = try KafkaFraming.decodeResponse(FindCoordinatorResponse.self, version: version, from: &reader)
                rewriteFindCoordinator(&body, version: version, map: map)
                return try encode(body, version: version, correlationID: header.correlationID, headerFields: header.unknownTaggedFields)
            case .produce where !pending.notLeader.isEmpty:
                var reader = ByteReader(frame)
                var (header, body) = try KafkaFraming.decodeResponse(ProduceResponse.self, version: version, from: &reader)
                body.responses += produceErrorTopics(pending.notLeader)
                return try encode(body, version: version, correlationID: header.correlationID, headerFields: header.unknownTaggedFields)
            case .fetch where !pending.notLeader.isEmpty:
                var reader = ByteReader(frame)
                var (header, body) = try KafkaFraming.decodeResponse(FetchResponse.self, version: version, from: &reader)
                body.responses += fetchErrorTopics(pending.notLeader, map: map)
                return try encode(body, version: version, correlationID: header.correlationID, headerFields: header.unknownTaggedFields)
            case .listOffsets where !pending.notLeader.isEmpty:
                var reader = ByteReader(frame)
                var (header, body) = try KafkaFraming.decodeResponse(ListOffsetsResponse.self, version: version, from: &reader)
                body.topics += listOffsetsErrorTopics(pending.notLeader)
                return try encode(body, version: version, correlationID: header.correlationID, headerFields: header.unknownTaggedFields)
            default:
                return frame
            }
        } catch {
            throw RouterError(description: "cannot read the broker's \(api.name) v\(version) response: \(error)")
        }
    }

    static func rewriteMetadata(_ body: inout MetadataResponse, map: inout KafkaClusterViewMap) {
        let live = map.liveNodes
        body.brokers = live.compactMap { node in
            guard let port = map.ports[node] else { return nil }
            return MetadataResponse.MetadataResponseBroker(nodeID: node, host: map.host, port: Int32(port), rack: nil)
        }
        body.controllerID = live.first ?? -1
        for t in body.topics.indices {
            guard let name = body.topics[t].name else { continue }
            if body.topics[t].topicID != .zero { map.topicNames[body.topics[t].topicID] = name }
            for p in body.topics[t].partitions.indices {
                let key = KafkaClusterViewMap.Partition(topic: name, partition: body.topics[t].partitions[p].partitionIndex)
                map.known.insert(key)
                let leader = map.leader(of: key)
                let epoch = max(body.topics[t].partitions[p].leaderEpoch, 0) + (map.moves[key] ?? 0)
                body.topics[t].partitions[p].leaderID = leader
                body.topics[t].partitions[p].leaderEpoch = epoch
                let replicas = leader < 0 ? live : [leader] + live.filter { $0 != leader }
                body.topics[t].partitions[p].replicaNodes = replicas + map.nodes.filter { map.down.contains($0) }
                body.topics[t].partitions[p].isrNodes = replicas
                body.topics[t].partitions[p].offlineReplicas = map.nodes.filter { map.down.contains($0) }
                if leader < 0 { body.topics[t].partitions[p].errorCode = KafkaErrorCode.leaderNotAvailable.rawValue }
            }
        }
    }

    static func rewriteFindCoordinator(_ body: inout FindCoordinatorResponse, version: Int16, map: KafkaClusterViewMap) {
        let node = map.liveCoordinator
        let port = Int32(map.ports[node] ?? 0)
        let unavailable = KafkaErrorCode.coordinatorNotAvailable.rawValue
        // Version 4 and later answer in `coordinators` only (KIP-699).
        if version < 4, body.errorCode == 0 {
            if node < 0 { body.errorCode = unavailable } else { body.nodeID = node; body.host = map.host; body.port = port }
        }
        for index in body.coordinators.indices where body.coordinators[index].errorCode == 0 {
            if node < 0 {
                body.coordinators[index].errorCode = unavailable
            } else {
                body.coordinators[index].nodeID = node
                body.coordinators[index].host = map.host
                body.coordinators[index].port = port
            }
        }
    }

    private static func encode<Response: KafkaResponseMessage>(_ body: Response, version: Int16, correlationID: Int32, headerFields: [WireTaggedField] = []) throws -> [UInt8] {
        var writer = ByteWriter()
        try KafkaResponseHeader(correlationID: correlationID, unknownTaggedFields: headerFields)
            .encode(into: &writer, headerVersion: Response.apiKey.responseHeaderVersion(for: version))
        try body.encode(into: &writer, version: version)
        return writer.bytes
    }
}
