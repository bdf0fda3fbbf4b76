import Testing
import TributaryKafkaProtocol
import TributaryWire

/// DescribeConfigs golden bodies at the lowest (0) and highest (4) supported versions. The bytes
/// were encoded by kafka-python 3.0.12 with Tests/Fixtures/kafka-golden/make_golden.py, not by
/// Tributary: version 4 by `kafka.protocol.admin.DescribeConfigsRequest` / `Response`, version 0
/// (dropped from kafka-python's JSON definitions) by the hand-written
/// `kafka.protocol.old.admin.DescribeConfigsRequest_v0` / `Response_v0`.
@Suite("DescribeConfigs")
struct DescribeConfigsTests {
    static let resources: [DescribeConfigsRequest.DescribeConfigsResource] = [
        .init(resourceType: 2, resourceName: "orders", configurationKeys: ["cleanup.policy", "retention.ms"]),
        .init(resourceType: 4, resourceName: "1", configurationKeys: nil),
    ]

    @Test("request v0: resources with named keys or null for all")
    func requestV0() throws {
        // make_golden.py: DescribeConfigsRequest v0
        try expectGolden(DescribeConfigsRequest(resources: Self.resources), version: 0, """
            00000002                          // resources: 2
            02                                //   type 2: topic
            0006 6F7264657273                 //   name "orders"
            00000002                          //   keys: 2
            000E 636C65616E75702E706F6C696379 //     "cleanup.policy"
            000C 726574656E74696F6E2E6D73     //     "retention.ms"
            04                                //   type 4: broker
            0001 31                           //   name "1"
            FFFFFFFF                          //   keys: null (all)
            """)
    }

    @Test("response v0: is-default flag, null values and messages")
    func responseV0() throws {
        let response = DescribeConfigsResponse(throttleTimeMs: 25, results: [
            .init(errorCode: 0, errorMessage: nil, resourceType: 2, resourceName: "orders", configs: [
                .init(name: "cleanup.policy", value: "compact", readOnly: false, isDefault: false, isSensitive: false),
                .init(name: "retention.ms", value: "604800000", readOnly: false, isDefault: true, isSensitive: false),
            ]),
            .init(errorCode: 0, errorMessage: nil, resourceType: 4, resourceName: "1", configs: [
                .init(name: "ssl.key.password", value: nil, readOnly: false, isDefault: false, isSensitive: true),
            ]),
        ])
        // make_golden.py: DescribeConfigsResponse v0
        try expectGolden(response, version: 0, """
            00000019                          // throttle time 25 ms
            00000002                          // results: 2
            0000                              //   error code
            FFFF                              //   error message null
            02                                //   type 2: topic
            0006 6F7264657273                 //   name "orders"
            00000002                          //   configs: 2
            000E 636C65616E75702E706F6C696379 //     name "cleanup.policy"
            0007 636F6D70616374               //     value "compact"
            00 00 00                          //     read only, is default, sensitive: false
            000C 726574656E74696F6E2E6D73     //     name "retention.ms"
            0009 363034383030303030           //     value "604800000"
            00 01 00                          //     read only: false, is default: true, sensitive: false
            0000                              //   error code
            FFFF                              //   error message null
            04                                //   type 4: broker
            0001 31                           //   name "1"
            00000001                          //   configs: 1
            0010 73736C2E6B65792E70617373776F7264  // name "ssl.key.password"
            FFFF                              //     value null (sensitive)
            00 00 01                          //     read only, is default: false, sensitive: true
            """)
    }

    @Test("request v4: synonyms and documentation flags, compact types")
    func requestV4() throws {
        let request = DescribeConfigsRequest(resources: Self.resources, includeSynonyms: true, includeDocumentation: true)
        // make_golden.py: DescribeConfigsRequest v4
        try expectGolden(request, version: 4, """
            03                                // resources: compact 2 + 1
            02                                //   type 2: topic
            07 6F7264657273                   //   name "orders"
            03                                //   keys: compact 2 + 1
            0F 636C65616E75702E706F6C696379   //     "cleanup.policy"
            0D 726574656E74696F6E2E6D73       //     "retention.ms"
            00                                //   no tagged fields
            04                                //   type 4: broker
            02 31                             //   name "1"
            00                                //   keys: null (all)
            00                                //   no tagged fields
            01                                // include synonyms
            01                                // include documentation
            00                                // no tagged fields
            """)
    }

    @Test("response v4: config source, synonyms, config type, documentation")
    func responseV4() throws {
        let response = DescribeConfigsResponse(throttleTimeMs: 25, results: [
            .init(errorCode: 0, errorMessage: nil, resourceType: 2, resourceName: "orders", configs: [
                .init(name: "cleanup.policy", value: "compact", readOnly: false, configSource: 1, isSensitive: false,
                      synonyms: [.init(name: "cleanup.policy", value: "compact", source: 1),
                                 .init(name: "log.cleanup.policy", value: "delete", source: 5)],
                      configType: 7, documentation: "Retention policy for log segments."),
            ]),
            .init(errorCode: 0, errorMessage: nil, resourceType: 4, resourceName: "1", configs: [
                .init(name: "ssl.key.password", value: nil, readOnly: false, configSource: 4, isSensitive: true,
                      synonyms: [], configType: 9, documentation: nil),
            ]),
        ])
        // make_golden.py: DescribeConfigsResponse v4
        try expectGolden(response, version: 4, """
            00000019                          // throttle time 25 ms
            03                                // results: compact 2 + 1
            0000                              //   error code
            00                                //   error message null
            02                                //   type 2: topic
            07 6F7264657273                   //   name "orders"
            02                                //   configs: compact 1 + 1
            0F 636C65616E75702E706F6C696379   //     name "cleanup.policy"
            08 636F6D70616374                 //     value "compact"
            00                                //     read only: false
            01                                //     source 1: dynamic topic config
            00                                //     sensitive: false
            03                                //     synonyms: compact 2 + 1
            0F 636C65616E75702E706F6C696379   //       name "cleanup.policy"
            08 636F6D70616374                 //       value "compact"
            01                                //       source 1: dynamic topic config
            00                                //       no tagged fields
            13 6C6F672E636C65616E75702E706F6C696379  // name "log.cleanup.policy"
            07 64656C657465                   //       value "delete"
            05                                //       source 5: default
            00                                //       no tagged fields
            07                                //     type 7: list
            23 526574656E74696F6E20706F6C69637920666F72206C6F67207365676D656E74732E  // documentation
            00                                //     no tagged fields
            00                                //   no tagged fields
            0000                              //   error code
            00                                //   error message null
            04                                //   type 4: broker
            02 31                             //   name "1"
            02                                //   configs: compact 1 + 1
            11 73736C2E6B65792E70617373776F7264  // name "ssl.key.password"
            00                                //     value null (sensitive)
            00                                //     read only: false
            04                                //     source 4: static broker config
            01                                //     sensitive: true
            01                                //     synonyms: compact 0 + 1
            09                                //     type 9: password
            00                                //     documentation null
            00                                //     no tagged fields
            00                                //   no tagged fields
            00                                // no tagged fields
            """)
    }
}
