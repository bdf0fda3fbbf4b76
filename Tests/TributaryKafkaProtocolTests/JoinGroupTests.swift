import Testing
import TributaryKafkaProtocol
import TributaryWire

/// JoinGroup golden bodies at the lowest (0) and highest (9) supported versions, written by hand
/// from the protocol guide (https://kafka.apache.org/protocol#The_Messages_JoinGroup).
@Suite("JoinGroup")
struct JoinGroupTests {
    @Test("request and response v0")
    func version0() throws {
        let request = JoinGroupRequest(groupID: "group", sessionTimeoutMs: 10_000, memberID: "", protocolType: "consumer",
                                       protocols: [.init(name: "range", metadata: [1, 2])])
        try expectGolden(request, version: 0, """
            0005 67726F7570          // group id "group"
            00002710                 // session timeout 10000 ms
            0000                     // member id ""
            0008 636F6E73756D6572    // protocol type "consumer"
            00000001                 // protocols: 1
            0005 72616E6765          //   name "range"
            00000002 0102            //   metadata
            """)
        let response = JoinGroupResponse(errorCode: 0, generationID: 1, protocolName: "range", leader: "m-1", memberID: "m-1",
                                         members: [.init(memberID: "m-1", metadata: [1, 2])])
        try expectGolden(response, version: 0, """
            0000                // error code
            00000001            // generation 1
            0005 72616E6765     // protocol name "range"
            0003 6D2D31         // leader "m-1"
            0003 6D2D31         // member id "m-1"
            00000001            // members: 1
            0003 6D2D31         //   member id
            00000002 0102       //   metadata
            """)
    }

    @Test("request and response v9")
    func version9() throws {
        let request = JoinGroupRequest(groupID: "group", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 60_000, memberID: "",
                                       groupInstanceID: nil, protocolType: "consumer",
                                       protocols: [.init(name: "range", metadata: [1, 2])], reason: nil)
        try expectGolden(request, version: 9, """
            06 67726F7570          // group id
            00002710               // session timeout
            0000EA60               // rebalance timeout 60000 ms
            01                     // member id "" (compact)
            00                     // group instance id: null
            09 636F6E73756D6572    // protocol type
            02                     // protocols: compact 1 + 1
            06 72616E6765          //   name
            03 0102                //   metadata: compact bytes
            00                     //   no tagged fields
            00                     // reason: null
            00                     // no tagged fields
            """)
        let response = JoinGroupResponse(throttleTimeMs: 0, errorCode: 0, generationID: 1, protocolType: "consumer", protocolName: "range",
                                         leader: "m-1", skipAssignment: false, memberID: "m-1",
                                         members: [.init(memberID: "m-1", groupInstanceID: nil, metadata: [1, 2])])
        try expectGolden(response, version: 9, """
            00000000               // throttle time
            0000                   // error code
            00000001               // generation
            09 636F6E73756D6572    // protocol type "consumer"
            06 72616E6765          // protocol name "range"
            04 6D2D31              // leader
            00                     // skip assignment: false
            04 6D2D31              // member id
            02                     // members: compact 1 + 1
            04 6D2D31              //   member id
            00                     //   group instance id: null
            03 0102                //   metadata
            00                     //   no tagged fields
            00                     // no tagged fields
            """)
    }

    @Test("static membership cannot be requested from brokers older than version 5")
    func staticMembership() {
        #expect(throws: WireEncodingError.fieldNotSupported("groupInstanceID", version: 4)) {
            _ = try encoded(JoinGroupRequest(groupID: "g", groupInstanceID: "instance-1"), version: 4)
        }
    }
}
