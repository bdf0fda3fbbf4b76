import Testing
import TributaryKafkaProtocol
import TributaryWire

/// DescribeGroups golden bodies at the lowest (0) and highest (5) supported versions. The bytes
/// were encoded by kafka-python 3.0.12 (`kafka.protocol.admin.DescribeGroupsRequest` /
/// `Response`) with Tests/Fixtures/kafka-golden/make_golden.py, not by Tributary. Member metadata
/// and assignments are opaque bytes here (`Golden.subscription`, `Golden.assignment`).
@Suite("DescribeGroups")
struct DescribeGroupsTests {
    @Test("request v0: group IDs")
    func requestV0() throws {
        // make_golden.py: DescribeGroupsRequest v0
        try expectGolden(DescribeGroupsRequest(groups: ["payments", "audit-readers"]), version: 0, """
            00000002                  // groups: 2
            0008 7061796D656E7473     //   "payments"
            000D 61756469742D72656164657273  // "audit-readers"
            """)
    }

    @Test("response v0: a stable group with a member, a dead one")
    func responseV0() throws {
        let response = DescribeGroupsResponse(groups: [
            .init(errorCode: 0, groupID: "payments", groupState: "Stable", protocolType: "consumer", protocolData: "range",
                  members: [.init(memberID: "consumer-1-5e8f", clientID: "consumer-1", clientHost: "/10.0.0.7",
                                  memberMetadata: Golden.subscription, memberAssignment: Golden.assignment)]),
            .init(errorCode: 0, groupID: "audit-readers", groupState: "Dead", protocolType: "", protocolData: "", members: []),
        ])
        // make_golden.py: DescribeGroupsResponse v0
        try expectGolden(response, version: 0, """
            00000002                  // groups: 2
            0000                      //   error code
            0008 7061796D656E7473     //   group id "payments"
            0006 537461626C65         //   state "Stable"
            0008 636F6E73756D6572     //   protocol type "consumer"
            0005 72616E6765           //   protocol "range"
            00000001                  //   members: 1
            000F 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            000A 636F6E73756D65722D31 //     client id "consumer-1"
            0009 2F31302E302E302E37   //     client host "/10.0.0.7"
            00000012                  //     metadata: 18 bytes (subscription)
            0000 00000001 0006 6F7264657273 FFFFFFFF
            0000001E                  //     assignment: 30 bytes
            0000 00000001 0006 6F7264657273 00000002 00000000 00000001 FFFFFFFF
            0000                      //   error code
            000D 61756469742D72656164657273  // group id "audit-readers"
            0004 44656164             //   state "Dead"
            0000                      //   protocol type ""
            0000                      //   protocol ""
            00000000                  //   members: 0
            """)
    }

    @Test("request v5: include authorized operations, compact types")
    func requestV5() throws {
        let request = DescribeGroupsRequest(groups: ["payments", "audit-readers"], includeAuthorizedOperations: true)
        // make_golden.py: DescribeGroupsRequest v5
        try expectGolden(request, version: 5, """
            03                        // groups: compact 2 + 1
            09 7061796D656E7473       //   "payments"
            0E 61756469742D72656164657273  // "audit-readers"
            01                        // include authorized operations
            00                        // no tagged fields
            """)
    }

    @Test("response v5: throttle time, instance IDs, authorized operations")
    func responseV5() throws {
        // READ (3), DELETE (6) and DESCRIBE (8): 1 << 3 | 1 << 6 | 1 << 8.
        let operations: Int32 = 328
        let response = DescribeGroupsResponse(throttleTimeMs: 25, groups: [
            .init(errorCode: 0, groupID: "payments", groupState: "Stable", protocolType: "consumer", protocolData: "range",
                  members: [.init(memberID: "consumer-1-5e8f", groupInstanceID: "instance-1", clientID: "consumer-1",
                                  clientHost: "/10.0.0.7", memberMetadata: Golden.subscription, memberAssignment: Golden.assignment)],
                  authorizedOperations: operations),
            .init(errorCode: 0, groupID: "audit-readers", groupState: "Dead", protocolType: "", protocolData: "", members: [],
                  authorizedOperations: operations),
        ])
        // make_golden.py: DescribeGroupsResponse v5
        try expectGolden(response, version: 5, """
            00000019                  // throttle time 25 ms
            03                        // groups: compact 2 + 1
            0000                      //   error code
            09 7061796D656E7473       //   group id "payments"
            07 537461626C65           //   state "Stable"
            09 636F6E73756D6572       //   protocol type "consumer"
            06 72616E6765             //   protocol "range"
            02                        //   members: compact 1 + 1
            10 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            0B 696E7374616E63652D31   //     group instance id "instance-1"
            0B 636F6E73756D65722D31   //     client id "consumer-1"
            0A 2F31302E302E302E37     //     client host "/10.0.0.7"
            13                        //     metadata: compact 18 bytes
            0000 00000001 0006 6F7264657273 FFFFFFFF
            1F                        //     assignment: compact 30 bytes
            0000 00000001 0006 6F7264657273 00000002 00000000 00000001 FFFFFFFF
            00                        //     no tagged fields
            00000148                  //   authorized operations: read, delete, describe
            00                        //   no tagged fields
            0000                      //   error code
            0E 61756469742D72656164657273  // group id "audit-readers"
            05 44656164               //   state "Dead"
            01                        //   protocol type ""
            01                        //   protocol ""
            01                        //   members: compact 0 + 1
            00000148                  //   authorized operations
            00                        //   no tagged fields
            00                        // no tagged fields
            """)
    }
}
