import Testing
import TributaryKafkaProtocol
import TributaryWire

/// TxnOffsetCommit golden bodies at the lowest (0) and highest (3) supported versions, encoded
/// by kafka-python 3.0.12 (`kafka.protocol.producer.TxnOffsetCommitRequest` / `Response`) with
/// Tests/Fixtures/kafka-golden/make_golden.py.
@Suite("TxnOffsetCommit")
struct TxnOffsetCommitTests {
    static let response = TxnOffsetCommitResponse(throttleTimeMs: 0, topics: [
        .init(name: "orders", partitions: [.init(partitionIndex: 0, errorCode: 0), .init(partitionIndex: 1, errorCode: 22)]),
    ])

    @Test("request and response v0: no group member fields, null metadata")
    func version0() throws {
        let request = TxnOffsetCommitRequest(transactionalID: "saga-1", groupID: "payments", producerID: 4001, producerEpoch: 3,
                                             topics: [.init(name: "orders", partitions: [.init(partitionIndex: 0, committedOffset: 1234, committedMetadata: nil)])])
        // make_golden.py: TxnOffsetCommitRequest v0
        try expectGolden(request, version: 0, """
            0006 736167612D31         // transactional id "saga-1"
            0008 7061796D656E7473     // group "payments"
            0000000000000FA1          // producer id 4001
            0003                      // epoch 3
            00000001                  // 1 topic
            0006 6F7264657273         // "orders"
            00000001                  // 1 partition
            00000000                  // partition 0
            00000000000004D2          // offset 1234
            FFFF                      // metadata: null
            """)
        // make_golden.py: TxnOffsetCommitResponse v0
        try expectGolden(Self.response, version: 0, """
            00000000                  // throttle time 0
            00000001                  // 1 topic
            0006 6F7264657273         // "orders"
            00000002                  // 2 partitions
            00000000 0000             // partition 0: no error
            00000001 0016             // partition 1: error 22 (illegal generation)
            """)
    }

    @Test("request and response v3: generation, member id and instance id (KIP-447)")
    func version3() throws {
        let request = TxnOffsetCommitRequest(transactionalID: "saga-1", groupID: "payments", producerID: 4001, producerEpoch: 3,
                                             generationID: 7, memberID: "consumer-1-5e8f", groupInstanceID: nil,
                                             topics: [.init(name: "orders", partitions: [
                                                 .init(partitionIndex: 0, committedOffset: 1234, committedLeaderEpoch: 5, committedMetadata: "worker-1"),
                                             ])])
        // make_golden.py: TxnOffsetCommitRequest v3
        try expectGolden(request, version: 3, """
            07 736167612D31           // transactional id "saga-1"
            09 7061796D656E7473       // group "payments"
            0000000000000FA1          // producer id 4001
            0003                      // epoch 3
            00000007                  // generation 7
            10 636F6E73756D65722D312D35653866 // member id "consumer-1-5e8f"
            00                        // instance id: null
            02                        // 1 topic
            07 6F7264657273           // "orders"
            02                        // 1 partition
            00000000                  // partition 0
            00000000000004D2          // offset 1234
            00000005                  // leader epoch 5
            09 776F726B65722D31       // metadata "worker-1"
            00                        // no tagged fields
            00                        // no tagged fields
            00                        // no tagged fields
            """)
        // make_golden.py: TxnOffsetCommitResponse v3
        try expectGolden(Self.response, version: 3, """
            00000000                  // throttle time 0
            02                        // 1 topic
            07 6F7264657273           // "orders"
            03                        // 2 partitions
            00000000 0000 00          // partition 0: no error
            00000001 0016 00          // partition 1: error 22
            00                        // no tagged fields
            00                        // no tagged fields
            """)
    }
}
