import Testing
import TributaryKafkaProtocol
import TributaryWire

/// OffsetFetch golden bodies at the lowest (0) and highest (9) supported versions. The bytes were
/// encoded by kafka-python 3.0.12 with Tests/Fixtures/kafka-golden/make_golden.py, not by
/// Tributary: version 9 by `kafka.protocol.consumer.OffsetFetchRequest` / `Response`, version 0
/// (dropped from kafka-python's JSON definitions) by the hand-written
/// `kafka.protocol.old.commit.OffsetFetchRequest_v0` / `Response_v0`.
@Suite("OffsetFetch")
struct OffsetFetchTests {
    @Test("request v0: one group, topics with partition indexes")
    func requestV0() throws {
        let request = OffsetFetchRequest(groupID: "payments", topics: [.init(name: "orders", partitionIndexes: [0, 1])])
        // make_golden.py: OffsetFetchRequest v0
        try expectGolden(request, version: 0, """
            0008 7061796D656E7473     // group id "payments"
            00000001                  // topics: 1
            0006 6F7264657273         //   name "orders"
            00000002 00000000 00000001  // partition indexes [0, 1]
            """)
    }

    @Test("response v0: offsets, metadata and per-partition errors")
    func responseV0() throws {
        let response = OffsetFetchResponse(topics: [
            .init(name: "orders", partitions: [
                .init(partitionIndex: 0, committedOffset: 1234, metadata: "worker-1", errorCode: 0),
                .init(partitionIndex: 1, committedOffset: -1, metadata: "", errorCode: 0),
            ]),
        ])
        // make_golden.py: OffsetFetchResponse v0
        try expectGolden(response, version: 0, """
            00000001                  // topics: 1
            0006 6F7264657273         //   name "orders"
            00000002                  //   partitions: 2
            00000000                  //     partition 0
            00000000000004D2          //     offset 1234
            0008 776F726B65722D31     //     metadata "worker-1"
            0000                      //     error code
            00000001                  //     partition 1
            FFFFFFFFFFFFFFFF          //     offset -1 (none committed)
            0000                      //     metadata ""
            0000                      //     error code
            """)
    }

    @Test("request v9: several groups with member IDs and epochs, null topics, require stable")
    func requestV9() throws {
        let request = OffsetFetchRequest(groups: [
            .init(groupID: "payments", memberID: "consumer-1-5e8f", memberEpoch: 7,
                  topics: [.init(name: "orders", partitionIndexes: [0, 1])]),
            .init(groupID: "audit-readers", memberID: nil, memberEpoch: -1, topics: nil),
        ], requireStable: true)
        // make_golden.py: OffsetFetchRequest v9
        try expectGolden(request, version: 9, """
            03                        // groups: compact 2 + 1
            09 7061796D656E7473       //   group id "payments"
            10 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            00000007                  //   member epoch 7
            02                        //   topics: compact 1 + 1
            07 6F7264657273           //     name "orders"
            03 00000000 00000001      //     partition indexes [0, 1]
            00                        //     no tagged fields
            00                        //   no tagged fields
            0E 61756469742D72656164657273  // group id "audit-readers"
            00                        //   member id null
            FFFFFFFF                  //   member epoch -1
            00                        //   topics: null (all)
            00                        //   no tagged fields
            01                        // require stable
            00                        // no tagged fields
            """)
    }

    @Test("response v9: groups with leader epochs, null metadata and group errors")
    func responseV9() throws {
        let response = OffsetFetchResponse(throttleTimeMs: 25, groups: [
            .init(groupID: "payments", topics: [
                .init(name: "orders", partitions: [
                    .init(partitionIndex: 0, committedOffset: 1234, committedLeaderEpoch: 5, metadata: "worker-1", errorCode: 0),
                    .init(partitionIndex: 1, committedOffset: -1, committedLeaderEpoch: -1, metadata: nil, errorCode: 0),
                ]),
            ], errorCode: 0),
            .init(groupID: "audit-readers", topics: [], errorCode: 16),
        ])
        // make_golden.py: OffsetFetchResponse v9
        try expectGolden(response, version: 9, """
            00000019                  // throttle time 25 ms
            03                        // groups: compact 2 + 1
            09 7061796D656E7473       //   group id "payments"
            02                        //   topics: compact 1 + 1
            07 6F7264657273           //     name "orders"
            03                        //     partitions: compact 2 + 1
            00000000                  //       partition 0
            00000000000004D2          //       offset 1234
            00000005                  //       leader epoch 5
            09 776F726B65722D31       //       metadata "worker-1"
            0000                      //       error code
            00                        //       no tagged fields
            00000001                  //       partition 1
            FFFFFFFFFFFFFFFF          //       offset -1 (none committed)
            FFFFFFFF                  //       leader epoch -1
            00                        //       metadata null
            0000                      //       error code
            00                        //       no tagged fields
            00                        //     no tagged fields
            0000                      //   error code
            00                        //   no tagged fields
            0E 61756469742D72656164657273  // group id "audit-readers"
            01                        //   topics: compact 0 + 1
            0010                      //   error 16: not coordinator
            00                        //   no tagged fields
            00                        // no tagged fields
            """)
    }
}
