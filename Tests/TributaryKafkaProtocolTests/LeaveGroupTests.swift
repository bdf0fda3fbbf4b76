import Testing
import TributaryKafkaProtocol
import TributaryWire

/// LeaveGroup golden bodies at the lowest (0) and highest (5) supported versions. The bytes were
/// encoded by kafka-python 3.0.12 (`kafka.protocol.consumer.LeaveGroupRequest` / `Response`) with
/// Tests/Fixtures/kafka-golden/make_golden.py, not by Tributary.
@Suite("LeaveGroup")
struct LeaveGroupTests {
    @Test("request and response v0: one member ID")
    func version0() throws {
        // make_golden.py: LeaveGroupRequest v0
        try expectGolden(LeaveGroupRequest(groupID: "payments", memberID: "consumer-1-5e8f"), version: 0, """
            0008 7061796D656E7473     // group id "payments"
            000F 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            """)
        // make_golden.py: LeaveGroupResponse v0
        try expectGolden(LeaveGroupResponse(errorCode: 25), version: 0, """
            0019                      // error 25: unknown member id
            """)
    }

    @Test("request v5: members with instance IDs and reasons")
    func requestV5() throws {
        let request = LeaveGroupRequest(groupID: "payments", members: [
            .init(memberID: "consumer-1-5e8f", groupInstanceID: "instance-1", reason: "the consumer is being closed"),
            .init(memberID: "consumer-2-77aa", groupInstanceID: nil, reason: nil),
        ])
        // make_golden.py: LeaveGroupRequest v5
        try expectGolden(request, version: 5, """
            09 7061796D656E7473       // group id "payments"
            03                        // members: compact 2 + 1
            10 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            0B 696E7374616E63652D31   //   group instance id "instance-1"
            1D 74686520636F6E73756D6572206973206265696E6720636C6F736564  // reason "the consumer is being closed"
            00                        //   no tagged fields
            10 636F6E73756D65722D322D37376161  // member id "consumer-2-77aa"
            00                        //   group instance id null
            00                        //   reason null
            00                        //   no tagged fields
            00                        // no tagged fields
            """)
    }

    @Test("response v5: throttle time, per-member results")
    func responseV5() throws {
        let response = LeaveGroupResponse(throttleTimeMs: 25, errorCode: 0, members: [
            .init(memberID: "consumer-1-5e8f", groupInstanceID: "instance-1", errorCode: 0),
            .init(memberID: "consumer-2-77aa", groupInstanceID: nil, errorCode: 25),
        ])
        // make_golden.py: LeaveGroupResponse v5
        try expectGolden(response, version: 5, """
            00000019                  // throttle time 25 ms
            0000                      // error code
            03                        // members: compact 2 + 1
            10 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            0B 696E7374616E63652D31   //   group instance id "instance-1"
            0000                      //   error code
            00                        //   no tagged fields
            10 636F6E73756D65722D322D37376161  // member id "consumer-2-77aa"
            00                        //   group instance id null
            0019                      //   error 25: unknown member id
            00                        //   no tagged fields
            00                        // no tagged fields
            """)
    }
}
