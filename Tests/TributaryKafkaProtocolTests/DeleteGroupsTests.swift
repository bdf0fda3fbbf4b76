import Testing
import TributaryKafkaProtocol
import TributaryWire

/// DeleteGroups golden bodies at the lowest (0) and highest (2) supported versions. The bytes were
/// encoded by kafka-python 3.0.12 (`kafka.protocol.admin.DeleteGroupsRequest` / `Response`) with
/// Tests/Fixtures/kafka-golden/make_golden.py, not by Tributary.
@Suite("DeleteGroups")
struct DeleteGroupsTests {
    static let request = DeleteGroupsRequest(groupsNames: ["payments", "audit-readers"])
    static let response = DeleteGroupsResponse(throttleTimeMs: 25, results: [
        .init(groupID: "payments", errorCode: 0),
        .init(groupID: "audit-readers", errorCode: 69),
    ])

    @Test("request and response v0")
    func version0() throws {
        // make_golden.py: DeleteGroupsRequest v0
        try expectGolden(Self.request, version: 0, """
            00000002                  // group names: 2
            0008 7061796D656E7473     //   "payments"
            000D 61756469742D72656164657273  // "audit-readers"
            """)
        // make_golden.py: DeleteGroupsResponse v0
        try expectGolden(Self.response, version: 0, """
            00000019                  // throttle time 25 ms
            00000002                  // results: 2
            0008 7061796D656E7473     //   group id "payments"
            0000                      //   error code
            000D 61756469742D72656164657273  // group id "audit-readers"
            0045                      //   error 69: group id not found
            """)
    }

    @Test("request and response v2: compact types, tagged-field sections")
    func version2() throws {
        // make_golden.py: DeleteGroupsRequest v2
        try expectGolden(Self.request, version: 2, """
            03                        // group names: compact 2 + 1
            09 7061796D656E7473       //   "payments"
            0E 61756469742D72656164657273  // "audit-readers"
            00                        // no tagged fields
            """)
        // make_golden.py: DeleteGroupsResponse v2
        try expectGolden(Self.response, version: 2, """
            00000019                  // throttle time 25 ms
            03                        // results: compact 2 + 1
            09 7061796D656E7473       //   group id "payments"
            0000                      //   error code
            00                        //   no tagged fields
            0E 61756469742D72656164657273  // group id "audit-readers"
            0045                      //   error 69: group id not found
            00                        //   no tagged fields
            00                        // no tagged fields
            """)
    }
}
