import Testing
import TributaryKafkaProtocol
import TributaryWire

/// SyncGroup golden bodies at the lowest (0) and highest (5) supported versions. The bytes were
/// encoded by kafka-python 3.0.12 (`kafka.protocol.consumer.SyncGroupRequest` / `Response`) with
/// Tests/Fixtures/kafka-golden/make_golden.py, not by Tributary. The assignments are opaque bytes
/// here; they hold a consumer-protocol assignment (`Golden.assignment`).
@Suite("SyncGroup")
struct SyncGroupTests {
    @Test("request and response v0: leader's assignments, one empty")
    func version0() throws {
        let request = SyncGroupRequest(groupID: "payments", generationID: 3, memberID: "consumer-1-5e8f", assignments: [
            .init(memberID: "consumer-1-5e8f", assignment: Golden.assignment),
            .init(memberID: "consumer-2-77aa", assignment: []),
        ])
        // make_golden.py: SyncGroupRequest v0
        try expectGolden(request, version: 0, """
            0008 7061796D656E7473     // group id "payments"
            00000003                  // generation 3
            000F 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            00000002                  // assignments: 2
            000F 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            0000001E                  //   assignment: 30 bytes
            0000 00000001             //     version 0, topics: 1
            0006 6F7264657273         //     "orders"
            00000002 00000000 00000001  //   partitions [0, 1]
            FFFFFFFF                  //     user data null
            000F 636F6E73756D65722D322D37376161  // member id "consumer-2-77aa"
            00000000                  //   assignment: empty
            """)
        // make_golden.py: SyncGroupResponse v0
        try expectGolden(SyncGroupResponse(errorCode: 0, assignment: Golden.assignment), version: 0, """
            0000                      // error code
            0000001E                  // assignment: 30 bytes
            0000 00000001 0006 6F7264657273 00000002 00000000 00000001 FFFFFFFF
            """)
    }

    @Test("request v5: instance ID, protocol type and name, compact bytes")
    func requestV5() throws {
        let request = SyncGroupRequest(
            groupID: "payments", generationID: 3, memberID: "consumer-1-5e8f", groupInstanceID: "instance-1",
            protocolType: "consumer", protocolName: "range",
            assignments: [
                .init(memberID: "consumer-1-5e8f", assignment: Golden.assignment),
                .init(memberID: "consumer-2-77aa", assignment: []),
            ]
        )
        // make_golden.py: SyncGroupRequest v5
        try expectGolden(request, version: 5, """
            09 7061796D656E7473       // group id "payments"
            00000003                  // generation 3
            10 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            0B 696E7374616E63652D31   // group instance id "instance-1"
            09 636F6E73756D6572       // protocol type "consumer"
            06 72616E6765             // protocol name "range"
            03                        // assignments: compact 2 + 1
            10 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            1F                        //   assignment: compact 30 bytes
            0000 00000001 0006 6F7264657273 00000002 00000000 00000001 FFFFFFFF
            00                        //   no tagged fields
            10 636F6E73756D65722D322D37376161  // member id "consumer-2-77aa"
            01                        //   assignment: compact empty
            00                        //   no tagged fields
            00                        // no tagged fields
            """)
    }

    @Test("response v5: throttle time, protocol type and name")
    func responseV5() throws {
        let response = SyncGroupResponse(throttleTimeMs: 25, errorCode: 0, protocolType: "consumer", protocolName: "range",
                                         assignment: Golden.assignment)
        // make_golden.py: SyncGroupResponse v5
        try expectGolden(response, version: 5, """
            00000019                  // throttle time 25 ms
            0000                      // error code
            09 636F6E73756D6572       // protocol type "consumer"
            06 72616E6765             // protocol name "range"
            1F                        // assignment: compact 30 bytes
            0000 00000001 0006 6F7264657273 00000002 00000000 00000001 FFFFFFFF
            00                        // no tagged fields
            """)
    }
}
