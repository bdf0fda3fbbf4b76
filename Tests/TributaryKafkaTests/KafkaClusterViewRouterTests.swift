import Testing
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// The pure router of the three-broker view: requests in, decisions out; broker responses in,
/// rewritten responses out. No sockets.
@Suite("KafkaClusterViewRouter")
struct KafkaClusterViewRouterTests {
    typealias Partition = KafkaClusterViewMap.Partition
    typealias Router = KafkaClusterViewRouter

    static let ports: [Int32: Int] = [1: 9001, 2: 9002, 3: 9003]
    static let topic = "orders"

    static func requestFrame<Request: KafkaRequestMessage>(_ body: Request, version: Int16, correlationID: Int32 = 7) throws -> [UInt8] {
        var writer = ByteWriter()
        try KafkaFraming.appendRequest(body, version: version, correlationID: correlationID, clientID: "t", to: &writer)
        return Array(writer.bytes.dropFirst(4))
    }

    static func responseFrame<Response: KafkaResponseMessage>(_ body: Response, version: Int16, correlationID: Int32 = 7) throws -> [UInt8] {
        var writer = ByteWriter()
        try KafkaFraming.appendResponse(body, version: version, correlationID: correlationID, to: &writer)
        return Array(writer.bytes.dropFirst(4))
    }

    static func decodeResponse<Response: KafkaResponseMessage>(_ type: Response.Type, _ frame: [UInt8], version: Int16) throws -> (KafkaResponseHeader, Response) {
        var reader = ByteReader(frame)
        let decoded = try KafkaFraming.decodeResponse(type, version: version, from: &reader)
        return (decoded.header, decoded.body)
    }

    static func decodeRequest<Request: KafkaRequestMessage>(_ type: Request.Type, _ frame: [UInt8]) throws -> Request {
        var reader = ByteReader(frame)
        let header = try KafkaRequestHeader(from: &reader)
        return try KafkaFraming.decodeRequestBody(type, header: header, from: &reader)
    }

    /// What the one real broker says: it is node 111 and leads every partition.
    static func brokerMetadata(partitions: Int32) -> MetadataResponse {
        var response = MetadataResponse()
        response.brokers = [.init(nodeID: 111, host: "127.0.0.1", port: 5555, rack: nil)]
        response.controllerID = 111
        var topic = MetadataResponse.MetadataResponseTopic()
        topic.name = topic_
        topic.topicID = WireUUID(high: 0x1234, low: 0x5678)
        topic.partitions = (0..<partitions).map { index in
            var partition = MetadataResponse.MetadataResponseTopic.MetadataResponsePartition()
            partition.partitionIndex = index
            partition.leaderID = 111
            partition.leaderEpoch = 0
            partition.replicaNodes = [111]
            partition.isrNodes = [111]
            return partition
        }
        response.topics = [topic]
        return response
    }
    static let topic_ = topic

    static func produce(partitions: [Int32], acks: Int16 = -1) -> ProduceRequest {
        var request = ProduceRequest()
        request.acks = acks
        request.timeoutMs = 1000
        var data = ProduceRequest.TopicProduceData()
        data.name = topic
        data.partitionData = partitions.map { .init(index: $0, records: [UInt8](repeating: UInt8($0), count: 3)) }
        request.topicData = [data]
        return request
    }

    @Test func partitionsLeadRoundRobinOverTheNodesAndFailOverToTheNextLiveOne() {
        var map = KafkaClusterViewMap(ports: Self.ports)
        let leaders = (0..<6).map { map.leader(of: Partition(topic: Self.topic, partition: $0)) }
        #expect(leaders == [1, 2, 3, 1, 2, 3])
        map.known = Set((0..<6).map { Partition(topic: Self.topic, partition: $0) })
        map.setDown(2, true)
        #expect((0..<6).map { map.leader(of: Partition(topic: Self.topic, partition: $0)) } == [1, 3, 3, 1, 3, 3])
        #expect(map.moves[Partition(topic: Self.topic, partition: 1)] == 1)
        #expect(map.moves[Partition(topic: Self.topic, partition: 0)] == nil)
        map.setDown(2, false)
        #expect(map.leader(of: Partition(topic: Self.topic, partition: 1)) == 2)
        #expect(map.moves[Partition(topic: Self.topic, partition: 1)] == 2)
        map.coordinator = 3
        map.setDown(3, true)
        #expect(map.liveCoordinator == 1)
    }

