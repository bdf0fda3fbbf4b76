import Testing
import TributaryKafkaProtocol
import TributaryWire

/// FindCoordinator golden bodies at versions 0 (one key, flat response) and 4 (key batches,
/// KIP-699), written by hand from the protocol guide
/// (https://kafka.apache.org/protocol#The_Messages_FindCoordinator).
@Suite("FindCoordinator")
struct FindCoordinatorTests {
    @Test("request and response v0")
    func version0() throws {
        try expectGolden(FindCoordinatorRequest(key: "group"), version: 0, """
            0005 67726F7570     // key "group"
            """)
        try expectGolden(FindCoordinatorResponse(errorCode: 0, nodeID: 1, host: "localhost", port: 9092), version: 0, """
            0000                    // error code
            00000001                // node id
            0009 6C6F63616C686F7374 // host "localhost"
            00002384                // port 9092
            """)
    }

    @Test("request and response v4")
    func version4() throws {
        try expectGolden(FindCoordinatorRequest(keyType: 0, coordinatorKeys: ["group"]), version: 4, """
            00                  // key type: group
            02 06 67726F7570    // coordinator keys: compact 1 + 1, "group"
            00                  // no tagged fields
            """)
        let response = FindCoordinatorResponse(throttleTimeMs: 0, coordinators: [
            .init(key: "group", nodeID: 1, host: "localhost", port: 9092, errorCode: 0, errorMessage: nil),
        ])
        try expectGolden(response, version: 4, """
            00000000              // throttle time
            02                    // coordinators: compact 1 + 1
            06 67726F7570         //   key "group"
            00000001              //   node id
            0A 6C6F63616C686F7374 //   host
            00002384              //   port
            0000                  //   error code
            00                    //   error message: null
            00                    //   no tagged fields
            00                    // no tagged fields
            """)
    }

    @Test("a single key cannot be sent at version 4, nor key batches at version 3")
    func versionShapes() {
        #expect(throws: WireEncodingError.fieldNotSupported("key", version: 4)) {
            _ = try encoded(FindCoordinatorRequest(key: "group"), version: 4)
        }
        #expect(throws: WireEncodingError.fieldNotSupported("coordinatorKeys", version: 3)) {
            _ = try encoded(FindCoordinatorRequest(coordinatorKeys: ["group"]), version: 3)
        }
    }
}
