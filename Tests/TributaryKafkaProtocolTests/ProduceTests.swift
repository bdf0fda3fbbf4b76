import Testing
import TributaryKafkaProtocol
import TributaryWire

/// Produce golden bodies at the lowest (3) and highest (11) supported versions, written by hand
/// from the protocol guide (https://kafka.apache.org/protocol#The_Messages_Produce).
@Suite("Produce")
struct ProduceTests {
    @Test("request v3: nullable transactional ID, int32 record bytes")
    func requestV3() throws {
        let request = ProduceRequest(transactionalID: nil, acks: -1, timeoutMs: 30_000, topicData: [
            .init(name: "orders", partitionData: [.init(index: 0, records: [1, 2, 3])]),
        ])
        try expectGolden(request, version: 3, """
            FFFF                // transactional id: null
            FFFF                // acks -1
            00007530            // timeout 30000 ms
            00000001            // topic data: 1
            0006 6F7264657273   //   name "orders"
            00000001            //   partition data: 1
            00000000            //     index 0
            00000003 010203     //     records (opaque here)
            """)
    }

    @Test("response v3: base offset and log append time")
    func responseV3() throws {
        let response = ProduceResponse(responses: [
            .init(name: "orders", partitionResponses: [.init(index: 0, errorCode: 0, baseOffset: 42, logAppendTimeMs: -1)]),
        ], throttleTimeMs: 0)
        try expectGolden(response, version: 3, """
            00000001            // responses: 1
            0006 6F7264657273   //   name "orders"
            00000001            //   partition responses: 1
            00000000            //     index 0
            0000                //     error code
            000000000000002A    //     base offset 42
            FFFFFFFFFFFFFFFF    //     log append time -1
            00000000            // throttle time
            """)
    }

    @Test("request v11: compact encodings and tagged-field sections")
    func requestV11() throws {
        let request = ProduceRequest(transactionalID: nil, acks: 1, timeoutMs: 30_000, topicData: [
            .init(name: "orders", partitionData: [.init(index: 0, records: [1, 2, 3])]),
        ])
        try expectGolden(request, version: 11, """
            00                  // transactional id: null (compact)
            0001                // acks 1
            00007530            // timeout
            02                  // topic data: compact 1 + 1
            07 6F7264657273     //   name "orders"
            02                  //   partition data: compact 1 + 1
            00000000            //     index 0
            04 010203           //     records: compact length 3 + 1
            00                  //     no tagged fields
            00                  //   no tagged fields
            00                  // no tagged fields
            """)
    }

    @Test("response v11: current-leader and node-endpoint tagged fields (KIP-951)")
    func responseV11() throws {
        let response = ProduceResponse(
            responses: [.init(name: "orders", partitionResponses: [
                .init(index: 0, errorCode: 6, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage: nil,
                      currentLeader: .init(leaderID: 2, leaderEpoch: 7)),
            ])],
            throttleTimeMs: 0,
            nodeEndpoints: [.init(nodeID: 2, host: "localhost", port: 9092, rack: nil)]
        )
        try expectGolden(response, version: 11, """
            02                    // responses: compact 1 + 1
            07 6F7264657273       //   name "orders"
            02                    //   partition responses: compact 1 + 1
            00000000              //     index 0
            0006                  //     error NOT_LEADER_OR_FOLLOWER
            FFFFFFFFFFFFFFFF      //     base offset -1
            FFFFFFFFFFFFFFFF      //     log append time -1
            FFFFFFFFFFFFFFFF      //     log start offset -1
            01                    //     record errors: compact 0 + 1
            00                    //     error message: null
            01                    //     one tagged field:
            00 09                 //       tag 0 (current leader), 9 bytes:
            00000002 00000007 00  //       leader 2, epoch 7, no tagged fields
            00                    //   no tagged fields
            00000000              // throttle time
            01                    // one tagged field:
            00 15                 //   tag 0 (node endpoints), 21 bytes:
            02                    //   compact 1 + 1
            00000002              //     node id 2
            0A 6C6F63616C686F7374 //     host "localhost"
            00002384              //     port 9092
            00                    //     rack: null
            00                    //     no tagged fields
            """)
    }

    @Test("a current leader left at its default is not sent")
    func defaultTaggedFieldOmitted() throws {
        let response = ProduceResponse(responses: [.init(name: "t", partitionResponses: [.init(index: 1)])])
        let bytes = try encoded(response, version: 10)
        #expect(bytes == hexBytes("""
            02 02 74 02 00000001 0000 0000000000000000
            FFFFFFFFFFFFFFFF FFFFFFFFFFFFFFFF 01 00
            00        // partition: no tagged fields (current leader is -1/-1)
            00        // topic: no tagged fields
            00000000  // throttle time
            00        // no tagged fields (no node endpoints)
            """))
    }
}