    @Test func metadataNamesTheLiveNodesAndTheMapsLeadersWithGrowingEpochs() throws {
        var map = KafkaClusterViewMap(ports: Self.ports)
        let pending = Router.Pending(apiKey: KafkaAPIKey.metadata.rawValue, apiVersion: 12, correlationID: 7, notLeader: [])
        var frame = try Router.rewrite(response: try Self.responseFrame(Self.brokerMetadata(partitions: 3), version: 12), for: pending, at: 2, map: &map)
        var (header, body) = try Self.decodeResponse(MetadataResponse.self, frame, version: 12)
        #expect(header.correlationID == 7)
        #expect(body.brokers.map(\.nodeID) == [1, 2, 3])
        #expect(body.brokers.map(\.port) == [9001, 9002, 9003])
        #expect(body.topics[0].partitions.map(\.leaderID) == [1, 2, 3])
        #expect(body.topics[0].partitions.map(\.leaderEpoch) == [0, 0, 0])
        #expect(body.topics[0].partitions[1].replicaNodes == [2, 1, 3])
        #expect(map.topicNames[WireUUID(high: 0x1234, low: 0x5678)] == Self.topic)
        #expect(map.known.count == 3)

        map.move(Partition(topic: Self.topic, partition: 0), to: 3)
        map.setDown(2, true)
        frame = try Router.rewrite(response: try Self.responseFrame(Self.brokerMetadata(partitions: 3), version: 12), for: pending, at: 1, map: &map)
        (header, body) = try Self.decodeResponse(MetadataResponse.self, frame, version: 12)
        #expect(body.brokers.map(\.nodeID) == [1, 3])
        #expect(body.controllerID == 1)
        #expect(body.topics[0].partitions.map(\.leaderID) == [3, 3, 3])
        #expect(body.topics[0].partitions.map(\.leaderEpoch) == [1, 1, 0])
        #expect(body.topics[0].partitions[0].offlineReplicas == [2])
    }

    @Test func metadataAtVersionZeroIsRewrittenToo() throws {
        var map = KafkaClusterViewMap(ports: Self.ports)
        let pending = Router.Pending(apiKey: KafkaAPIKey.metadata.rawValue, apiVersion: 0, correlationID: 7, notLeader: [])
        let frame = try Router.rewrite(response: try Self.responseFrame(Self.brokerMetadata(partitions: 2), version: 0), for: pending, at: 1, map: &map)
        let (_, body) = try Self.decodeResponse(MetadataResponse.self, frame, version: 0)
        #expect(body.topics[0].partitions.map(\.leaderID) == [1, 2])
    }

    @Test func findCoordinatorNamesTheLiveCoordinatorAtOldAndNewVersions() throws {
        var map = KafkaClusterViewMap(ports: Self.ports)
        map.coordinator = 2
        var old = FindCoordinatorResponse()
        old.nodeID = 111
        old.host = "127.0.0.1"
        old.port = 5555
        var pending = Router.Pending(apiKey: KafkaAPIKey.findCoordinator.rawValue, apiVersion: 3, correlationID: 7, notLeader: [])
        var frame = try Router.rewrite(response: try Self.responseFrame(old, version: 3), for: pending, at: 1, map: &map)
        let (_, v3) = try Self.decodeResponse(FindCoordinatorResponse.self, frame, version: 3)
        #expect(v3.nodeID == 2 && v3.port == 9002)

        map.setDown(2, true)
        var new = FindCoordinatorResponse()
        new.coordinators = [.init(key: "g", nodeID: 111, host: "127.0.0.1", port: 5555, errorCode: 0, errorMessage: nil)]
        pending.apiVersion = 4
        frame = try Router.rewrite(response: try Self.responseFrame(new, version: 4), for: pending, at: 1, map: &map)
        let (_, v4) = try Self.decodeResponse(FindCoordinatorResponse.self, frame, version: 4)
        #expect(v4.coordinators.map(\.nodeID) == [3])
        #expect(v4.coordinators.map(\.port) == [9003])
    }

