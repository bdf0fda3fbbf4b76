import Testing
import TributaryKafkaProtocol
import TributaryWire

/// CreatePartitions golden bodies at the lowest (0) and highest (3) supported versions. The bytes
/// were encoded by kafka-python 3.0.12 (`kafka.protocol.admin.CreatePartitionsRequest` /
/// `Response`) with Tests/Fixtures/kafka-golden/make_golden.py, not by Tributary.
@Suite("CreatePartitions")
struct CreatePartitionsTests {
    static func request(validateOnly: Bool) -> CreatePartitionsRequest {
        CreatePartitionsRequest(topics: [
            .init(name: "orders", count: 4, assignments: [.init(brokerIDs: [1, 2]), .init(brokerIDs: [2, 3])]),
            .init(name: "audit", count: 6, assignments: nil),
        ], timeoutMs: 30_000, validateOnly: validateOnly)
    }

    static let response = CreatePartitionsResponse(throttleTimeMs: 25, results: [
        .init(name: "orders", errorCode: 0, errorMessage: nil),
        .init(name: "audit", errorCode: 37, errorMessage: "Topic already has 6 partitions."),
    ])

    @Test("request v0: new counts, assignments or null, timeout, validate only")
    func requestV0() throws {
        // make_golden.py: CreatePartitionsRequest v0
        try expectGolden(Self.request(validateOnly: false), version: 0, """
            00000002                      // topics: 2
            0006 6F7264657273             //   name "orders"
            00000004                      //   count 4
            00000002                      //   assignments: 2
            00000002 00000001 00000002    //     brokers [1, 2]
            00000002 00000002 00000003    //     brokers [2, 3]
            0005 6175646974               //   name "audit"
            00000006                      //   count 6
            FFFFFFFF                      //   assignments: null (the broker chooses)
            00007530                      // timeout 30000 ms
            00                            // validate only: false
            """)
    }

    @Test("response v0: error messages, null for success")
    func responseV0() throws {
        // make_golden.py: CreatePartitionsResponse v0
        try expectGolden(Self.response, version: 0, """
            00000019                      // throttle time 25 ms
            00000002                      // results: 2
            0006 6F7264657273             //   name "orders"
            0000                          //   error code
            FFFF                          //   error message null
            0005 6175646974               //   name "audit"
            0025                          //   error 37: invalid partitions
            001F 546F70696320616C726561647920686173203620706172746974696F6E732E  // "Topic already has 6 partitions."
            """)
    }

    @Test("request v3: compact types and tagged-field sections")
    func requestV3() throws {
        // make_golden.py: CreatePartitionsRequest v3
        try expectGolden(Self.request(validateOnly: true), version: 3, """
            03                            // topics: compact 2 + 1
            07 6F7264657273               //   name "orders"
            00000004                      //   count 4
            03                            //   assignments: compact 2 + 1
            03 00000001 00000002 00       //     brokers [1, 2], no tagged fields
            03 00000002 00000003 00       //     brokers [2, 3], no tagged fields
            00                            //   no tagged fields
            06 6175646974                 //   name "audit"
            00000006                      //   count 6
            00                            //   assignments: null
            00                            //   no tagged fields
            00007530                      // timeout 30000 ms
            01                            // validate only: true
            00                            // no tagged fields
            """)
    }

    @Test("response v3: compact nullable messages")
    func responseV3() throws {
        // make_golden.py: CreatePartitionsResponse v3
        try expectGolden(Self.response, version: 3, """
            00000019                      // throttle time 25 ms
            03                            // results: compact 2 + 1
            07 6F7264657273               //   name "orders"
            0000                          //   error code
            00                            //   error message null
            00                            //   no tagged fields
            06 6175646974                 //   name "audit"
            0025                          //   error 37: invalid partitions
            20 546F70696320616C726561647920686173203620706172746974696F6E732E  // "Topic already has 6 partitions."
            00                            //   no tagged fields
            00                            // no tagged fields
            """)
    }
}
