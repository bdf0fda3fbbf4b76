import Testing
import TributaryKafkaProtocol
import TributaryWire

/// OffsetCommit golden bodies at the lowest (0) and highest (9) supported versions. The bytes were
/// encoded by kafka-python 3.0.12 with Tests/Fixtures/kafka-golden/make_golden.py, not by
/// Tributary: version 9 by `kafka.protocol.consumer.OffsetCommitRequest` / `Response`, version 0
/// (dropped from kafka-python's JSON definitions) by the hand-written
/// `kafka.protocol.old.commit.OffsetCommitRequest_v0` / `Response_v0`.
@Suite("OffsetCommit")
struct OffsetCommitTests {
    @Test("request v0: group, offsets and metadata only")
    func requestV0() throws {
        let request = OffsetCommitRequest(groupID: "payments", topics: [
            .init(name: "orders", partitions: [
                .init(partitionIndex: 0, committedOffset: 1234, committedMetadata: "worker-1"),
                .init(partitionIndex: 1, committedOffset: 98, committedMetadata: ""),
            ]),
        ])
        // make_golden.py: OffsetCommitRequest v0
        try expectGolden(request, version: 0, """
            0008 7061796D656E7473     // group id "payments"
            00000001                  // topics: 1
            0006 6F7264657273         //   name "orders"
            00000002                  //   partitions: 2
            00000000                  //     partition 0
            00000000000004D2          //     offset 1234
            0008 776F726B65722D31     //     metadata "worker-1"
            00000001                  //     partition 1
            0000000000000062          //     offset 98
            0000                      //     metadata ""
            """)
    }

    @Test("response v0: no throttle time")
    func responseV0() throws {
        let response = OffsetCommitResponse(topics: [
            .init(name: "orders", partitions: [.init(partitionIndex: 0, errorCode: 0), .init(partitionIndex: 1, errorCode: 25)]),
        ])
        // make_golden.py: OffsetCommitResponse v0
        try expectGolden(response, version: 0, """
            00000001                  // topics: 1
            0006 6F7264657273         //   name "orders"
            00000002                  //   partitions: 2
            00000000 0000             //     partition 0, error code
            00000001 0019             //     partition 1, error 25: unknown member id
            """)
    }

    @Test("request v9: generation or member epoch, member and instance IDs, leader epochs, null metadata")
    func requestV9() throws {
        let request = OffsetCommitRequest(
            groupID: "payments", generationIDOrMemberEpoch: 7, memberID: "consumer-1-5e8f", groupInstanceID: "instance-1",
            topics: [.init(name: "orders", partitions: [
                .init(partitionIndex: 0, committedOffset: 1234, committedLeaderEpoch: 5, committedMetadata: "worker-1"),
                .init(partitionIndex: 1, committedOffset: 98, committedLeaderEpoch: 5, committedMetadata: nil),
            ])]
        )
        // make_golden.py: OffsetCommitRequest v9
        try expectGolden(request, version: 9, """
            09 7061796D656E7473       // group id "payments"
            00000007                  // generation id or member epoch 7
            10 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            0B 696E7374616E63652D31   // group instance id "instance-1"
            02                        // topics: compact 1 + 1
            07 6F7264657273           //   name "orders"
            03                        //   partitions: compact 2 + 1
            00000000                  //     partition 0
            00000000000004D2          //     offset 1234
            00000005                  //     leader epoch 5
            09 776F726B65722D31       //     metadata "worker-1"
            00                        //     no tagged fields
            00000001                  //     partition 1
            0000000000000062          //     offset 98
            00000005                  //     leader epoch 5
            00                        //     metadata null
            00                        //     no tagged fields
            00                        //   no tagged fields
            00                        // no tagged fields
            """)
    }

    @Test("response v9: throttle time, compact types")
    func responseV9() throws {
        let response = OffsetCommitResponse(throttleTimeMs: 25, topics: [
            .init(name: "orders", partitions: [.init(partitionIndex: 0, errorCode: 0), .init(partitionIndex: 1, errorCode: 22)]),
        ])
        // make_golden.py: OffsetCommitResponse v9
        try expectGolden(response, version: 9, """
            00000019                  // throttle time 25 ms
            02                        // topics: compact 1 + 1
            07 6F7264657273           //   name "orders"
            03                        //   partitions: compact 2 + 1
            00000000 0000 00          //     partition 0, error code, no tagged fields
            00000001 0016 00          //     partition 1, error 22: illegal generation, no tagged fields
            00                        //   no tagged fields
            00                        // no tagged fields
            """)
    }
}