    @Test func produceToTheLeaderIsForwardedUnchanged() throws {
        let map = KafkaClusterViewMap(ports: Self.ports)
        let frame = try Self.requestFrame(Self.produce(partitions: [1, 4]), version: 9)
        let decision = try Router.route(request: frame, at: 2, map: map)
        guard case .forward(let forwarded, let pending) = decision else { Issue.record("expected forward, got \(decision)"); return }
        #expect(forwarded == frame)
        #expect(pending.notLeader.isEmpty)
        // The response passes through as it came.
        var map2 = map
        let response = try Self.responseFrame(ProduceResponse(), version: 9)
        #expect(try Router.rewrite(response: response, for: pending, at: 2, map: &map2) == response)
    }

    @Test func produceToANonLeaderIsAnsweredNotLeaderOrFollowerWithoutReachingTheBroker() throws {
        var map = KafkaClusterViewMap(ports: Self.ports)
        map.move(Partition(topic: Self.topic, partition: 1), to: 3)
        for version: Int16 in [3, 9, 11] {
            let decision = try Router.route(request: try Self.requestFrame(Self.produce(partitions: [1]), version: version, correlationID: 42), at: 2, map: map)
            guard case .answer(let answer) = decision else { Issue.record("v\(version): expected an answer, got \(decision)"); continue }
            let (header, body) = try Self.decodeResponse(ProduceResponse.self, answer, version: version)
            #expect(header.correlationID == 42)
            #expect(body.responses.map(\.name) == [Self.topic])
            #expect(body.responses[0].partitionResponses.map(\.index) == [1])
            #expect(body.responses[0].partitionResponses.map(\.errorCode) == [KafkaErrorCode.notLeaderOrFollower.rawValue])
        }
    }

    @Test func aMixedProduceForwardsTheLedPartitionsAndMergesErrorsForTheOthers() throws {
        let map = KafkaClusterViewMap(ports: Self.ports)
        // Node 1 leads 0 and 3, not 1 or 2.
        let decision = try Router.route(request: try Self.requestFrame(Self.produce(partitions: [0, 1, 2, 3]), version: 9), at: 1, map: map)
        guard case .forward(let forwarded, let pending) = decision else { Issue.record("expected forward, got \(decision)"); return }
        let sent = try Self.decodeRequest(ProduceRequest.self, forwarded)
        #expect(sent.topicData.flatMap { $0.partitionData.map(\.index) } == [0, 3])
        #expect(sent.topicData[0].partitionData.map(\.records) == [[0, 0, 0], [3, 3, 3]])
        #expect(pending.notLeader == [Partition(topic: Self.topic, partition: 1), Partition(topic: Self.topic, partition: 2)])

        var brokerAnswer = ProduceResponse()
        brokerAnswer.responses = [.init(name: Self.topic, partitionResponses: [0, 3].map { .init(index: $0, errorCode: 0, baseOffset: 10) })]
        var map2 = map
        let merged = try Router.rewrite(response: try Self.responseFrame(brokerAnswer, version: 9), for: pending, at: 1, map: &map2)
        let (_, body) = try Self.decodeResponse(ProduceResponse.self, merged, version: 9)
        let codes = body.responses.flatMap { $0.partitionResponses.map { ($0.index, $0.errorCode) } }.sorted { $0.0 < $1.0 }
        #expect(codes.map(\.0) == [0, 1, 2, 3])
        #expect(codes.map(\.1) == [0, 6, 6, 0])
    }

    @Test func acksZeroProduceDropsRecordsForOtherLeadersAndExpectsNoAnswer() throws {
        let map = KafkaClusterViewMap(ports: Self.ports)
        let decision = try Router.route(request: try Self.requestFrame(Self.produce(partitions: [0, 1], acks: 0), version: 9), at: 1, map: map)
        guard case .forwardWithoutResponse(let forwarded) = decision else { Issue.record("expected forwardWithoutResponse, got \(decision)"); return }
        #expect(try Self.decodeRequest(ProduceRequest.self, forwarded).topicData.flatMap { $0.partitionData.map(\.index) } == [0])
    }

