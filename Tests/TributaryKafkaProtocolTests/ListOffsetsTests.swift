import Testing
import TributaryKafkaProtocol
import TributaryWire

/// ListOffsets golden bodies at the lowest (0) and highest (10) supported versions. The bytes were
/// encoded by kafka-python 3.0.12 with Tests/Fixtures/kafka-golden/make_golden.py, not by
/// Tributary: version 10 by `kafka.protocol.consumer.ListOffsetsRequest` / `Response`, version 0
/// (dropped from kafka-python's JSON definitions) by the hand-written
/// `kafka.protocol.old.list_offsets.ListOffsetsRequest_v0` / `Response_v0`.
@Suite("ListOffsets")
struct ListOffsetsTests {
    @Test("request v0: timestamp and max number of offsets")
    func requestV0() throws {
        let request = ListOffsetsRequest(replicaID: -1, topics: [
            .init(name: "orders", partitions: [.init(partitionIndex: 2, timestamp: 1_700_000_000_000, maxNumOffsets: 3)]),
        ])
        // make_golden.py: ListOffsetsRequest v0
        try expectGolden(request, version: 0, """
            FFFFFFFF                  // replica id -1 (a consumer)
            00000001                  // topics: 1
            0006 6F7264657273         //   name "orders"
            00000001                  //   partitions: 1
            00000002                  //     partition 2
            0000018BCFE56800          //     timestamp 1700000000000
            00000003                  //     max number of offsets 3
            """)
    }

    @Test("response v0: old-style offset list")
    func responseV0() throws {
        let response = ListOffsetsResponse(topics: [
            .init(name: "orders", partitions: [.init(partitionIndex: 2, errorCode: 0, oldStyleOffsets: [1300, 800, 0])]),
        ])
        // make_golden.py: ListOffsetsResponse v0
        try expectGolden(response, version: 0, """
            00000001                  // topics: 1
            0006 6F7264657273         //   name "orders"
            00000001                  //   partitions: 1
            00000002                  //     partition 2
            0000                      //     error code
            00000003                  //     old-style offsets: 3
            0000000000000514          //       1300
            0000000000000320          //       800
            0000000000000000          //       0
            """)
    }

    @Test("request v10: isolation level, current leader epoch, timeout, tagged-field sections")
    func requestV10() throws {
        let request = ListOffsetsRequest(replicaID: -1, isolationLevel: 1, topics: [
            .init(name: "orders", partitions: [.init(partitionIndex: 2, currentLeaderEpoch: 5, timestamp: -1)]),
        ], timeoutMs: 30_000)
        // make_golden.py: ListOffsetsRequest v10
        try expectGolden(request, version: 10, """
            FFFFFFFF                  // replica id -1 (a consumer)
            01                        // isolation level: read committed
            02                        // topics: compact 1 + 1
            07 6F7264657273           //   name "orders"
            02                        //   partitions: compact 1 + 1
            00000002                  //     partition 2
            00000005                  //     current leader epoch 5
            FFFFFFFFFFFFFFFF          //     timestamp -1 (latest)
            00                        //     no tagged fields
            00                        //   no tagged fields
            00007530                  // timeout 30000 ms
            00                        // no tagged fields
            """)
    }

    @Test("response v10: throttle, timestamp, offset, leader epoch")
    func responseV10() throws {
        let response = ListOffsetsResponse(throttleTimeMs: 25, topics: [
            .init(name: "orders", partitions: [.init(partitionIndex: 2, errorCode: 0, timestamp: -1, offset: 1300, leaderEpoch: 5)]),
        ])
        // make_golden.py: ListOffsetsResponse v10
        try expectGolden(response, version: 10, """
            00000019                  // throttle time 25 ms
            02                        // topics: compact 1 + 1
            07 6F7264657273           //   name "orders"
            02                        //   partitions: compact 1 + 1
            00000002                  //     partition 2
            0000                      //     error code
            FFFFFFFFFFFFFFFF          //     timestamp -1
            0000000000000514          //     offset 1300
            00000005                  //     leader epoch 5
            00                        //     no tagged fields
            00                        //   no tagged fields
            00                        // no tagged fields
            """)
    }
}
