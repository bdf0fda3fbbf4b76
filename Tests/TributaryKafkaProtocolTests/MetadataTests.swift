import Testing
import TributaryKafkaProtocol
import TributaryWire

/// Metadata golden bodies at the lowest (0) and highest (12) supported versions, written by hand
/// from the protocol guide (https://kafka.apache.org/protocol#The_Messages_Metadata).
@Suite("Metadata")
struct MetadataTests {
    static let topicID = WireUUID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10)

    @Test("request v0: int32 array of int16-length topic names")
    func requestV0() throws {
        try expectGolden(MetadataRequest(topics: [.init(name: "orders")]), version: 0, """
            00000001              // topics: int32 count 1
            0006 6F7264657273     // name "orders"
            """)
    }

    @Test("request v12: compact nullable array, topic IDs, tagged-field sections")
    func requestV12() throws {
        let request = MetadataRequest(topics: [.init(name: "orders")], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false)
        try expectGolden(request, version: 12, """
            02                                // topics: compact count 1 + 1
            00000000000000000000000000000000  //   topic id: zero (use the name)
            07 6F7264657273                   //   name: compact nullable "orders"
            00                                //   no tagged fields
            01                                // allow auto topic creation
            00                                // include topic authorized operations
            00                                // no tagged fields
            """)
        // null topics: every topic.
        try expectGolden(MetadataRequest(topics: nil), version: 12, "00 01 00 00")
    }

    @Test("response v0: brokers without rack, topics without is-internal")
    func responseV0() throws {
        let response = MetadataResponse(
            brokers: [.init(nodeID: 1, host: "localhost", port: 9092)],
            topics: [.init(errorCode: 0, name: "orders", partitions: [
                .init(errorCode: 0, partitionIndex: 0, leaderID: 1, replicaNodes: [1], isrNodes: [1]),
            ])]
        )
        try expectGolden(response, version: 0, """
            00000001                  // brokers: 1
            00000001                  //   node id 1
            0009 6C6F63616C686F7374   //   host "localhost"
            00002384                  //   port 9092
            00000001                  // topics: 1
            0000                      //   error code
            0006 6F7264657273         //   name "orders"
            00000001                  //   partitions: 1
            0000                      //     error code
            00000000                  //     partition 0
            00000001                  //     leader 1
            00000001 00000001         //     replicas [1]
            00000001 00000001         //     isr [1]
            """)
    }

    @Test("response v12: throttle, cluster ID, controller, topic IDs, epochs, tagged sections")
    func responseV12() throws {
        let response = MetadataResponse(
            throttleTimeMs: 0,
            brokers: [.init(nodeID: 1, host: "localhost", port: 9092, rack: nil)],
            clusterID: "c1",
            controllerID: 1,
            topics: [.init(errorCode: 0, name: "orders", topicID: Self.topicID, isInternal: false, partitions: [
                .init(errorCode: 0, partitionIndex: 0, leaderID: 1, leaderEpoch: 5, replicaNodes: [1], isrNodes: [1], offlineReplicas: []),
            ])]
        )
        try expectGolden(response, version: 12, """
            00000000                          // throttle time
            02                                // brokers: compact 1 + 1
            00000001                          //   node id
            0A 6C6F63616C686F7374             //   host: compact "localhost"
            00002384                          //   port 9092
            00                                //   rack: null
            00                                //   no tagged fields
            03 6331                           // cluster id "c1"
            00000001                          // controller id
            02                                // topics: compact 1 + 1
            0000                              //   error code
            07 6F7264657273                   //   name "orders"
            0102030405060708090A0B0C0D0E0F10  //   topic id
            00                                //   is internal
            02                                //   partitions: compact 1 + 1
            0000 00000000 00000001            //     error, partition 0, leader 1
            00000005                          //     leader epoch
            02 00000001                       //     replicas [1]
            02 00000001                       //     isr [1]
            01                                //     offline replicas []
            00                                //     no tagged fields
            80000000                          //   topic authorized operations: Int32.min (not requested)
            00                                //   no tagged fields
            00                                // no tagged fields (cluster authorized operations ended at v10)
            """)
    }

    @Test("non-ignorable fields a version lacks must stay at their defaults")
    func fieldNotSupported() throws {
        var writer = ByteWriter(bytes: [0xEE])
        // Versions before 4 always allow auto-creation; sending false there would be ignored.
        #expect(throws: WireEncodingError.fieldNotSupported("allowAutoTopicCreation", version: 3)) {
            try MetadataRequest(topics: [], allowAutoTopicCreation: false).encode(into: &writer, version: 3)
        }
        #expect(writer.bytes == [0xEE], "nothing is appended on error")
        // Version 0 has no null marker for the topic list.
        do {
            try MetadataRequest(topics: nil).encode(into: &writer, version: 0)
            Issue.record("encoding null topics at version 0 succeeded")
        } catch {
            #expect(error.code == .nullNotAllowed)
            #expect(error.field == "topics")
        }
        #expect(writer.bytes == [0xEE])
        // Ignorable fields are dropped silently: the topic ID before version 10.
        let withID = MetadataRequest(topics: [.init(topicID: Self.topicID, name: "orders")])
        #expect(try encoded(withID, version: 9) == hexBytes("""
            02 07 6F7264657273 00  // topics: "orders", no tagged fields
            01 00 00               // allow auto creation, include cluster / topic operations
            00                     // no tagged fields
            """))
    }
}