    @Test func fetchByTopicIDIsSplitByLeaderAndTheSessionIsDropped() throws {
        var map = KafkaClusterViewMap(ports: Self.ports)
        let id = WireUUID(high: 0x1234, low: 0x5678)
        map.topicNames[id] = Self.topic
        var request = FetchRequest()
        request.sessionID = 99
        request.sessionEpoch = 3
        var topic = FetchRequest.FetchTopic()
        topic.topicID = id
        topic.partitions = [Int32(0), 1].map { (index: Int32) -> FetchRequest.FetchTopic.FetchPartition in var p = FetchRequest.FetchTopic.FetchPartition(); p.partition = index; return p }
        request.topics = [topic]
        let decision = try Router.route(request: try Self.requestFrame(request, version: 13), at: 2, map: map)
        guard case .forward(let forwarded, let pending) = decision else { Issue.record("expected forward, got \(decision)"); return }
        let sent = try Self.decodeRequest(FetchRequest.self, forwarded)
        #expect(sent.topics.flatMap { $0.partitions.map(\.partition) } == [1])
        #expect(sent.sessionID == 0 && sent.sessionEpoch == -1)
        #expect(pending.notLeader == [Partition(topic: Self.topic, partition: 0)])

        var brokerAnswer = FetchResponse()
        var data = FetchResponse.FetchableTopicResponse()
        data.topicID = id
        var partition = FetchResponse.FetchableTopicResponse.PartitionData()
        partition.partitionIndex = 1
        partition.highWatermark = 5
        data.partitions = [partition]
        brokerAnswer.responses = [data]
        let merged = try Router.rewrite(response: try Self.responseFrame(brokerAnswer, version: 13), for: pending, at: 2, map: &map)
        let (_, body) = try Self.decodeResponse(FetchResponse.self, merged, version: 13)
        #expect(body.responses.map(\.topicID) == [id, id])
        #expect(body.responses.flatMap { $0.partitions.map(\.errorCode) } == [0, 6])
    }

    @Test func fetchByNameOnlyForPartitionsElsewhereIsAnsweredAtOnce() throws {
        let map = KafkaClusterViewMap(ports: Self.ports)
        var request = FetchRequest()
        var topic = FetchRequest.FetchTopic()
        topic.topic = Self.topic
        topic.partitions = [Int32(2)].map { (index: Int32) -> FetchRequest.FetchTopic.FetchPartition in var p = FetchRequest.FetchTopic.FetchPartition(); p.partition = index; return p }
        request.topics = [topic]
        let decision = try Router.route(request: try Self.requestFrame(request, version: 11), at: 1, map: map)
        guard case .answer(let answer) = decision else { Issue.record("expected an answer, got \(decision)"); return }
        let (_, body) = try Self.decodeResponse(FetchResponse.self, answer, version: 11)
        #expect(body.responses.map(\.topic) == [Self.topic])
        #expect(body.responses[0].partitions.map(\.errorCode) == [6])
        #expect(body.responses[0].partitions[0].records == nil)
    }

    @Test func listOffsetsAtTheOldLeaderAfterAMoveIsAnsweredNotLeader() throws {
        var map = KafkaClusterViewMap(ports: Self.ports)
        var request = ListOffsetsRequest()
        request.replicaID = -1
        request.topics = [.init(name: Self.topic, partitions: [.init(partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1)])]
        let frame = try Self.requestFrame(request, version: 7)
        guard case .forward = try Router.route(request: frame, at: 1, map: map) else { Issue.record("the leader forwards"); return }
        map.move(Partition(topic: Self.topic, partition: 0), to: 2)
        guard case .answer(let answer) = try Router.route(request: frame, at: 1, map: map) else { Issue.record("the old leader answers"); return }
        let (_, body) = try Self.decodeResponse(ListOffsetsResponse.self, answer, version: 7)
        #expect(body.topics.flatMap { $0.partitions.map(\.errorCode) } == [6])
        guard case .forward = try Router.route(request: frame, at: 2, map: map) else { Issue.record("the new leader forwards"); return }
    }

