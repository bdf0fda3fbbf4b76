import Testing
import TributaryKafkaProtocol
import TributaryWire

/// CreateTopics golden bodies at the lowest (0) and highest (7) supported versions. The bytes were
/// encoded by kafka-python 3.0.12 with Tests/Fixtures/kafka-golden/make_golden.py, not by
/// Tributary: version 7 by `kafka.protocol.admin.CreateTopicsRequest` / `Response`, version 0
/// (dropped from kafka-python's JSON definitions) by the hand-written
/// `kafka.protocol.old.admin.CreateTopicsRequest_v0` / `Response_v0`.
@Suite("CreateTopics")
struct CreateTopicsTests {
    static let topic = CreateTopicsRequest.CreatableTopic(
        name: "orders", numPartitions: -1, replicationFactor: -1,
        assignments: [.init(partitionIndex: 0, brokerIDs: [1, 2]), .init(partitionIndex: 1, brokerIDs: [2, 3])],
        configs: [.init(name: "cleanup.policy", value: "compact"), .init(name: "retention.ms", value: nil)]
    )

    @Test("request v0: explicit assignments, configs with a null value, timeout")
    func requestV0() throws {
        // make_golden.py: CreateTopicsRequest v0
        try expectGolden(CreateTopicsRequest(topics: [Self.topic], timeoutMs: 30_000), version: 0, """
            00000001                          // topics: 1
            0006 6F7264657273                 //   name "orders"
            FFFFFFFF                          //   partitions -1 (from the assignments)
            FFFF                              //   replication factor -1 (from the assignments)
            00000002                          //   assignments: 2
            00000000                          //     partition 0
            00000002 00000001 00000002        //     brokers [1, 2]
            00000001                          //     partition 1
            00000002 00000002 00000003        //     brokers [2, 3]
            00000002                          //   configs: 2
            000E 636C65616E75702E706F6C696379 //     name "cleanup.policy"
            0007 636F6D70616374               //     value "compact"
            000C 726574656E74696F6E2E6D73     //     name "retention.ms"
            FFFF                              //     value null
            00007530                          // timeout 30000 ms
            """)
    }

    @Test("response v0: name and error code only")
    func responseV0() throws {
        // make_golden.py: CreateTopicsResponse v0
        try expectGolden(CreateTopicsResponse(topics: [.init(name: "orders", errorCode: 36)]), version: 0, """
            00000001                  // topics: 1
            0006 6F7264657273         //   name "orders"
            0024                      //   error 36: topic already exists
            """)
    }

    @Test("request v7: validate only, compact types, tagged-field sections")
    func requestV7() throws {
        let request = CreateTopicsRequest(topics: [Self.topic], timeoutMs: 30_000, validateOnly: true)
        // make_golden.py: CreateTopicsRequest v7
        try expectGolden(request, version: 7, """
            02                                // topics: compact 1 + 1
            07 6F7264657273                   //   name "orders"
            FFFFFFFF                          //   partitions -1
            FFFF                              //   replication factor -1
            03                                //   assignments: compact 2 + 1
            00000000                          //     partition 0
            03 00000001 00000002              //     brokers [1, 2]
            00                                //     no tagged fields
            00000001                          //     partition 1
            03 00000002 00000003              //     brokers [2, 3]
            00                                //     no tagged fields
            03                                //   configs: compact 2 + 1
            0F 636C65616E75702E706F6C696379   //     name "cleanup.policy"
            08 636F6D70616374                 //     value "compact"
            00                                //     no tagged fields
            0D 726574656E74696F6E2E6D73       //     name "retention.ms"
            00                                //     value null
            00                                //     no tagged fields
            00                                //   no tagged fields
            00007530                          // timeout 30000 ms
            01                                // validate only
            00                                // no tagged fields
            """)
    }

    @Test("response v7: topic IDs, messages, partition counts, configs, tagged config error")
    func responseV7() throws {
        let response = CreateTopicsResponse(throttleTimeMs: 25, topics: [
            .init(name: "orders", topicID: Golden.topicID, errorCode: 0, errorMessage: nil, numPartitions: 2, replicationFactor: 2,
                  configs: [.init(name: "cleanup.policy", value: "compact", readOnly: false, configSource: 1, isSensitive: false)]),
            .init(name: "audit", topicID: Golden.otherTopicID, errorCode: 0, errorMessage: nil, topicConfigErrorCode: 29,
                  numPartitions: 3, replicationFactor: 1, configs: nil),
        ])
        // make_golden.py: CreateTopicsResponse v7
        try expectGolden(response, version: 7, """
            00000019                          // throttle time 25 ms
            03                                // topics: compact 2 + 1
            07 6F7264657273                   //   name "orders"
            6A1F3C2E9B4D4E8AB7C10D2E3F405162  //   topic id
            0000                              //   error code
            00                                //   error message null
            00000002                          //   partitions 2
            0002                              //   replication factor 2
            02                                //   configs: compact 1 + 1
            0F 636C65616E75702E706F6C696379   //     name "cleanup.policy"
            08 636F6D70616374                 //     value "compact"
            00                                //     read only: false
            01                                //     source 1: dynamic topic config
            00                                //     sensitive: false
            00                                //     no tagged fields
            00                                //   no tagged fields
            06 6175646974                     //   name "audit"
            0F4B8E217C3A4D598E6FA1B2C3D4E5F6  //   topic id
            0000                              //   error code
            00                                //   error message null
            00000003                          //   partitions 3
            0001                              //   replication factor 1
            00                                //   configs: null
            01                                //   tagged fields: 1
            00 02                             //     tag 0 (topic config error code), 2 bytes
            001D                              //       29: topic authorization failed
            00                                // no tagged fields
            """)
    }
}
