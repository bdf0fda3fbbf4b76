import Testing
import TributaryKafkaProtocol
import TributaryWire

/// Heartbeat golden bodies at the lowest (0) and highest (4) supported versions. The bytes were
/// encoded by kafka-python 3.0.12 (`kafka.protocol.consumer.HeartbeatRequest` / `Response`) with
/// Tests/Fixtures/kafka-golden/make_golden.py, not by Tributary.
@Suite("Heartbeat")
struct HeartbeatTests {
    @Test("request and response v0")
    func version0() throws {
        let request = HeartbeatRequest(groupID: "payments", generationID: 3, memberID: "consumer-1-5e8f")
        // make_golden.py: HeartbeatRequest v0
        try expectGolden(request, version: 0, """
            0008 7061796D656E7473     // group id "payments"
            00000003                  // generation 3
            000F 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            """)
        // make_golden.py: HeartbeatResponse v0
        try expectGolden(HeartbeatResponse(errorCode: 27), version: 0, """
            001B                      // error 27: rebalance in progress
            """)
    }

    @Test("request and response v4: group instance ID, throttle time, tagged-field sections")
    func version4() throws {
        let request = HeartbeatRequest(groupID: "payments", generationID: 3, memberID: "consumer-1-5e8f", groupInstanceID: "instance-1")
        // make_golden.py: HeartbeatRequest v4
        try expectGolden(request, version: 4, """
            09 7061796D656E7473       // group id "payments"
            00000003                  // generation 3
            10 636F6E73756D65722D312D35653866  // member id "consumer-1-5e8f"
            0B 696E7374616E63652D31   // group instance id "instance-1"
            00                        // no tagged fields
            """)
        // make_golden.py: HeartbeatResponse v4
        try expectGolden(HeartbeatResponse(throttleTimeMs: 25, errorCode: 27), version: 4, """
            00000019                  // throttle time 25 ms
            001B                      // error 27: rebalance in progress
            00                        // no tagged fields
            """)
    }
}