    @Test func apiVersionsWithdrawsDescribeClusterAndCapsInspectedAPIs() throws {
        var map = KafkaClusterViewMap(ports: Self.ports)
        var response = ApiVersionsResponse()
        response.apiKeys = [
            .init(apiKey: KafkaAPIKey.produce.rawValue, minVersion: 0, maxVersion: 99),
            .init(apiKey: KafkaAPIKey.joinGroup.rawValue, minVersion: 0, maxVersion: 99),
            .init(apiKey: 60, minVersion: 0, maxVersion: 1),
        ]
        let pending = Router.Pending(apiKey: KafkaAPIKey.apiVersions.rawValue, apiVersion: 3, correlationID: 7, notLeader: [])
        let frame = try Router.rewrite(response: try Self.responseFrame(response, version: 3), for: pending, at: 1, map: &map)
        let (_, body) = try Self.decodeResponse(ApiVersionsResponse.self, frame, version: 3)
        #expect(body.apiKeys.map(\.apiKey) == [KafkaAPIKey.produce.rawValue, KafkaAPIKey.joinGroup.rawValue])
        #expect(body.apiKeys.map(\.maxVersion) == [ProduceRequest.supportedVersions.upperBound, 99])
    }

    @Test func groupRequestsAtANodeOtherThanTheCoordinatorAreAnsweredNotCoordinator() throws {
        var map = KafkaClusterViewMap(ports: Self.ports)
        map.coordinator = 2
        let heartbeat = try Self.requestFrame(HeartbeatRequest(groupID: "g", generationID: 1, memberID: "m"), version: 4, correlationID: 9)
        guard case .forward = try Router.route(request: heartbeat, at: 2, map: map) else { Issue.record("the coordinator forwards"); return }
        guard case .answer(let answer) = try Router.route(request: heartbeat, at: 1, map: map) else { Issue.record("node 1 answers"); return }
        let (header, body) = try Self.decodeResponse(HeartbeatResponse.self, answer, version: 4)
        #expect(header.correlationID == 9)
        #expect(body.errorCode == KafkaErrorCode.notCoordinator.rawValue)

        var commit = OffsetCommitRequest()
        commit.groupID = "g"
        commit.topics = [.init(name: Self.topic, partitions: [.init(partitionIndex: 0, committedOffset: 5), .init(partitionIndex: 3, committedOffset: 8)])]
        guard case .answer(let committed) = try Router.route(request: try Self.requestFrame(commit, version: 8), at: 3, map: map) else { Issue.record("node 3 answers"); return }
        let (_, commitBody) = try Self.decodeResponse(OffsetCommitResponse.self, committed, version: 8)
        #expect(commitBody.topics.flatMap { $0.partitions.map(\.partitionIndex) } == [0, 3])
        #expect(commitBody.topics.flatMap { $0.partitions.map(\.errorCode) } == [16, 16])

        // Node 2 down: node 3 is the coordinator now; turned off, nothing is refused.
        map.setDown(2, true)
        guard case .forward = try Router.route(request: heartbeat, at: 3, map: map) else { Issue.record("the next live node coordinates"); return }
        map.enforcesCoordinator = false
        guard case .forward = try Router.route(request: heartbeat, at: 1, map: map) else { Issue.record("not enforced: forwarded"); return }
    }

    @Test func otherAPIsPassThroughAndGarbageIsATypedError() throws {
        let map = KafkaClusterViewMap(ports: Self.ports)
        let frame = try Self.requestFrame(DescribeGroupsRequest(), version: 5)
        guard case .forward(let forwarded, _) = try Router.route(request: frame, at: 3, map: map) else { Issue.record("DescribeGroups is forwarded"); return }
        #expect(forwarded == frame)
        var broken = try Self.requestFrame(Self.produce(partitions: [0]), version: 9)
        broken.removeLast(5)
        #expect(throws: Router.RouterError.self) { try Router.route(request: broken, at: 1, map: map) }
    }
}
