import Testing
import TributaryKafkaProtocol
import TributaryWire

/// ListGroups golden bodies at the lowest (0) and highest (5) supported versions. The bytes were
/// encoded by kafka-python 3.0.12 (`kafka.protocol.admin.ListGroupsRequest` / `Response`) with
/// Tests/Fixtures/kafka-golden/make_golden.py, not by Tributary.
@Suite("ListGroups")
struct ListGroupsTests {
    @Test("request and response v0: empty request, group IDs with protocol types")
    func version0() throws {
        // make_golden.py: ListGroupsRequest v0
        try expectGolden(ListGroupsRequest(), version: 0, """
            // an empty body
            """)
        let response = ListGroupsResponse(errorCode: 0, groups: [
            .init(groupID: "payments", protocolType: "consumer"),
            .init(groupID: "connect-cluster", protocolType: "connect"),
        ])
        // make_golden.py: ListGroupsResponse v0
        try expectGolden(response, version: 0, """
            0000                      // error code
            00000002                  // groups: 2
            0008 7061796D656E7473     //   group id "payments"
            0008 636F6E73756D6572     //   protocol type "consumer"
            000F 636F6E6E6563742D636C7573746572  // group id "connect-cluster"
            0007 636F6E6E656374       //   protocol type "connect"
            """)
    }

    @Test("request v5: state and type filters")
    func requestV5() throws {
        let request = ListGroupsRequest(statesFilter: ["Stable", "Empty"], typesFilter: ["classic"])
        // make_golden.py: ListGroupsRequest v5
        try expectGolden(request, version: 5, """
            03                        // states filter: compact 2 + 1
            07 537461626C65           //   "Stable"
            06 456D707479             //   "Empty"
            02                        // types filter: compact 1 + 1
            08 636C6173736963         //   "classic"
            00                        // no tagged fields
            """)
    }

    @Test("response v5: throttle time, group states and types")
    func responseV5() throws {
        let response = ListGroupsResponse(throttleTimeMs: 25, errorCode: 0, groups: [
            .init(groupID: "payments", protocolType: "consumer", groupState: "Stable", groupType: "classic"),
            .init(groupID: "connect-cluster", protocolType: "connect", groupState: "Empty", groupType: "classic"),
        ])
        // make_golden.py: ListGroupsResponse v5
        try expectGolden(response, version: 5, """
            00000019                  // throttle time 25 ms
            0000                      // error code
            03                        // groups: compact 2 + 1
            09 7061796D656E7473       //   group id "payments"
            09 636F6E73756D6572       //   protocol type "consumer"
            07 537461626C65           //   state "Stable"
            08 636C6173736963         //   type "classic"
            00                        //   no tagged fields
            10 636F6E6E6563742D636C7573746572  // group id "connect-cluster"
            08 636F6E6E656374         //   protocol type "connect"
            06 456D707479             //   state "Empty"
            08 636C6173736963         //   type "classic"
            00                        //   no tagged fields
            00                        // no tagged fields
            """)
    }
}
