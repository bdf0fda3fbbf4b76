import Testing
import TributaryKafkaProtocol
import TributaryWire

/// DeleteTopics golden bodies at the lowest (0) and highest (6) supported versions. The bytes were
/// encoded by kafka-python 3.0.12 with Tests/Fixtures/kafka-golden/make_golden.py, not by
/// Tributary: version 6 by `kafka.protocol.admin.DeleteTopicsRequest` / `Response`, version 0
/// (dropped from kafka-python's JSON definitions) by the hand-written
/// `kafka.protocol.old.admin.DeleteTopicsRequest_v0` / `Response_v0`.
@Suite("DeleteTopics")
struct DeleteTopicsTests {
    @Test("request v0: topic names and timeout")
    func requestV0() throws {
        // make_golden.py: DeleteTopicsRequest v0
        try expectGolden(DeleteTopicsRequest(topicNames: ["orders", "audit"], timeoutMs: 30_000), version: 0, """
            00000002                  // topic names: 2
            0006 6F7264657273         //   "orders"
            0005 6175646974           //   "audit"
            00007530                  // timeout 30000 ms
            """)
    }

    @Test("response v0: name and error code, no throttle time")
    func responseV0() throws {
        let response = DeleteTopicsResponse(responses: [.init(name: "orders", errorCode: 0), .init(name: "audit", errorCode: 3)])
        // make_golden.py: DeleteTopicsResponse v0
        try expectGolden(response, version: 0, """
            00000002                  // responses: 2
            0006 6F7264657273         //   name "orders"
            0000                      //   error code
            0005 6175646974           //   name "audit"
            0003                      //   error 3: unknown topic or partition
            """)
    }

    @Test("request v6: topics by name or by ID")
    func requestV6() throws {
        let request = DeleteTopicsRequest(topics: [
            .init(name: "orders", topicID: .zero),
            .init(name: nil, topicID: Golden.otherTopicID),
        ], timeoutMs: 30_000)
        // make_golden.py: DeleteTopicsRequest v6
        try expectGolden(request, version: 6, """
            03                                // topics: compact 2 + 1
            07 6F7264657273                   //   name "orders"
            00000000000000000000000000000000  //   topic id: zero (use the name)
            00                                //   no tagged fields
            00                                //   name null (use the ID)
            0F4B8E217C3A4D598E6FA1B2C3D4E5F6  //   topic id
            00                                //   no tagged fields
            00007530                          // timeout 30000 ms
            00                                // no tagged fields
            """)
    }

    @Test("response v6: nullable names, topic IDs, error messages")
    func responseV6() throws {
        let response = DeleteTopicsResponse(throttleTimeMs: 25, responses: [
            .init(name: "orders", topicID: Golden.topicID, errorCode: 0, errorMessage: nil),
            .init(name: nil, topicID: Golden.otherTopicID, errorCode: 100, errorMessage: "Unknown topic ID."),
        ])
        // make_golden.py: DeleteTopicsResponse v6
        try expectGolden(response, version: 6, """
            00000019                          // throttle time 25 ms
            03                                // responses: compact 2 + 1
            07 6F7264657273                   //   name "orders"
            6A1F3C2E9B4D4E8AB7C10D2E3F405162  //   topic id
            0000                              //   error code
            00                                //   error message null
            00                                //   no tagged fields
            00                                //   name null
            0F4B8E217C3A4D598E6FA1B2C3D4E5F6  //   topic id
            0064                              //   error 100: unknown topic ID
            12 556E6B6E6F776E20746F7069632049442E  // error message "Unknown topic ID."
            00                                //   no tagged fields
            00                                // no tagged fields
            """)
    }
}
